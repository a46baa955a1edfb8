// Deterministic damage to valid inputs, the kinds text and keys suffer on their way from one
// machine to another: cut short, bytes flipped or lost, lines doubled, line endings changed.

import Foundation

struct InputMutator {
    var generator: SeededGenerator

    init(seed: UInt64) {
        generator = SeededGenerator(seed: seed)
    }

    mutating func int(_ range: ClosedRange<Int>) -> Int {
        Int.random(in: range, using: &generator)
    }

    mutating func pick<T>(_ values: [T]) -> T {
        values[int(0...(values.count - 1))]
    }

    /// `bytes` with one to four random kinds of damage.
    mutating func mutate(_ bytes: [UInt8]) -> [UInt8] {
        var value = bytes
        for _ in 0..<int(1...4) {
            value = damage(value)
        }
        return value
    }

    private mutating func damage(_ bytes: [UInt8]) -> [UInt8] {
        var value = bytes
        guard !value.isEmpty else { return [UInt8(truncatingIfNeeded: int(0...255))] }
        let at = int(0...(value.count - 1))
        switch int(0...8) {
        case 0:
            value.removeSubrange(at...)
        case 1:
            value[at] ^= UInt8(1 << int(0...7))
        case 2:
            value[at] = UInt8(truncatingIfNeeded: int(0...255))
        case 3:
            let end = min(value.count, at + int(1...16))
            value.removeSubrange(at..<end)
        case 4:
            value.insert(contentsOf: pick([[0], [13], [10], [13, 10], [32], [0xEF, 0xBB, 0xBF],
                                           [0xFF, 0xFE], [0xC3], Array("-----".utf8)]), at: at)
        case 5:
            let end = min(value.count, at + int(1...64))
            value.insert(contentsOf: value[at..<end], at: at)
        case 6:
            value = value.flatMap { $0 == 10 ? [13, 10] : [$0] }
        case 7:
            // A non-base64 character where base64 is likely.
            value[at] = pick(Array("!#$%&*?~^".utf8))
        default:
            value.insert(contentsOf: (0..<int(1...32)).map { _ in
                UInt8(truncatingIfNeeded: int(0...255))
            }, at: at)
        }
        return value
    }
}

/// A big-endian uint32 as the SSH wire encoding writes it.
func wireUInt32(_ value: UInt32) -> [UInt8] {
    [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) }
}

/// The big-endian uint32 at `offset`.
func wireUInt32(at offset: Int, in bytes: [UInt8]) -> UInt32 {
    bytes[offset..<offset + 4].reduce(0) { $0 << 8 | UInt32($1) }
}

/// The offsets of the length prefixes of the fields of a wire-encoded blob, read from
/// `start` up to `count` fields or the first field that does not fit.
func wireFieldOffsets(_ bytes: [UInt8], from start: Int = 0, count: Int = .max) -> [Int] {
    var offsets: [Int] = []
    var offset = start
    while offsets.count < count, offset + 4 <= bytes.count {
        let length = Int(wireUInt32(at: offset, in: bytes))
        guard offset + 4 + length <= bytes.count else { break }
        offsets.append(offset)
        offset += 4 + length
    }
    return offsets
}
