import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct TemplateTests {
    static let host = InventoryHost(
        name: "web-1", address: "2001:db8::10", port: 2222, user: "deploy",
        vars: [
            "install_dir": .string("/srv/app"),
            "release_dir": .string("{{ install_dir }}/releases"),
            "loop": .string("{{ loop }}"),
            "db": .map(["port": .string("5432")]),
            "servers": .list([.string("a")]),
        ])

    func render(_ text: String, confidential: Bool = false) -> (String?, [String]) {
        var scope = TemplateScope(
            vars: Self.host.vars, host: Self.host, playbookDir: "playbooks",
            secrets: ["db_password": "pw-value"])
        if confidential { scope.destination = .confidential }
        let template = try! Template.parse(text).get()
        let (text, problems) = scope.render(template)
        return (text, problems.map(\.1.message))
    }

    static let rendered: [(template: String, text: String)] = [
        ("plain text", "plain text"),
        ("{{ install_dir }}/bin", "/srv/app/bin"),
        ("{{install_dir}}", "/srv/app"),
        ("{{ release_dir }}/1", "/srv/app/releases/1"),
        ("{{ db.port }}", "5432"),
        ("{{ host.name }} {{ host.address }} {{ host.port }} {{ host.user }}",
         "web-1 2001:db8::10 2222 deploy"),
        ("{{ playbook_dir }}", "playbooks"),
        ("{{ '{{' }} raw {{ '}}' }}", "{{ raw }}"),
        ("a }} b", "a }} b"),
    ]

    @Test(arguments: rendered)
    func aTemplateRendersVariablesBuiltInsAndLiteralBraces(_ template: String, _ text: String) {
        #expect(render(template).0 == text)
    }

    static let failures: [(template: String, message: String)] = [
        ("{{ install_di }}", "undefined variable 'install_di'; did you mean 'install_dir'?"),
        ("{{ db.host }}", "undefined variable 'db.host': 'db' has no key 'host'"),
        ("{{ servers }}", "variable 'servers' is a list or a mapping; only text can be written "
            + "into a template (use 'servers.KEY' for a mapping's value)"),
        ("{{ loop }}", "in variable 'loop': variable 'loop' refers to itself, directly or "
            + "through others"),
        ("{{ host.ip }}", "'host.ip' is not a built-in; use host.name, host.address, host.port "
            + "or host.user"),
        ("{{ secrets.db_password }}", "secret 'db_password' would appear on a remote command "
            + "line; pass it through env:"),
    ]

    @Test(arguments: failures)
    func anUndefinedOrUnusableVariableIsAnErrorNeverAnEmptyString(_ template: String, _ message: String) {
        let (text, problems) = render(template)
        #expect(text == nil)
        #expect(problems == [message])
    }

    @Test func aSecretRendersOnlyWhereItTravelsConfidentially() {
        #expect(render("pw={{ secrets.db_password }}", confidential: true).0 == "pw=pw-value")
        #expect(render("{{ secrets.nope }}", confidential: true).1
            == ["unknown secret 'nope'; declare it under secrets:"])
    }

    @Test(arguments: ["{{ name", "{{ a b }}", "{{ 'x }}", "{{ }}", "{{ a..b }}", "{{ 'x' y }}"])
    func malformedBracesAreSyntaxErrors(_ text: String) {
        #expect(throws: Template.SyntaxError.self) { try Template.parse(text).get() }
    }

    @Test func aSyntaxErrorPointsAtTheLineAndColumnOfItsBraces() {
        guard case .failure(let error) = Template.parse("one\ntwo {{ x }} {{ y\n") else {
            Issue.record("the unclosed braces were accepted")
            return
        }
        #expect((error.line, error.column) == (2, 13))
    }
}

@Suite struct ValueDescriptionTests {
    @Test func variablesAreShownAsYAMLWouldReadThemBack() {
        let value = Value.map([
            "dir": .string("/srv/app"), "url": .string("http://x"), "list": .list([.string("a")]),
            "empty": .string(""), "multi": .string("a\nb \"c\""),
        ])
        #expect(value.description
            == #"{ dir: /srv/app, empty: "", list: [a], multi: "a\nb \"c\"", url: "http://x" }"#)
    }
}
