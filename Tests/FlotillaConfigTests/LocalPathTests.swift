import Testing

@testable import FlotillaConfig

@Suite struct LocalPathTests {
    static let cases: [(path: String, folder: String, name: String, stem: String)] = [
        ("playbooks/site.yml", "playbooks", "site.yml", "site"),
        ("site.yml", "", "site.yml", "site"),
        ("/site.yml", "/", "site.yml", "site"),
        ("/srv/app/deploy.tar.gz", "/srv/app", "deploy.tar.gz", "deploy.tar"),
        ("a//b/", "a", "b", "b"),
        ("//srv", "/", "srv", "srv"),
        ("./x/../y.yml", "./x/..", "y.yml", "y"),
        ("x/..", "x", "..", ".."),
        ("config/.env", "config", ".env", ".env"),
        ("notes.", "", "notes.", "notes"),
        ("s", "", "s", "s"),
        ("/", "/", "/", "/"),
        ("", "", "", ""),
    ]

    @Test(arguments: cases)
    func aPathSplitsIntoItsFolderAndItsName(
        _ path: String, _ folder: String, _ name: String, _ stem: String
    ) {
        #expect(LocalPath.folder(of: path) == folder)
        #expect(LocalPath.name(of: path) == name)
        #expect(LocalPath.stem(of: path) == stem)
    }
}
