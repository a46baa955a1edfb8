// A libFuzzer entry point: random bytes go through the same path a user's files do
// (YAML parsing, inventory and playbook checks, templates, plan resolution). Whatever the
// input, loading must end in a value or in diagnostics, never in a crash or a hang.
// Built and run by Fuzz/run.sh.

import FoundationEssentials

#if canImport(Glibc)
import Glibc
#endif

private let scratch: String = {
    let folder = FileManager.default.temporaryDirectory.path + "/flotilla-fuzz-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfigLoading(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let data = Data(bytes: bytes, count: count)
    let file = scratch + "/input.yml"
    // A plain write: FileManager.createFile syncs to disk and would slow fuzzing 50 times.
    guard let handle = fopen(file, "wb") else { return 0 }
    _ = data.withUnsafeBytes { fwrite($0.baseAddress, 1, count, handle) }
    fclose(handle)

    let inventory = try? Inventory.load(
        files: [file], environment: ["HOME": scratch], sshConfig: nil)
    if let inventory {
        _ = try? inventory.select("all,!x*,&y")
    }
    if let playbook = try? Playbook.load(path: file) {
        let host = InventoryHost(name: "h", address: "h", user: "u")
        _ = try? resolvePlans(
            playbook: playbook, hosts: inventory?.hosts ?? [host], extraVars: [:],
            secrets: Secrets(values: [:]), inventory: inventory)
    }
    _ = Template.parse(String(decoding: data, as: UTF8.self))
    _ = DurationText.parse(String(decoding: data, as: UTF8.self))
    _ = HostAddress.parse(String(decoding: data, as: UTF8.self))
    return 0
}
