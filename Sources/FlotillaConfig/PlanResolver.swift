// Turns a playbook into one plan per host: variables merged in the documented order, every
// template rendered, every local file read. A problem found on several hosts is reported
// once, naming the hosts.

import FoundationEssentials

struct PlanResolver {
    let playbook: Playbook
    let secrets: Secrets
    let extraVars: [String: String]
    let inventory: Inventory?
    var log = DiagnosticLog()

    private var playbookDir: String
    private var files: [String: [UInt8]] = [:]
    private var templates: [String: Template] = [:]
    /// Problems by place and message, with the hosts they occurred on.
    private var problems: [(location: SourceLocation?, message: String, hosts: [String])] = []

    init(playbook: Playbook, secrets: Secrets, extraVars: [String: String], inventory: Inventory?) {
        self.playbook = playbook
        self.secrets = secrets
        self.extraVars = extraVars
        self.inventory = inventory
        let folder = LocalPath.folder(of: playbook.path)
        playbookDir = folder.isEmpty ? "." : folder
        if let data = FileManager.default.contents(atPath: playbook.path) {
            log.addSource(file: playbook.path, text: String(decoding: data, as: UTF8.self))
        }
    }

    mutating func plans(for hosts: [InventoryHost]) -> [HostPlan] {
        if let inventory { checkPatterns(inventory) }
        let plans = hosts.map { plan(for: $0) }
        for problem in problems {
            var message = problem.message
            if hosts.count > 1 {
                let names =
                    problem.hosts.count == hosts.count
                    ? "on every host"
                    : (problem.hosts.count == 1 ? "on host " : "on hosts ")
                        + problem.hosts.prefix(3).joined(separator: ", ")
                        + (problem.hosts.count > 3 ? " and \(problem.hosts.count - 3) more" : "")
                message += " (\(names))"
            }
            log.error(message, at: problem.location)
        }
        return plans
    }

    private mutating func checkPatterns(_ inventory: Inventory) {
        for diagnostic in HostPattern.errors(
            for: playbook.hosts, in: inventory, at: playbook.hostsLocation)
        {
            log.add(diagnostic)
        }
        let steps = playbook.stages.flatMap(\.steps) + playbook.handlers.map(\.step)
        for step in steps {
            guard let when = step.when else { continue }
            let at = step.fieldLocations["when"] ?? step.location
            for diagnostic in HostPattern.errors(for: when, in: inventory, at: at) {
                log.add(diagnostic)
            }
        }
    }

    private mutating func plan(for host: InventoryHost) -> HostPlan {
        var vars = host.vars
        vars.merge(playbook.vars) { _, new in new }
        for (name, value) in extraVars { vars[name] = .string(value) }
        let scope = TemplateScope(
            vars: vars, host: host, playbookDir: playbookDir, secrets: secrets.values)

        var stages: [ResolvedStage] = []
        for (stageIndex, stage) in playbook.stages.enumerated() {
            let steps = stage.steps.enumerated().compactMap { stepIndex, step in
                resolve(step, id: "\(stageIndex)/\(stepIndex)", host: host, scope: scope)
            }
            stages.append(ResolvedStage(name: stage.name, parallel: stage.parallel, steps: steps))
        }
        var handlers: [String: ResolvedStep] = [:]
        for handler in playbook.handlers {
            handlers[handler.name] = resolve(
                handler.step, id: "handler:\(handler.name)", host: host, scope: scope)
        }
        return HostPlan(host: host, stages: stages, handlers: handlers)
    }

    // MARK: One step

    private mutating func resolve(
        _ step: Step, id: String, host: InventoryHost, scope: TemplateScope
    ) -> ResolvedStep? {
        var context = StepContext(step: step, host: host.name, scope: scope)
        let kind: ResolvedStep.Kind?
        var sensitive = false
        var mode = step.mode
        var normalized = false

        switch step.kind {
        case .run(let command):
            kind = render(command, "run", &context).map { .run($0) }
        case .script(let path, let args):
            let renderedArgs = args.flatMap { render($0, "args", &context) }
            guard var contents = read(path, at: step.fieldLocations["script"]) else { return nil }
            if step.lineEndings == .normalize, contents.contains(UInt8(ascii: "\r")) {
                contents = Self.normalizingLineEndings(contents)
                normalized = true
            }
            kind = .script(
                localPath: LocalPath.join(playbookDir, path), contents: contents, args: renderedArgs
            )
        case .upload(let from, let to):
            kind = render(to, "to", &context).map {
                .upload(localPath: LocalPath.join(playbookDir, from), to: $0)
            }
        case .template(let from, let to):
            let target = render(to, "to", &context)
            let localPath = LocalPath.join(playbookDir, from)
            guard let contents = renderTemplateFile(localPath, &context), let target else {
                return nil
            }
            // A template that uses secrets is written like a secret: 0600, never shown.
            if context.usedSecret {
                sensitive = true
                mode = mode ?? 0o600
                kind = .secret(contents: contents, to: target)
            } else {
                kind = .template(localPath: localPath, contents: contents, to: target)
            }
        case .secret(let name, let content, let to):
            sensitive = true
            mode = mode ?? 0o600
            let target = render(to, "to", &context)
            var value: String?
            if let name {
                value = secrets.values[name]
                if value == nil {
                    report(
                        "secret '\(name)' was not resolved", at: step.fieldLocations["secret"],
                        context)
                }
            } else if let content {
                value = render(content, "content", &context, confidential: true)
            }
            guard let value, let target else { return nil }
            kind = .secret(contents: Array(value.utf8), to: target)
        case .fetch(let from, let to):
            let source = render(from, "fetch", &context)
            let target = to.flatMap { render($0, "to", &context) }
            kind = source.map { .fetch(from: $0, to: target ?? LocalPath.name(of: $0)) }
        }

        var env: [String: String] = [:]
        for (name, value) in step.env {
            var envContext = context
            envContext.scope.destination = .confidential
            envContext.usedSecret = false
            if let rendered = render(value, "env.\(name)", &envContext, confidential: true) {
                env[name] = rendered
            }
            sensitive = sensitive || envContext.usedSecret
            context.failed = context.failed || envContext.failed
        }
        let cwd = step.cwd.flatMap { render($0, "cwd", &context) }
        let creates = step.creates.flatMap { render($0, "creates", &context) }
        let unless = step.unless.flatMap { render($0, "unless", &context) }
        let owner = step.owner.flatMap { render($0, "owner", &context) }
        let group = step.group.flatMap { render($0, "group", &context) }
        guard let kind, !context.failed else { return nil }

        var resolved = ResolvedStep(
            id: id, displayName: Self.displayName(step), kind: kind,
            selected: step.when.flatMap(HostPattern.init)?.matches(host) ?? true,
            sensitive: sensitive, become: step.become, cwd: cwd, env: env,
            timeout: step.timeout, retries: step.retries, delay: step.delay, creates: creates,
            unless: unless, ignoreErrors: step.ignoreErrors, notify: step.notify, owner: owner,
            group: group, mode: mode, parents: step.parents, location: step.location)
        resolved.lineEndingsNormalized = normalized
        return resolved
    }

    static func displayName(_ step: Step) -> String {
        if let name = step.name { return name }
        switch step.kind {
        case .run(let command):
            let line = command.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            return "run: " + (line.count > 60 ? String(line.prefix(60)) + "…" : line)
        case .script(let path, _): return "script: \(path)"
        case .upload(_, let to): return "upload: \(to)"
        case .template(_, let to): return "template: \(to)"
        case .secret(_, _, let to): return "secret: \(to)"
        case .fetch(let from, _): return "fetch: \(from)"
        }
    }

    static func normalizingLineEndings(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        for (index, byte) in bytes.enumerated() {
            if byte == UInt8(ascii: "\r") {
                let next = index + 1 < bytes.count ? bytes[index + 1] : nil
                if next != UInt8(ascii: "\n") { output.append(UInt8(ascii: "\n")) }
                continue
            }
            output.append(byte)
        }
        return output
    }

    // MARK: Rendering

    private struct StepContext {
        var step: Step
        var host: String
        var scope: TemplateScope
        var usedSecret = false
        var failed = false
    }

    private mutating func render(
        _ text: String, _ key: String, _ context: inout StepContext, confidential: Bool = false
    ) -> String? {
        guard case .success(let template) = Template.parse(text) else { return nil }
        if template.isPlain { return text }
        var scope = context.scope
        scope.destination = confidential ? .confidential : .visible
        let (rendered, found) = scope.render(template)
        context.usedSecret = context.usedSecret || scope.usedSecret
        let at = context.step.fieldLocations[key] ?? context.step.location
        for (expression, problem) in found {
            report(problem.message, at: log.locate(expression.raw, near: at), context)
        }
        if rendered == nil { context.failed = true }
        return rendered
    }

    private mutating func renderTemplateFile(
        _ path: String, _ context: inout StepContext
    ) -> [UInt8]? {
        if templates[path] == nil {
            guard let bytes = read(path, at: nil, joined: false) else { return nil }
            let text = String(decoding: bytes, as: UTF8.self)
            log.addSource(file: path, text: text)
            guard case .success(let template) = Template.parse(text) else { return nil }
            templates[path] = template
        }
        var scope = context.scope
        scope.destination = .confidential
        let (rendered, found) = scope.render(templates[path]!)
        context.usedSecret = context.usedSecret || scope.usedSecret
        for (expression, problem) in found {
            let at = SourceLocation(file: path, line: expression.line, column: expression.column)
            report(problem.message, at: at, context)
        }
        guard let rendered else {
            context.failed = true
            return nil
        }
        return Array(rendered.utf8)
    }

    private mutating func report(
        _ message: String, at location: SourceLocation?, _ context: StepContext
    ) {
        if let index = problems.firstIndex(where: {
            $0.location == location && $0.message == message
        }) {
            if !problems[index].hosts.contains(context.host) {
                problems[index].hosts.append(context.host)
            }
        } else {
            problems.append((location, message, [context.host]))
        }
    }

    private mutating func read(
        _ path: String, at location: SourceLocation?, joined: Bool = true
    ) -> [UInt8]? {
        let full = joined ? LocalPath.join(playbookDir, path) : path
        if let cached = files[full] { return cached }
        guard let data = FileManager.default.contents(atPath: full) else {
            log.error("cannot read \(full)", at: location)
            return nil
        }
        files[full] = Array(data)
        return files[full]
    }
}
