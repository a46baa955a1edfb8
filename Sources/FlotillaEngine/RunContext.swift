// What every host of a run shares: identity of the run, options, where events go.

import Foundation

struct RunContext: Sendable {
    let runID: String
    let runFolder: String
    let options: RunOptions
    let hub: EventHub
    /// Handler names in the order the playbook declares them.
    let handlerOrder: [String]
    /// The sudo password for `become`, already resolved from its secret.
    let becomePassword: String?
    /// The secret name `become_password` refers to, for messages.
    let becomePasswordName: String?
    /// Who takes the host locks: `user@machine`.
    let lockOwner: String
    /// Take the per-host lock (a playbook run does; `exec` does not).
    let takesLock: Bool
    /// With `--resume`: per host, the ids of the steps the previous run finished.
    let finishedSteps: [String: Set<String>]
    let resumedFrom: String?
}
