// A spawned program gets standard input, output and error and nothing else: a descriptor
// this process holds without close-on-exec (a file being written, a socket) must not live
// on in a program that outlasts it. A file still open for writing in another process
// cannot be executed ("Text file busy"), and a socket kept open never sees its end.

#if canImport(Glibc)
import Glibc
#endif

/// Adds to `actions` the closing of every descriptor above standard error. Call it after
/// the actions that move descriptors onto 0, 1 and 2.
package func closeInheritedDescriptors(_ actions: inout posix_spawn_file_actions_t) {
    if let closeFrom = addCloseFrom {
        _ = closeFrom(&actions, 3)
        return
    }
    // Before glibc 2.34: the descriptors open now, as /proc lists them. One closed before
    // the spawn is harmless: glibc ignores a close that finds nothing to close.
    guard let folder = opendir("/proc/self/fd") else { return }
    defer { closedir(folder) }
    var descriptors: [Int32] = []
    while let entry = readdir(folder) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        if let descriptor = Int32(name), descriptor > 2 { descriptors.append(descriptor) }
    }
    let own = dirfd(folder)
    for descriptor in descriptors where descriptor != own {
        posix_spawn_file_actions_addclose(&actions, descriptor)
    }
}

/// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later): a GNU extension,
/// hidden from Swift, so it is looked up by name.
private typealias CloseFrom = @convention(c) (
    UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32
) -> Int32

private let addCloseFrom: CloseFrom? =
    dlsym(nil, "posix_spawn_file_actions_addclosefrom_np").map {
        unsafeBitCast($0, to: CloseFrom.self)
    }
