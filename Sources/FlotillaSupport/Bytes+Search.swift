// Finding bytes in bytes: the output of every step is scanned for the wrapper's markers, and
// every script for a few words, so the search is memchr for the first byte and memcmp for
// the rest rather than a generic collection search.

#if canImport(Glibc)
import Glibc
#endif

extension RandomAccessCollection where Element == UInt8 {
    /// The offset from `startIndex` of the first occurrence of `pattern`, or nil.
    package func firstOffset(of pattern: [UInt8]) -> Int? {
        guard let first = pattern.first else { return 0 }
        let found = withContiguousStorageIfAvailable { haystack -> Int? in
            pattern.withUnsafeBufferPointer { needle in
                Self.search(haystack, needle, first)
            }
        }
        if let found { return found }
        return Array(self).firstOffset(of: pattern)
    }

    private static func search(
        _ haystack: UnsafeBufferPointer<UInt8>, _ needle: UnsafeBufferPointer<UInt8>,
        _ first: UInt8
    ) -> Int? {
        guard let base = haystack.baseAddress, haystack.count >= needle.count else {
            return nil
        }
        let last = haystack.count - needle.count
        var offset = 0
        while offset <= last {
            guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else {
                return nil
            }
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            if memcmp(base + at, needle.baseAddress!, needle.count) == 0 { return at }
            offset = at + 1
        }
        return nil
    }
}

extension StringProtocol {
    /// Whether the UTF-8 bytes of `text` occur in this text. Matching bytes matches whole
    /// scalars, since no scalar's bytes start inside another's.
    package func containsBytes(of text: String) -> Bool {
        let pattern = Array(text.utf8)
        return utf8.withContiguousStorageIfAvailable { $0.firstOffset(of: pattern) != nil }
            ?? (Array(utf8).firstOffset(of: pattern) != nil)
    }
}
