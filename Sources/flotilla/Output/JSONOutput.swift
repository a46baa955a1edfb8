import FlotillaConfig
import FlotillaEngine
import FoundationEssentials

/// `--output json`: the run record, exactly as `<runFolder>/run.json` holds it, on stdout,
/// and nothing else there. Problems go to stderr.
final class JSONOutput: RunOutput, @unchecked Sendable {
    private let out: TextOutput
    private let errors: TextOutput

    init(out: TextOutput, errors: TextOutput) {
        self.out = out
        self.errors = errors
    }

    func note(_ text: String) {
        errors.write(lines: [text])
    }

    func receive(_ event: RunEvent) {
        guard case .runFinished(_, _, let runFolder) = event.kind else { return }
        let path = LocalPath.join(runFolder, "run.json")
        guard let data = FileManager.default.contents(atPath: path) else {
            errors.write(lines: ["error: the run record \(path) could not be read"])
            return
        }
        var text = String(decoding: data, as: UTF8.self)
        if !text.hasSuffix("\n") { text += "\n" }
        out.write(text)
    }
}
