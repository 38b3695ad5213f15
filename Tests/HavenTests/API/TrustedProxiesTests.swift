@testable import HavenAPI
import Testing

/// `--trusted-proxies`: an operator's list is parsed or refused by name, never a crash.
@Suite struct TrustedProxiesTests {
    @Test(arguments: ["/", "10.0.0.0/", "/8", "10.0.0.0/33", "fd00::/129", "10.0.0", "proxy.internal", "10.0.0.0/8/8"])
    func malformedEntriesAreRefusedByName(entry: String) {
        #expect(throws: TrustedProxyError.self) { try TrustedProxies(parsing: "127.0.0.1, \(entry)") }
        do {
            _ = try TrustedProxies(parsing: entry)
        } catch {
            #expect((error as? TrustedProxyError)?.entry == entry)
        }
    }

    @Test func addressesAndRangesMatchWhatTheyCover() throws {
        let proxies = try TrustedProxies(parsing: "10.0.0.0/8, 192.168.1.7, fd00::/8")
        #expect(proxies.contains("10.200.3.4"))
        #expect(proxies.contains("192.168.1.7"))
        #expect(!proxies.contains("192.168.1.8"))
        #expect(proxies.contains("fd12::1"))
        #expect(!proxies.contains("fe80::1"))
        #expect(!proxies.contains("11.0.0.1"))
        #expect(!proxies.contains("not an address"))
    }
}
