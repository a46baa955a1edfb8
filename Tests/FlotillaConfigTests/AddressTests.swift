import Foundation
import Testing
@testable import FlotillaConfig

/// Field report R10: IPv6 host strings, bare or bracketed, with or without a port.
@Suite struct AddressTests {
    static let valid: [(text: String, host: String, port: Int?)] = [
        ("2001:db8::10", "2001:db8::10", nil),
        ("[2001:db8::10]", "2001:db8::10", nil),
        ("[2001:db8::10]:2222", "2001:db8::10", 2222),
        ("2001:db8::10:2222", "2001:db8::10:2222", nil),
        ("::1", "::1", nil),
        ("[::1]:2200", "::1", 2200),
        ("203.0.113.10", "203.0.113.10", nil),
        ("203.0.113.10:2222", "203.0.113.10", 2222),
        ("web-1.example.org", "web-1.example.org", nil),
        ("bastion:2022", "bastion", 2022),
    ]

    @Test(arguments: valid)
    func anAddressIsStoredWithoutBracketsAndWithItsPort(_ text: String, _ host: String, _ port: Int?) throws {
        let (address, _) = try HostAddress.parse(text).get()
        #expect(address.host == host)
        #expect(address.port == port)
    }

    @Test(arguments: ["[2001:db8::10", "2001:db8::zz", "[2001:db8::10]:", "[2001:db8::10]:99999",
                      "[web-1]", "203.0.113.300", "web 1", "fe80::1%eth0", "-web", ""])
    func aMalformedAddressIsRejected(_ text: String) {
        #expect(throws: HostAddress.Problem.self) { try HostAddress.parse(text).get() }
    }

    @Test func aBareIPv6LiteralThatLooksLikeItCarriesAPortIsWarnedAbout() throws {
        let (_, warning) = try HostAddress.parse("2001:db8::10:2222").get()
        #expect(warning == "'2001:db8::10:2222' is read as one IPv6 address with port 22; to give "
            + "a port, write '[2001:db8::10]:2222'")
        #expect(try HostAddress.parse("2001:db8::10").get().warning == nil)
    }

    @Test func theFieldReportInventoryLoadsWithOneCanonicalAddressPerHost() throws {
        let inventory = try Fixture.inventory("inventory/ipv6.yml")
        let summary = inventory.hosts.map { "\($0.name) \($0.address) \($0.port)" }
        #expect(summary == [
            "v6a 2001:db8::10 22",
            "v6b 2001:db8::10 2222",
            "v6c 2001:db8::10 2222",
            "v6d 2001:db8::10:2222 22",
        ])
        #expect(inventory.warnings.map { $0.location?.line } == [5])
        #expect(inventory.warnings.first?.severity == .warning)
    }
}
