// Paths on this machine named by an inventory or a playbook.

import FoundationEssentials

package enum LocalPath {
    /// The home folder of the user running Flotilla, from the user database.
    package static var home: String {
        FileManager.default.homeDirectoryForCurrentUser.path
    }

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
    package static func join(_ folder: String, _ path: String) -> String {
        if path.hasPrefix("/") { return path }
        if folder.isEmpty || folder == "." { return path }
        return folder.hasSuffix("/") ? folder + path : folder + "/" + path
    }

    /// The folder part of a path: `playbooks` for `playbooks/site.yml`, `/` for `/site.yml`,
    /// and empty for a bare name.
    package static func folder(of file: String) -> String {
        let path = tidied(file)
        guard path != "/" else { return path }
        guard let slash = path.lastIndex(of: "/") else { return "" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// The last component of a path: `site.yml` for `playbooks/site.yml`, `/` for `/`.
    package static func name(of file: String) -> String {
        let path = tidied(file)
        guard path != "/", let slash = path.lastIndex(of: "/") else { return path }
        return String(path[path.index(after: slash)...])
    }

    /// The last component without its extension: `site` for `playbooks/site.yml`; a name
    /// that only starts with a dot, such as `.env`, has none, nor has `..`.
    static func stem(of file: String) -> String {
        let name = name(of: file)
        guard name != "..", let dot = name.lastIndex(of: "."), dot != name.startIndex else {
            return name
        }
        return String(name[..<dot])
    }

    /// Runs of slashes become one, and a trailing slash goes, except in `/` itself.
    private static func tidied(_ path: String) -> String {
        if path == "/" { return path }
        var result = ""
        for character in path where !(character == "/" && result.last == "/") {
            result.append(character)
        }
        if result.hasSuffix("/") { result.removeLast() }
        return result
    }
}
