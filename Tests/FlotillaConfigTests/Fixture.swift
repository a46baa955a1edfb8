// Locates the fixture files and makes messages that name them comparable.

import Foundation
@testable import FlotillaConfig

enum Fixture {
    static let root: String = Bundle.module.path(forResource: "Fixtures", ofType: nil)!

    static func path(_ name: String) -> String { root + "/" + name }

    /// Diagnostics as printed, with the fixture folder cut from paths.
    static func rendered(_ error: DiagnosticError) -> String {
        error.rendered().replacingOccurrences(of: root + "/", with: "")
    }

    static let environment = ["HOME": "/nonexistent-home", "USER": "tester"]

    static func inventory(_ names: String...) throws(DiagnosticError) -> Inventory {
        try Inventory.load(files: names.map(path), environment: environment, sshConfig: nil)
    }

    /// A fresh folder for a test that writes files.
    static func temporaryFolder() -> String {
        let folder = NSTemporaryDirectory() + "flotilla-config-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }
}
