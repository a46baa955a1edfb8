// Every broken fixture with the exact diagnostics a user sees, as `flotilla validate`
// prints them. A fixture per mistake; the expected text is the contract.

import Foundation
import Testing
@testable import FlotillaConfig

struct BrokenCase: Sendable, CustomTestStringConvertible {
    var fixture: String
    var expected: String

    init(_ fixture: String, _ expected: String) {
        self.fixture = fixture
        self.expected = expected
    }

    var testDescription: String { fixture }
}

@Suite struct BrokenInventoryTests {
    static let cases: [BrokenCase] = [
        BrokenCase(
            "bad-duration.yml",
            #"""
            broken/inventory/bad-duration.yml:2:20: error: 'connect_timeout' needs a unit: write 10s, 10m or 10h (a bare number would be ambiguous)
              connect_timeout: 10
                               ^
            broken/inventory/bad-duration.yml:4:29: error: 'connect_timeout' is not a duration: '10 seconds'; write it like 90s, 15m, 1h, 1m30s or 500ms
              web-1: { connect_timeout: 10 seconds }
                                        ^
            """#),
        BrokenCase(
            "bad-fingerprint.yml",
            #"""
            broken/inventory/bad-fingerprint.yml:2:25: error: 'fingerprint' must be SHA256: and 43 base64 characters, as `ssh-keygen -lf KEY` prints it, not 'MD5:aa:bb'
              web-1: { fingerprint: "MD5:aa:bb" }
                                    ^
            """#),
        BrokenCase(
            "bad-host-keys.yml",
            #"""
            broken/inventory/bad-host-keys.yml:2:14: error: 'host_keys' must be strict or accept-new, not 'accept_new'; did you mean 'accept-new'?
              host_keys: accept_new
                         ^
            """#),
        BrokenCase(
            "bad-ipv6.yml",
            #"""
            broken/inventory/bad-ipv6.yml:2:23: error: bad address: '[2001:db8::10' has '[' without a closing ']'
              v6-open: { address: "[2001:db8::10" }
                                  ^
            broken/inventory/bad-ipv6.yml:3:22: error: bad address: '2001:db8::zz' is not a valid IPv6 address
              v6-hex: { address: "2001:db8::zz" }
                                 ^
            broken/inventory/bad-ipv6.yml:4:24: error: bad address: '[2001:db8::10]x': after ']' only ':PORT' may follow, with a port from 1 to 65535
              v6-after: { address: "[2001:db8::10]x" }
                                   ^
            broken/inventory/bad-ipv6.yml:5:18: error: bad address: '203.0.113.300' is not a valid IPv4 address
              v4: { address: 203.0.113.300 }
                             ^
            """#),
        BrokenCase(
            "bad-name.yml",
            #"""
            broken/inventory/bad-name.yml:2:3: error: 'web,1' cannot name a host: 'all' and the characters , ! & * ? [ ] and spaces have a meaning in host patterns
              "web,1": { address: 203.0.113.10 }
              ^
            broken/inventory/bad-name.yml:3:3: error: 'all' cannot name a host: 'all' and the characters , ! & * ? [ ] and spaces have a meaning in host patterns
              all: {}
              ^
            """#),
        BrokenCase(
            "bad-port.yml",
            #"""
            broken/inventory/bad-port.yml:2:41: error: 'port' must be a whole number from 1 to 65535, not '70000'
              web-1: { address: 203.0.113.10, port: 70000 }
                                                    ^
            broken/inventory/bad-port.yml:3:41: error: 'port' must be a whole number from 1 to 65535, not 'ssh'
              web-2: { address: 203.0.113.11, port: ssh }
                                                    ^
            broken/inventory/bad-port.yml:4:21: error: bad address: '203.0.113.12:0': the part after ':' must be a port from 1 to 65535
              web-3: { address: "203.0.113.12:0" }
                                ^
            """#),
        BrokenCase(
            "cycle.yml",
            #"""
            broken/inventory/cycle.yml:2:19: error: groups form a cycle: a → b → c → a; a group cannot contain itself
              a: { children: [b] }
                              ^
            """#),
        BrokenCase(
            "duplicate-host.yml",
            #"""
            broken/inventory/duplicate-host.yml:4:3: error: duplicate key 'web-1'; it is already set at line 2
              web-1: { address: 203.0.113.12 }
              ^
            """#),
        BrokenCase(
            "duplicate-key.yml",
            #"""
            broken/inventory/duplicate-key.yml:4:3: error: duplicate key 'user'; it is already set at line 2
              user: ops
              ^
            """#),
        BrokenCase(
            "group-host-same-name.yml",
            #"""
            broken/inventory/group-host-same-name.yml:2:3: error: 'web' is both a group and a host; a pattern could not tell them apart, so rename one
              web: { hosts: [web] }
              ^
            """#),
        BrokenCase(
            "missing-identity.yml",
            #"""
            broken/inventory/missing-identity.yml:2:14: error: 'identity': file keys/missing_ed25519 does not exist (looked for broken/inventory/keys/missing_ed25519)
              identity: [keys/missing_ed25519, env:FLOTILLA_UNSET_KEY]
                         ^
            broken/inventory/missing-identity.yml:2:36: error: 'identity': environment variable FLOTILLA_UNSET_KEY is not set; export it or use a file path
              identity: [keys/missing_ed25519, env:FLOTILLA_UNSET_KEY]
                                               ^
            """#),
        BrokenCase(
            "not-utf8.yml",
            #"""
            broken/inventory/not-utf8.yml:2:25: error: the file is not UTF-8 text (invalid trailing UTF-8 octet); save it as UTF-8
              web-1: { address: caf� }
                                    ^
            """#),
        BrokenCase(
            "passphrase-literal.yml",
            #"""
            broken/inventory/passphrase-literal.yml:2:15: error: 'passphrase' must be env:NAME, file:PATH or command:CMD; the value itself does not belong in a file
              passphrase: hunter2
                          ^
            """#),
        BrokenCase(
            "syntax.yml",
            #"""
            broken/inventory/syntax.yml:3:8: error: YAML syntax error: did not find expected ',' or '}' (while parsing a flow mapping at line 2)
              web-2: {}
                   ^
            """#),
        BrokenCase(
            "tabs.yml",
            #"""
            broken/inventory/tabs.yml:3:1: error: tabs are not allowed for indentation; indent with spaces
            	address: 203.0.113.10
            ^
            """#),
        BrokenCase(
            "two-documents.yml",
            #"""
            broken/inventory/two-documents.yml:3:1: error: a file holds one YAML document; remove this '---' and what follows
            ---
            ^
            """#),
        BrokenCase(
            "unknown-jump.yml",
            #"""
            broken/inventory/unknown-jump.yml:2:18: error: host 'web-1' jumps through 'bastoin', which is not a host of the inventory; did you mean 'bastion'?
              web-1: { jump: bastoin }
                             ^
            broken/inventory/unknown-jump.yml:4:19: error: jumps form a loop: loop-a → loop-b → loop-a
              loop-a: { jump: loop-b }
                              ^
            """#),
        BrokenCase(
            "unknown-key.yml",
            #"""
            broken/inventory/unknown-key.yml:3:5: error: unknown key 'adress' in host 'web-1'; did you mean 'address'?
                adress: 203.0.113.10
                ^
            broken/inventory/unknown-key.yml:4:5: error: unknown key 'prot' in host 'web-1'; did you mean 'port'?
                prot: 22
                ^
            broken/inventory/unknown-key.yml:5:5: error: unknown key 'colour' in host 'web-1'; known keys are 'port', 'user', 'identity', 'passphrase', 'known_hosts', 'host_keys', 'connect_timeout', 'path', 'vars', 'address', 'fingerprint', 'jump'
                colour: blue
                ^
            """#),
        BrokenCase(
            "unknown-member.yml",
            #"""
            broken/inventory/unknown-member.yml:3:20: error: group 'web' lists 'web-2', which is not a host of the inventory; did you mean 'web-1'?
                hosts: [web-1, web-2, wbe-1]
                               ^
            broken/inventory/unknown-member.yml:3:27: error: group 'web' lists 'wbe-1', which is not a host of the inventory; did you mean 'web-1'?
                hosts: [web-1, web-2, wbe-1]
                                      ^
            broken/inventory/unknown-member.yml:4:16: error: group 'web' has child 'canray', which is not a group; did you mean 'canary'?
                children: [canray]
                           ^
            """#),
        BrokenCase(
            "wrong-type.yml",
            #"""
            broken/inventory/wrong-type.yml:1:11: error: 'defaults' must be a mapping of keys to values, not a list
            defaults: [user, deploy]
                      ^
            broken/inventory/wrong-type.yml:4:11: error: 'vars' must be a mapping of names to values, not a scalar
                vars: text
                      ^
            broken/inventory/wrong-type.yml:5:11: error: 'path' must be a text value or a list of them, not a mapping
                path: { a: b }
                      ^
            """#),
        BrokenCase(
            "zone.yml",
            #"""
            broken/inventory/zone.yml:2:20: error: bad address: 'fe80::1%eth0': addresses with a zone (%interface) are not supported; use a global or unique-local IPv6 address
              link: { address: "fe80::1%eth0" }
                               ^
            """#),
    ]

    @Test(arguments: cases)
    func aBrokenInventoryIsReportedWithEveryProblemAndItsPlace(_ broken: BrokenCase) {
        do {
            _ = try Fixture.inventory("broken/inventory/" + broken.fixture)
            Issue.record("\(broken.fixture) loaded without an error")
        } catch {
            #expect(Fixture.rendered(error) == broken.expected)
        }
    }
}

@Suite struct BrokenPlaybookTests {
    static let cases: [BrokenCase] = [
        BrokenCase(
            "bad-counts.yml",
            #"""
            playbooks/broken/bad-counts.yml:2:9: error: 'serial' must be a whole number of at least 1 or a percentage like "25%", not '0'
            serial: 0
                    ^
            playbooks/broken/bad-counts.yml:3:15: error: 'max_failures' must be a percentage from 0% to 100%, not '150%'
            max_failures: "150%"
                          ^
            playbooks/broken/bad-counts.yml:5:15: error: 'parallel' must be a whole number of at least 1, not '0'
              - parallel: 0
                          ^
            playbooks/broken/bad-counts.yml:8:18: error: 'retries' must be a whole number from 0 to 1000, not '-1'
                    retries: -1
                             ^
            """#),
        BrokenCase(
            "bad-durations.yml",
            #"""
            playbooks/broken/bad-durations.yml:5:18: error: 'timeout' needs a unit: write 20s, 20m or 20h (a bare number would be ambiguous)
                    timeout: 20
                             ^
            playbooks/broken/bad-durations.yml:6:16: error: 'delay' is not a duration: '3 sec'; write it like 90s, 15m, 1h, 1m30s or 500ms
                    delay: 3 sec
                           ^
            """#),
        BrokenCase(
            "bad-mode.yml",
            #"""
            playbooks/broken/bad-mode.yml:6:15: error: 'mode' must be 3 or 4 octal digits like "0644" or "755", not '0999'
                    mode: "0999"
                          ^
            """#),
        BrokenCase(
            "bare-mode.yml",
            #"""
            playbooks/broken/bare-mode.yml:6:15: error: 'mode' must be quoted, like mode: "0600"; YAML reads a bare 0600 as a decimal or octal number depending on the parser
                    mode: 0600
                          ^
            """#),
        BrokenCase(
            "become-password-unknown.yml",
            #"""
            playbooks/broken/become-password-unknown.yml:2:18: error: 'become_password' names 'sudo_pass', which is not declared under 'secrets'
            become_password: sudo_pass
                             ^
            """#),
        BrokenCase(
            "content-with-run.yml",
            #"""
            playbooks/broken/content-with-run.yml:5:9: error: 'content' is only for secret steps (content: with to:, and no other kind)
                    content: text
                    ^
            playbooks/broken/content-with-run.yml:6:9: error: 'to' is not used by a run step
                    to: /tmp/x
                    ^
            playbooks/broken/content-with-run.yml:7:9: error: 'args' is only for script steps
                    args: --fast
                    ^
            playbooks/broken/content-with-run.yml:8:9: error: 'mode' is only for steps that write a file (upload, template, secret)
                    mode: "0644"
                    ^
            """#),
        BrokenCase(
            "crlf-script.yml",
            #"""
            playbooks/broken/crlf-script.yml:4:17: error: ../files/crlf.sh has CRLF line endings (first at line 1); convert it to LF or set line_endings: normalize
                  - script: ../files/crlf.sh
                            ^
            """#),
        BrokenCase(
            "duplicate-stages.yml",
            #"""
            playbooks/broken/duplicate-stages.yml:5:11: error: two stages are named 'code' (the first at line 3); --stage needs distinct names
              - name: code
                      ^
            """#),
        BrokenCase(
            "missing-env-secret.yml",
            #"""
            playbooks/broken/missing-env-secret.yml:3:10: error: secret 'token': environment variable FLOTILLA_TEST_UNSET_TOKEN is not set
              token: env:FLOTILLA_TEST_UNSET_TOKEN
                     ^
            playbooks/broken/missing-env-secret.yml:4:11: error: secret 'broken': command 'exit 3' exited with status 3
              broken: command:exit 3
                      ^
            """#),
        BrokenCase(
            "missing-files.yml",
            #"""
            playbooks/broken/missing-files.yml:4:17: error: 'upload': ../files/nothing.tar does not exist (paths are relative to the playbook's folder; looked for playbooks/broken/../files/nothing.tar)
                  - upload: ../files/nothing.tar
                            ^
            playbooks/broken/missing-files.yml:6:19: error: 'template': ../templates/none.conf does not exist (paths are relative to the playbook's folder; looked for playbooks/broken/../templates/none.conf)
                  - template: ../templates/none.conf
                              ^
            playbooks/broken/missing-files.yml:8:17: error: 'script': ../files/absent.sh does not exist (paths are relative to the playbook's folder; looked for playbooks/broken/../files/absent.sh)
                  - script: ../files/absent.sh
                            ^
            """#),
        BrokenCase(
            "missing-hosts-and-stages.yml",
            #"""
            playbooks/broken/missing-hosts-and-stages.yml:1:1: error: a playbook needs 'hosts:', the pattern of hosts it runs on (e.g. hosts: all)
            name: empty
            ^
            playbooks/broken/missing-hosts-and-stages.yml:1:1: error: a playbook needs 'stages:', a list of stages with their steps
            name: empty
            ^
            """#),
        BrokenCase(
            "missing-secret-file.yml",
            #"""
            playbooks/broken/missing-secret-file.yml:3:11: error: secret 'dotenv': file ../secrets/none.env does not exist (looked for playbooks/broken/../secrets/none.env)
              dotenv: file:../secrets/none.env
                      ^
            playbooks/broken/missing-secret-file.yml:4:11: error: secret 'inline' must come from env:NAME, file:PATH or command:CMD; the value itself does not belong in a playbook
              inline: hunter2
                      ^
            """#),
        BrokenCase(
            "missing-to.yml",
            #"""
            playbooks/broken/missing-to.yml:4:9: error: an upload step needs 'to:', the path to write on the host
                  - upload: ../files/deploy.sh
                    ^
            """#),
        BrokenCase(
            "no-kind.yml",
            #"""
            playbooks/broken/no-kind.yml:4:9: error: this step does nothing; give it one of run, script, upload, template, secret or fetch
                  - name: nothing
                    ^
            """#),
        BrokenCase(
            "secret-on-command-line.yml",
            #"""
            playbooks/broken/secret-on-command-line.yml:6:30: error: secret 'db_password' would appear on a remote command line; pass it through env:
                  - run: psql --password={{ secrets.db_password }}
                                         ^
            """#),
        BrokenCase(
            "two-kinds.yml",
            #"""
            playbooks/broken/two-kinds.yml:5:9: error: a step does one thing, but this one has both 'run' and 'upload'; split it into two steps
                    upload: ../files/deploy.sh
                    ^
            """#),
        BrokenCase(
            "unclosed-template.yml",
            #"""
            playbooks/broken/unclosed-template.yml:4:14: error: '{{' is never closed by '}}'; to write braces literally, use {{ '{{' }}
                  - run: "echo {{ name"
                         ^
            playbooks/broken/unclosed-template.yml:5:14: error: {{ two words }} is not a variable name; a template holds names like {{ install_dir }} or {{ host.name }}
                  - run: echo {{ two words }}
                         ^
            """#),
        BrokenCase(
            "undeclared-secret.yml",
            #"""
            playbooks/broken/undeclared-secret.yml:6:17: error: secret 'dotenvv' is not declared under 'secrets'; did you mean 'dotenv'?
                  - secret: dotenvv
                            ^
            """#),
        BrokenCase(
            "undefined-handler.yml",
            #"""
            playbooks/broken/undefined-handler.yml:5:17: error: no handler is named 'restart gunicron'; did you mean 'restart gunicorn'?
                    notify: restart gunicron
                            ^
            """#),
        BrokenCase(
            "undefined-in-template.yml",
            #"""
            playbooks/broken/../templates/undefined.conf:3:8: error: undefined variable 'listen_port' (on every host)
            port = {{ listen_port }}
                   ^
            playbooks/broken/../templates/undefined.conf:4:8: error: 'host.usr' is not a built-in; use host.name, host.address, host.port or host.user (on every host)
            user = {{ host.usr }}
                   ^
            """#),
        BrokenCase(
            "undefined-variable.yml",
            #"""
            playbooks/broken/undefined-variable.yml:5:19: error: undefined variable 'ap'; did you mean 'app'? (on every host)
                  - run: echo {{ ap }} from {{ host.name }}
                              ^
            playbooks/broken/undefined-variable.yml:6:20: error: undefined variable 'release' (on every host)
                    cwd: "/srv/{{ release }}"
                               ^
            """#),
        BrokenCase(
            "unknown-step-key.yml",
            #"""
            playbooks/broken/unknown-step-key.yml:6:9: error: unknown key 'retires' in a step; did you mean 'retries'?
                    retires: 3
                    ^
            """#),
        BrokenCase(
            "unknown-when.yml",
            #"""
            playbooks/broken/unknown-when.yml:1:8: error: unknown host or group 'dbs' in pattern 'web,dbs'; did you mean 'db'?
            hosts: web,dbs
                   ^
            playbooks/broken/unknown-when.yml:5:15: error: unknown host or group 'canery' in pattern 'canery'; did you mean 'canary'?
                    when: canery
                          ^
            """#),
        BrokenCase(
            "wrong-types.yml",
            #"""
            playbooks/broken/wrong-types.yml:5:17: error: 'become' must be true or false, not 'yes'
                    become: yes
                            ^
            playbooks/broken/wrong-types.yml:6:14: error: 'env' must be a mapping of names to values, not a list
                    env: [A, B]
                         ^
            playbooks/broken/wrong-types.yml:7:24: error: 'ignore_errors' must be true or false, not 'maybe'
                    ignore_errors: "maybe"
                                   ^
            """#),
    ]

    /// Loading, resolving secrets and rendering for the sample fleet, as `validate` does.
    @Test(arguments: cases)
    func aBrokenPlaybookIsReportedWithEveryProblemAndItsPlace(_ broken: BrokenCase) throws {
        let inventory = try Fixture.inventory("inventory/sample.yml")
        do {
            let path = Fixture.path("playbooks/broken/" + broken.fixture)
            let playbook = try Playbook.load(path: path)
            let secrets = try Secrets.resolve(
                playbook.secrets, relativeTo: Fixture.path("playbooks/broken"),
                environment: Fixture.environment)
            _ = try resolvePlans(
                playbook: playbook, hosts: inventory.hosts, extraVars: [:], secrets: secrets,
                inventory: inventory)
            Issue.record("\(broken.fixture) loaded without an error")
        } catch {
            #expect(Fixture.rendered(error) == broken.expected)
        }
    }
}
