import Testing

/// What a GitHub Actions log must hold, checked line by line: masks first, balanced groups,
/// the expected `::error` annotations, and no secret outside its mask.
struct GitHubLog {
    var lines: [String]

    init(_ text: String) {
        lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }

    /// The leading `::add-mask::` lines.
    var masks: [String] {
        Array(lines.prefix { $0.hasPrefix("::add-mask::") })
    }

    var annotations: [String] {
        lines.filter { $0.hasPrefix("::error") }
    }

    func check(secrets: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        // Every secret is masked, and masks come before anything else.
        for secret in secrets {
            #expect(masks.contains("::add-mask::\(secret)"), sourceLocation: sourceLocation)
        }
        #expect(
            lines.dropFirst(masks.count).allSatisfy { !$0.hasPrefix("::add-mask::") },
            sourceLocation: sourceLocation)

        // Groups open and close in turn, never nested, and none is left open.
        var open: String?
        for line in lines {
            if line.hasPrefix("::group::") {
                #expect(open == nil, "group opened inside \(open ?? "")",
                    sourceLocation: sourceLocation)
                open = line
            } else if line == "::endgroup::" {
                #expect(open != nil, "endgroup without a group", sourceLocation: sourceLocation)
                open = nil
            }
        }
        #expect(open == nil, "a group is left open", sourceLocation: sourceLocation)

        // No secret appears outside its own mask line.
        for line in lines.dropFirst(masks.count) {
            for secret in secrets {
                #expect(!line.contains(secret), "secret printed: \(line)",
                    sourceLocation: sourceLocation)
            }
        }
    }
}
