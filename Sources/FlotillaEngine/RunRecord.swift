// The record of a run, written as `run.json` in the run folder and printed by
// `--output json`. What the recap says comes from here.

import FoundationEssentials

public struct RunRecord: Sendable, Codable, Hashable {
    public struct Options: Sendable, Codable, Hashable {
        public var check: Bool
        public var diff: Bool
        public var forks: Int
        public var resume: Bool
        public var stages: [String]
        /// The run this one continued, with `--resume`.
        public var resumedFrom: String?
    }

    /// A file a step wrote (or would write, with `--check`).
    public struct FileChange: Sendable, Codable, Hashable {
        public var path: String
        public var sha256: String
    }

    public struct StepRecord: Sendable, Codable, Hashable {
        /// `stage/step` indexes, stable across runs of the same playbook; handlers are
        /// `stage/handler:NAME`.
        public var id: String
        public var name: String
        public var status: StepStatus
        /// A failure that `ignore_errors` let pass: the host went on, and the step is counted
        /// as `ignored`, not `failed`.
        public var ignored: Bool
        public var started: Date
        /// Seconds.
        public var duration: Double
        public var message: String?
        /// `exited(N)`, `signalled(NAME)` or `unknown`, when a command ran.
        public var exitStatus: String?
        public var files: [FileChange]
    }

    public struct StageRecord: Sendable, Codable, Hashable {
        public var name: String
        public var steps: [StepRecord]
    }

    public struct HostRecord: Sendable, Codable, Hashable {
        public enum Status: String, Sendable, Codable, Hashable {
            /// Every step of the plan ran (failures ignored by `ignore_errors` included).
            case finished
            case failed
            case unreachable
            case interrupted
            /// The run stopped (`max_failures`) before this host's turn.
            case notRun = "not run"
        }

        public var host: String
        public var address: String
        public var status: Status
        public var summary: HostSummary
        public var stages: [StageRecord]
    }

    public var runID: String
    public var playbook: String
    public var playbookName: String
    public var inventory: [String]
    /// SHA-256 of the playbook and inventory files' contents when the run started.
    public var inputHash: String
    public var started: Date
    public var finished: Date?
    public var exitCode: Int32?
    public var interrupted: Bool
    public var options: Options
    public var hosts: [HostRecord]

    /// `run.json` as written: sorted keys, ISO 8601 dates, indented.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> RunRecord {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(RunRecord.self, from: data)
    }
}
