// Numbers with a fixed count of decimals, for sizes and durations in messages.

#if canImport(Glibc)
import Glibc
#endif

extension Double {
    /// The number with `places` digits after the point, rounded as printf's `%.*f` rounds
    /// the binary value: `0.5` for 0.45 (a little above 0.45 in binary), `1.4` for 1.45 (a
    /// little below), `0.12` for 0.125 (an exact tie goes to the even digit).
    package func text(places: Int) -> String {
        // Enough for the 309 integer digits of the largest double, a sign and the point;
        // durations and sizes need a few.
        let capacity = (magnitude < 1e20 ? 24 : 320) + places
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: capacity) { buffer in
            let count = withVaList([Int32(places), self]) { arguments in
                vsnprintf(buffer.baseAddress, capacity, "%.*f", arguments)
            }
            let bytes = UnsafeRawBufferPointer(start: buffer.baseAddress, count: Int(count))
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
