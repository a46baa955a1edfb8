import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct PlaybookTests {
    @Test func loadsEveryKeyOfTheProductExample() throws {
        let playbook = try Playbook.load(path: Fixture.path("playbooks/deploy.yml"))
        #expect(playbook.name == "Deploy musicsamples")
        #expect(playbook.hosts == "web")
        #expect(playbook.serial == .count(1))
        #expect(playbook.maxFailures == .percent(10))
        #expect(playbook.becomePassword == "sas_token")
        #expect(playbook.secrets.map(\.source) == [
            .file("secrets/production.env"), .env("FLOTILLA_TEST_SAS_TOKEN"),
        ])
        #expect(playbook.stages.map(\.name) == ["code", "services"])
        #expect(playbook.stages[1].parallel == 10)

        let upload = playbook.stages[0].steps[0]
        #expect(upload.kind == .upload(from: "files/deploy.sh", to: "{{ install_dir }}/bin/deploy.sh"))
        #expect(upload.mode == 0o755)
        let run = playbook.stages[0].steps[2]
        #expect(run.timeout == .seconds(1200))
        #expect(run.env["DJANGO_SETTINGS_MODULE"] == "{{ django_settings }}")
        let script = playbook.stages[1].steps[1]
        #expect(script.kind == .script(path: "files/check.sh", args: "{{ backend_domain }}"))
        #expect(script.retries == 5)
        #expect(script.delay == .seconds(3))
        #expect(playbook.stages[1].steps[0].when == "canary")
        #expect(playbook.stages[1].steps[2].kind
            == .secret(name: nil, content: "token={{ secrets.sas_token }} for {{ host.name }}", to: "/etc/app/token"))
        #expect(playbook.stages[1].steps[3].kind == .fetch(from: "/var/log/app.log", to: nil))
        #expect(playbook.handlers.map(\.name) == ["restart gunicorn"])
        #expect(playbook.handlers[0].step.become)
    }
}
