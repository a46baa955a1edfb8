// Paths on this machine named by an inventory or a playbook.

import Foundation

enum LocalPath {
    /// Expands `~`, and resolves a relative path against `folder` (the file's own folder).
    /// When that path does not exist but the same path from the current folder does, the
    /// current folder wins: `known_hosts: inventory/known_hosts` is written from the project
    /// root in PRODUCT's examples.
    static func resolve(_ text: String, folder: String, home: String) -> String {
        if text == "~" { return home }
        if text.hasPrefix("~/") { return home + text.dropFirst(1) }
        if text.hasPrefix("/") { return text }
        let fromFolder = join(folder, text)
        if FileManager.default.fileExists(atPath: fromFolder) { return fromFolder }
        if FileManager.default.fileExists(atPath: text) { return text }
        return fromFolder
    }

    /// `folder/path`, or `path` alone when the folder is the current one.
    static func join(_ folder: String, _ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if folder.isEmpty || folder == "." { return path }
        return folder.hasSuffix("/") ? folder + path : folder + "/" + path
    }

    static func folder(of file: String) -> String {
        (file as NSString).deletingLastPathComponent
    }
}
