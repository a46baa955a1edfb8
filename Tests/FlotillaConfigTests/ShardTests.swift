import Foundation
import Testing
@testable import FlotillaConfig

@Suite struct ShardTests {
    static func hosts(_ count: Int) -> [InventoryHost] {
        (1...count).map {
            InventoryHost(name: "host-\($0)", address: "10.0.0.\($0 % 250)", user: "u")
        }
    }

    @Test(arguments: ["1/1", "2/3", "10/10"])
    func aValidShardParses(_ text: String) {
        #expect(Shard.parse(text) != nil)
    }

    @Test(arguments: ["0/3", "4/3", "3", "a/b", "1/0", "-1/2", "1/2/3", ""])
    func anInvalidShardDoesNotParse(_ text: String) {
        #expect(Shard.parse(text) == nil)
    }

    @Test(arguments: [1, 2, 3, 7])
    func everyHostFallsInExactlyOneShard(_ count: Int) {
        let hosts = Self.hosts(200)
        let shards = (1...count).map { Shard(index: $0, count: count).apply(to: hosts) }
        let names = shards.flatMap { $0.map(\.name) }
        #expect(names.count == hosts.count)
        #expect(Set(names) == Set(hosts.map(\.name)))
        if count > 1 { #expect(shards.allSatisfy { !$0.isEmpty && $0.count < hosts.count }) }
    }

    @Test func aHostKeepsItsShardWhenTheInventoryIsReordered() {
        let hosts = Self.hosts(100)
        let reordered = hosts.reversed() + []
        for index in 1...4 {
            let shard = Shard(index: index, count: 4)
            #expect(
                Set(shard.apply(to: hosts).map(\.name))
                    == Set(shard.apply(to: reordered).map(\.name)))
        }
    }

    @Test func theShardOfAHostIsFixedByItsNameAlone() {
        // FNV-1a 64 reference values; a change here would move hosts between CI jobs.
        #expect(Shard.hash("") == 0xcbf2_9ce4_8422_2325)
        #expect(Shard.hash("a") == 0xaf63_dc4c_8601_ec8c)
    }
}
