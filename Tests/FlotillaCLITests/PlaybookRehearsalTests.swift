// Rehearses the musicsamples playbooks with the built `flotilla` on a sandbox fleet whose
// hosts carry stand-ins for git, pip, python, pnpm, pm2, systemctl, nginx, certbot, curl,
// sqlite3 and sudo (Rehearsal/standin.sh). What is checked is what a user checks after a
// real deploy: which programs ran in which order, the modes of the secret files, that a
// failed health check puts the previous commit back, and that a rollout stops at the
// first bad host.

import FlotillaSandbox
import Foundation
import Testing

@Suite("The musicsamples playbooks and the demo", .serialized)
struct PlaybookRehearsalTests {
    static let musicsamplesPlaybooks = ["deploy.yml", "rollout.yml", "backup.yml", "redeploy.yml"]

    @Test(
        "Every musicsamples playbook passes validate with the production and staging inventories",
        arguments: musicsamplesPlaybooks, ["production.yml", "staging.yml"])
    func validatesWithTheRealInventories(playbook: String, inventory: String) async throws {
        let result = try await flotilla(
            ["validate", "playbooks/\(playbook)", "-i", "inventory/\(inventory)"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ok: "), "\(result.stdout)")
    }

    @Test("Rollout runs exactly the stages, handlers and secrets of deploy")
    func rolloutMatchesDeploy() async throws {
        let deploy = try playbookLines("deploy.yml")
        let rollout = try playbookLines("rollout.yml")
        let from = { (lines: [String]) in lines.drop { !$0.hasPrefix("vars:") } }
        #expect(!from(deploy).isEmpty)
        #expect(Array(from(rollout)) == Array(from(deploy)))
        #expect(rollout.contains("serial: 1"))
        #expect(rollout.contains("max_failures: 0"))
    }

    @Test(
        "A block that several playbooks write is the same in each of them",
        arguments: [
            (".env: keep this block identical", ["deploy.yml", "rollout.yml", "redeploy.yml"]),
            ("backup-secrets: keep this block identical", ["backup.yml", "redeploy.yml"]),
        ])
    func sharedBlocksAgree(marker: String, playbooks: [String]) throws {
        var blocks: [[String]] = []
        for playbook in playbooks {
            let lines = try playbookLines(playbook)
            let start = try #require(
                lines.firstIndex { $0.contains(marker) }, "\(playbook) lacks '\(marker)'")
            // From the step after the marker to its `to:` line.
            let end = try #require(
                lines[start...].firstIndex { $0.trimmingCharacters(in: .whitespaces)
                    .hasPrefix("to:") })
            blocks.append(lines[(start + 1)...end].map {
                $0.trimmingCharacters(in: .whitespaces)
            })
        }
        for (playbook, block) in zip(playbooks, blocks).dropFirst() {
            #expect(block == blocks[0], "\(playbook) differs from \(playbooks[0])")
        }
    }

    @Test("The demo runs green on the sandbox twice, its secret at 0600 and never printed")
    func demoRunsGreen() async throws {
        // A name prefix of its own: sandbox users are per host name, shared by every fleet
        // on the machine, and another test's run would hold their locks.
        let options = try SandboxOptions.temporary(count: 3, namePrefix: "demo-")
        try await SandboxFleet.withFleet(options) { fleet in
            let logs = fleet.folder + "/runs"
            let inventory = ["-i", fleet.inventoryPath]
            let validation = try await flotilla(["validate", "playbooks/demo.yml"] + inventory)
            #expect(validation.status == 0, "\(validation.stderr)")

            let token = try String(
                contentsOf: packageRoot.appendingPathComponent("playbooks/files/demo-secret.txt"),
                encoding: .utf8
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            let plain = ["--output", "plain", "-v", "--logs", logs] + inventory
            var printed = ""
            for attempt in 1...2 {
                let run = try await flotilla(["run", playbook("demo.yml")] + plain)
                #expect(run.status == 0, "run \(attempt):\n\(run.stdout)\n\(run.stderr)")
                printed += run.stdout + run.stderr
                // The handler runs where the template changed: everywhere, then nowhere.
                let handled = run.stdout.components(separatedBy: "show the status page").count - 1
                #expect(attempt == 1 ? handled >= fleet.hosts.count : handled == 0, "\(handled)")
            }
            let fetched = FileManager.default.enumerator(atPath: logs)?
                .compactMap { $0 as? String }.filter { $0.hasSuffix("/status.txt") } ?? []
            #expect(fetched.count == 2 * fleet.hosts.count, "\(fetched)")
            for host in fleet.hosts {
                let attributes = try FileManager.default.attributesOfItem(
                    atPath: host.home + "/flotilla-demo/token")
                #expect((attributes[.posixPermissions] as? Int) == 0o600, "\(host.name)")
            }
            let logged = try Rehearsal.contents(of: logs)

            #expect(!printed.contains(token))
            #expect(!logged.contains(token))
            // scripts/demo.sh runs the demo by a relative path from the package folder.
            let run = try await flotilla(["run", "playbooks/demo.yml"] + plain)
            #expect(run.status == 0, "\(run.stdout)\n\(run.stderr)")
        }
    }

    @Test("Deploy checks out the commit, then runs backend, frontend and services in order")
    func deployRunsInOrder() async throws {
        try await Rehearsal.with(hosts: 1) { rehearsal in
            let host = rehearsal.hosts[0]
            let install = rehearsal.root(host) + "/musicsamples"
            let state = rehearsal.root(host) + "/.musicsamples"

            let result = try await rehearsal.flotilla(
                ["run", playbook("deploy.yml"), "-e", "commit=c0ffee"])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let calls = try rehearsal.calls(host)
            expectInOrder(calls, run: result, [
                "sudo -n -l systemctl restart gunicorn.service",
                "git -C \(install) status --porcelain",
                "sqlite3 \(install)/production.sqlite3 .backup",
                "sudo -n nginx -t",
                "sudo -n systemctl reload nginx",
                "git -C \(install) rev-parse HEAD",
                "git -C \(install) fetch --prune origin",
                "git -C \(install) checkout --detach c0ffee",
                "pip install --disable-pip-version-check -q -r requirements.txt",
                "python manage.py migrate --noinput",
                "python manage.py collectstatic --noinput",
                "pnpm install --frozen-lockfile",
                "pnpm run build",
                "pm2 startOrReload \(state)/ecosystem.config.js --update-env",
                "pm2 save",
                "sudo -n systemctl restart gunicorn.service",
                "curl -sS -o /dev/null",
                "pm2 pid music-frontend",
            ])
            #expect(!calls.contains { $0.hasSuffix("--detach \(Rehearsal.previousCommit)") })
            #expect(!FileManager.default.fileExists(atPath: state + "/rollback-needed"))
            #expect(try rehearsal.head(host) == "c0ffee")
            #expect(try rehearsal.mode(host, "musicsamples/.env") == 0o600)
            #expect(try rehearsal.mode(host, "musicsamples/frontend/.env.production") == 0o600)
            let dotenv = try String(contentsOfFile: install + "/.env", encoding: .utf8)
            #expect(dotenv.contains("SECRET_KEY=\(Rehearsal.secrets["DJANGO_SECRET_KEY"]!)\n"))
            #expect(dotenv.contains("DB_NAME=\(install)/production.sqlite3\n"))
            try rehearsal.expectNoSecretOutside(host)

            // The same commit again: nginx's files did not change, so it is not reloaded.
            try rehearsal.clearCalls(host)
            let again = try await rehearsal.flotilla(
                ["run", playbook("deploy.yml"), "-e", "commit=c0ffee"])
            #expect(again.status == 0, "\(again.stdout)\n\(again.stderr)")
            let secondCalls = try rehearsal.calls(host)
            #expect(secondCalls.contains("sudo -n systemctl restart gunicorn.service"))
            #expect(!secondCalls.contains { $0.contains("reload nginx") }, "\(secondCalls)")
        }
    }

    @Test("A failing health check puts the previous commit back, deploys it, and fails")
    func failedHealthCheckRollsBack() async throws {
        try await Rehearsal.with(hosts: 1) { rehearsal in
            let host = rehearsal.hosts[0]
            let install = rehearsal.root(host) + "/musicsamples"
            try rehearsal.makeFail("curl", on: host)

            let result = try await rehearsal.flotilla(
                ["run", playbook("deploy.yml"), "-e", "commit=badc0de"])
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(try rehearsal.head(host) == Rehearsal.previousCommit)

            let calls = try rehearsal.calls(host)
            expectInOrder(calls, run: result, [
                "git -C \(install) checkout --detach badc0de",
                "sudo -n systemctl restart gunicorn.service",
                "curl -sS -o /dev/null",
                "git -C \(install) checkout --detach \(Rehearsal.previousCommit)",
                "pip install --disable-pip-version-check -q -r requirements.txt",
                "python manage.py collectstatic --noinput",
                "pnpm install --frozen-lockfile",
                "pnpm run build",
                "pm2 startOrReload",
                "sudo -n systemctl restart gunicorn.service",
            ])
            // Migrations are never reversed by the roll back.
            let rollBack = calls.drop { !$0.hasSuffix("--detach \(Rehearsal.previousCommit)") }
            #expect(!rollBack.contains { $0.contains("migrate --noinput") })
            #expect(try rehearsal.logs().contains(
                "the health check failed on \(host.name) with badc0de;"
                    + " rolled back to \(Rehearsal.previousCommit)"))
        }
    }

    @Test("A commit whose build fails skips the rest of the deploy and is rolled back")
    func failedBuildRollsBack() async throws {
        try await Rehearsal.with(hosts: 1) { rehearsal in
            let host = rehearsal.hosts[0]
            let install = rehearsal.root(host) + "/musicsamples"
            try rehearsal.makeFail("pnpm", on: host, whileAt: "badc0de")

            let result = try await rehearsal.flotilla(
                ["run", playbook("deploy.yml"), "-e", "commit=badc0de"])
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(try rehearsal.head(host) == Rehearsal.previousCommit)

            // Nothing after the failed install ran on the broken commit: no reload, no
            // restart, no health check; the previous commit was built and started instead.
            let calls = try rehearsal.calls(host)
            let failed = try #require(calls.firstIndex(of: "pnpm install --frozen-lockfile"))
            let back = try #require(calls.firstIndex {
                $0 == "git -C \(install) checkout --detach \(Rehearsal.previousCommit)"
            })
            let skipped = calls[(failed + 1)..<back].filter {
                $0.hasPrefix("pm2") || $0.contains("systemctl") || $0.hasPrefix("curl")
                    || $0.hasPrefix("pnpm")
            }
            #expect(skipped.isEmpty, "\(skipped)")
            expectInOrder(Array(calls[back...]), run: result, [
                "git -C \(install) checkout --detach \(Rehearsal.previousCommit)",
                "pnpm install --frozen-lockfile",
                "pnpm run build",
                "pm2 startOrReload",
                "sudo -n systemctl restart gunicorn.service",
                "curl -sS -o /dev/null",
            ])
            #expect(try rehearsal.logs().contains(
                "a deploy step failed on \(host.name) with badc0de;"
                    + " rolled back to \(Rehearsal.previousCommit)"))
        }
    }

    @Test("The rollout stops at the first host whose health check fails")
    func rolloutStopsAtFirstFailure() async throws {
        try await Rehearsal.with(hosts: 3) { rehearsal in
            let hosts = rehearsal.hosts
            let (first, failing, last) = (hosts[0], hosts[1], hosts[2])
            try rehearsal.makeFail("curl", on: failing)

            let result = try await rehearsal.flotilla(
                ["run", playbook("rollout.yml"), "-e", "commit=c0ffee"])
            #expect(result.status == 1, "\(result.stdout)\n\(result.stderr)")
            #expect(try rehearsal.head(first) == "c0ffee")
            #expect(try rehearsal.head(failing) == Rehearsal.previousCommit)
            #expect(try rehearsal.calls(failing).contains {
                $0.hasSuffix("checkout --detach \(Rehearsal.previousCommit)")
            })
            #expect(try rehearsal.head(last) == Rehearsal.previousCommit)
            let untouched = try rehearsal.calls(last)
            #expect(untouched.isEmpty, "\(untouched)")
        }
    }

    @Test("Backup writes its secrets at 0600, keeps the SAS token off command lines, checks it")
    func backupArrives() async throws {
        try await Rehearsal.with(hosts: 1) { rehearsal in
            let host = rehearsal.hosts[0]
            let result = try await rehearsal.flotilla(["run", playbook("backup.yml")])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            #expect(try rehearsal.mode(host, "azure_backup_secrets") == 0o600)
            #expect(try rehearsal.mode(host, "bin/db_backup.sh") == 0o755)
            expectInOrder(try rehearsal.calls(host), run: result, [
                "sqlite3 \(rehearsal.root(host))/musicsamples/production.sqlite3 .backup",
                "sqlite3 \(rehearsal.root(host))/db_backups/",
                "curl -sS -K - -X PUT -T \(rehearsal.root(host))/db_backups/",
                "curl -sS -K - --head",
            ])
            try rehearsal.expectNoSecretOutside(host)
        }
    }

    @Test("Redeploy passes validate on the sandbox and --check changes nothing there")
    func redeployChecks() async throws {
        try await Rehearsal.with(hosts: 1) { rehearsal in
            let host = rehearsal.hosts[0]
            for name in Self.musicsamplesPlaybooks {
                let validation = try await rehearsal.flotilla(
                    ["validate", playbook(name)], runOptions: false)
                #expect(validation.status == 0, "\(name): \(validation.stderr)")
            }

            let result = try await rehearsal.flotilla(["run", playbook("redeploy.yml"), "--check"])
            #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
            let changing = try rehearsal.calls(host).filter { call in
                ["checkout", "clone", "pip install", "pnpm", "pm2 start", "certbot", "restart",
                 "reload", "migrate --noinput"].contains { call.contains($0) }
            }
            #expect(changing.isEmpty, "\(changing)")
            let files = ["musicsamples/.env", "azure_backup_secrets", "etc/nginx/sites-available"
                + "/musicsamples", "etc/systemd/system/gunicorn.service"]
            for file in files {
                #expect(!FileManager.default.fileExists(atPath: rehearsal.root(host) + "/" + file))
            }
        }
    }
}

// MARK: - The rehearsal fleet

/// A sandbox fleet dressed as musicsamples servers. Each host gets a folder of its own (its
/// `deploy_home`) holding a stand-in checkout, stand-in programs and their calls log; the
/// inventory takes production's variables with every path moved into that folder.
private struct Rehearsal: Sendable {
    static let previousCommit = "previous-commit-1111"
    static let standIns = [
        "git", "pip", "python", "pnpm", "pm2", "systemctl", "nginx", "certbot", "curl",
        "sqlite3", "sudo",
    ]
    /// Fake values for every secret the playbooks declare; none may appear in a calls log
    /// or a run log.
    static let secrets = [
        "DJANGO_SECRET_KEY": "rehearsal-django-key-5b1e0c",
        "SES_AWS_ACCESS_KEY_ID": "rehearsal-ses-id-77aa",
        "SES_AWS_SECRET_ACCESS_KEY": "rehearsal-ses-secret-91fd",
        "AZURE_ACCOUNT_KEY": "rehearsal-azure-account-3c2b",
        "AZURE_STORAGE_CONNECTION_STRING": "rehearsal-azure-connection-6e0d",
        "AZURE_BACKUP_SAS_URL": "https://rehearsal.blob.example/backups",
        "AZURE_BACKUP_SAS_TOKEN": "?sv=2024&sig=rehearsal-sas-signature-9d2c",
        "MUSICSAMPLES_SUDO_PASSWORD": "rehearsal-sudo-password-40f1",
    ]

    let fleet: SandboxFleet
    /// Holds one folder per host, the inventory and the run logs.
    let folder: String
    let inventory: String
    var hosts: [SandboxHost] { fleet.hosts }

    /// Starts a fleet of `count` hosts, dresses it, runs `body`, and removes everything.
    static func with(
        hosts count: Int, _ body: (Rehearsal) async throws -> Void
    ) async throws {
        // A name prefix of its own: sandbox users are per host name, shared by every fleet
        // on the machine, and another test's run would hold their locks.
        let options = try SandboxOptions.temporary(count: count, namePrefix: "rehearsal-")
        try await SandboxFleet.withFleet(options) { fleet in
            let folder = FileManager.default.temporaryDirectory
                .appendingPathComponent("flotilla-rehearsal-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: folder) }
            try await body(try Rehearsal(fleet: fleet, folder: folder))
        }
    }

    private init(fleet: SandboxFleet, folder: String) throws {
        self.fleet = fleet
        self.folder = folder
        inventory = folder + "/rehearsal.yml"
        // Each host's user must reach its own folder inside this one.
        try FileManager.default.createDirectory(
            atPath: folder, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o755])

        var yaml = [
            "defaults:",
            "  identity: \"\(fleet.identityFile)\"",
            "  known_hosts: \"\(fleet.knownHostsFile)\"",
            "  host_keys: strict",
            "groups:",
            "  web:",
            "    hosts: [\(fleet.hosts.map(\.name).joined(separator: ", "))]",
            "hosts:",
        ]
        for host in fleet.hosts {
            try dress(host)
            yaml += [
                "  \(host.name):",
                "    address: \(host.address)",
                "    port: \(host.port)",
                "    user: \(host.user)",
                "    path: [\"\(root(host))/standins\"]",
                "    vars:",
            ]
            for (key, value) in try Self.variables(for: host, root: root(host)) {
                yaml.append("      \(key): \(value)")
            }
        }
        try (yaml.joined(separator: "\n") + "\n").write(
            toFile: inventory, atomically: true, encoding: .utf8)
    }

    func root(_ host: SandboxHost) -> String { folder + "/" + host.name }

    /// The folder a host deploys into: a checkout at the previous commit with a database,
    /// the stand-ins, the folders the playbooks write to under /etc on a real server.
    private func dress(_ host: SandboxHost) throws {
        let root = root(host)
        let folders = [
            "standins", "musicsamples/venv/bin", "musicsamples/frontend",
            "etc/nginx/sites-available", "etc/nginx/sites-enabled", "etc/systemd/system",
            "etc/sudoers.d", "etc/ssh/sshd_config.d", "etc/letsencrypt",
        ]
        for name in folders {
            try FileManager.default.createDirectory(
                atPath: root + "/" + name, withIntermediateDirectories: true)
        }
        let template = try String(
            contentsOf: try #require(Bundle.module.url(
                forResource: "standin", withExtension: "sh", subdirectory: "Rehearsal")),
            encoding: .utf8)
        let program = "#!/usr/bin/env bash\nROOT='\(root)'\n" + template
        let places = Self.standIns.map { "standins/\($0)" }
            + ["musicsamples/venv/bin/python", "musicsamples/venv/bin/pip"]
        for place in places {
            try write(program, to: root + "/" + place, mode: 0o755)
        }
        try write(Self.previousCommit + "\n", to: root + "/HEAD", mode: 0o644)
        try write("SQLite stand-in\n", to: root + "/musicsamples/production.sqlite3", mode: 0o600)
        try write("", to: root + "/calls.log", mode: 0o666)
        if geteuid() == 0 { try Self.chown(root, to: host.user) }
    }

    /// Production's variables for this host: paths moved into `root`, the sandbox's user,
    /// local names, and preflight minimums any machine meets.
    private static func variables(
        for host: SandboxHost, root: String
    ) throws -> [(String, String)] {
        let text = try String(
            contentsOf: FlotillaProcess.packageRoot
                .appendingPathComponent("inventory/production.yml"),
            encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex(of: "  vars:")) + 1
        var variables: [(String, String)] = []
        for line in lines[start...] {
            if !line.isEmpty && !line.hasPrefix("    ") { break }
            let entry = line.trimmingCharacters(in: .whitespaces)
            guard !entry.hasPrefix("#"), let colon = entry.firstIndex(of: ":") else { continue }
            let key = String(entry[..<colon])
            var value = entry[entry.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "deploy_user", "deploy_group": value = host.user
            case "backend_domain": value = "samples.\(host.name).test"
            case "frontend_domain": value = "app.\(host.name).test"
            case "backend_url": value = "https://samples.\(host.name).test"
            case "min_free_disk_mb", "min_free_memory_mb": value = "1"
            default:
                if value.hasPrefix("/home/gtrac") {
                    value = root + value.dropFirst("/home/gtrac".count)
                } else if value.hasPrefix("/") {
                    value = root + value
                }
            }
            variables.append((key, value))
        }
        return variables
    }

    /// Runs `flotilla` from the package folder with every secret set, against this fleet.
    func flotilla(
        _ arguments: [String], runOptions: Bool = true
    ) async throws -> FlotillaProcess.Result {
        var all = arguments + ["-i", inventory]
        if runOptions { all += ["--logs", folder + "/runs", "--output", "plain", "-v"] }
        return try await PlaybookRehearsalTests.flotillaOffThePool(
            all, environment: Self.secrets, timeout: 300)
    }

    func calls(_ host: SandboxHost) throws -> [String] {
        try String(contentsOfFile: root(host) + "/calls.log", encoding: .utf8)
            .split(separator: "\n").map(String.init)
    }

    func clearCalls(_ host: SandboxHost) throws {
        try write("", to: root(host) + "/calls.log", mode: 0o666)
    }

    func head(_ host: SandboxHost) throws -> String {
        try String(contentsOfFile: root(host) + "/HEAD", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func mode(_ host: SandboxHost, _ path: String) throws -> Int? {
        try FileManager.default.attributesOfItem(atPath: root(host) + "/" + path)[
            .posixPermissions] as? Int
    }

    /// Makes the stand-in `program` fail on `host` from now on, or only while `commit` is
    /// checked out.
    func makeFail(_ program: String, on host: SandboxHost, whileAt commit: String = "") throws {
        try write(commit, to: root(host) + "/.fail-\(program)", mode: 0o644)
    }

    /// Everything the runs wrote: per-host logs and run.json.
    func logs() throws -> String { try Self.contents(of: folder + "/runs") }

    /// No secret value in the host's calls log (the programs' arguments) or in the logs.
    func expectNoSecretOutside(
        _ host: SandboxHost, sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let calls = try calls(host).joined(separator: "\n")
        let logs = try logs()
        for (name, value) in Self.secrets {
            #expect(!calls.contains(value), "\(name) in a command line",
                    sourceLocation: sourceLocation)
            #expect(!logs.contains(value), "\(name) in the run logs",
                    sourceLocation: sourceLocation)
        }
    }

    static func contents(of folder: String) throws -> String {
        guard let files = FileManager.default.enumerator(atPath: folder) else { return "" }
        var text = ""
        for case let file as String in files {
            if let data = FileManager.default.contents(atPath: folder + "/" + file) {
                text += String(decoding: data, as: UTF8.self)
            }
        }
        return text
    }

    /// Writes with close-on-exec: a program another test starts at that moment must not
    /// inherit the descriptor, or running the stand-in later fails with "Text file busy".
    private func write(_ text: String, to path: String, mode: Int) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode_t(mode))
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        let file = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
        try file.write(contentsOf: Data(text.utf8))
        try file.close()
        try FileManager.default.setAttributes([.posixPermissions: mode], ofItemAtPath: path)
    }

    private static func chown(_ path: String, to user: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/chown")
        process.arguments = ["-R", user, path]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "chown -R \(user) \(path)")
    }
}

// MARK: - Running flotilla

extension PlaybookRehearsalTests {
    static var packageRoot: URL { FlotillaProcess.packageRoot }
    var packageRoot: URL { FlotillaProcess.packageRoot }

    /// The absolute path of a playbook of this repository.
    static func playbook(_ name: String) -> String {
        packageRoot.appendingPathComponent("playbooks/\(name)").path
    }

    func playbook(_ name: String) -> String { Self.playbook(name) }

    func playbookLines(_ name: String) throws -> [String] {
        try String(
            contentsOf: packageRoot.appendingPathComponent("playbooks/\(name)"), encoding: .utf8
        ).components(separatedBy: "\n")
    }

    /// Runs `flotilla` with the deploy keys the inventories name set: loading an inventory
    /// reads `identity: env:NAME`, and validating needs no real key.
    func flotilla(_ arguments: [String]) async throws -> FlotillaProcess.Result {
        let keys = ["PROD_SSH_KEY": "unused", "STAGING_SSH_KEY": "unused"]
        return try await Self.flotillaOffThePool(arguments, environment: keys, timeout: 300)
    }

    /// Runs `flotilla` from the package folder on a thread of its own: the process runs for
    /// many seconds and must not hold one of the few threads of Swift's pool meanwhile.
    static func flotillaOffThePool(
        _ arguments: [String], environment: [String: String], timeout: TimeInterval
    ) async throws -> FlotillaProcess.Result {
        try await FlotillaProcess.run(
            arguments, environment: environment, in: packageRoot, timeout: timeout)
    }
}

/// Checks that `calls` holds a line starting with each of `expected`, in that order, and
/// names the first one missing, with what the run printed.
private func expectInOrder(
    _ calls: [String], run: FlotillaProcess.Result? = nil, _ expected: [String],
    sourceLocation: SourceLocation = #_sourceLocation
) {
    var next = calls.startIndex
    for prefix in expected {
        guard let found = calls[next...].firstIndex(where: { $0.hasPrefix(prefix) }) else {
            var message = "no call starting with '\(prefix)' after the ones before it; calls:\n"
                + calls.joined(separator: "\n")
            if let run { message += "\nthe run printed:\n\(run.stdout)\n\(run.stderr)" }
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
            return
        }
        next = found + 1
    }
}
