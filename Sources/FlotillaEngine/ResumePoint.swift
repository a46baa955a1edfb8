// `--resume`: the last run of the same playbook and inventory, and per host the steps it
// finished, so each host starts at the first step it did not finish.

import FoundationEssentials

struct ResumePoint: Sendable {
    var runID: String
    /// Per host, the ids of the steps that ended ok, changed or skipped (or failed with
    /// `ignore_errors`).
    var finished: [String: Set<String>]

    /// The newest run folder under `logsFolder` whose `run.json` names the same playbook and
    /// inventory files.
    static func find(
        logsFolder: String, playbook: String, inventory: [String], excluding runID: String
    ) -> ResumePoint? {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: logsFolder)) ?? []
        for name in names.sorted(by: >) where name != runID {
            let file = logsFolder + "/" + name + "/run.json"
            guard let data = FileManager.default.contents(atPath: file),
                let record = try? RunRecord.decode(data),
                record.playbook == playbook, record.inventory == inventory
            else { continue }
            var finished: [String: Set<String>] = [:]
            for host in record.hosts {
                let done = host.stages.flatMap(\.steps).filter {
                    $0.status == .ok || $0.status == .changed || $0.status == .skipped
                        || $0.ignored
                }
                finished[host.host] = Set(done.map(\.id))
            }
            return ResumePoint(runID: record.runID, finished: finished)
        }
        return nil
    }
}
