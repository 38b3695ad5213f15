import HavenCore
import Testing

/// Webhook URLs reach only the public internet over https unless the operator allows otherwise.
@Suite struct OutboundAddressTests {
    @Test(arguments: [
        "https://127.0.0.1/hook", "https://127.1.2.3:8443/", "https://10.0.0.5/", "https://172.16.0.1/", "https://172.31.255.255/",
        "https://192.168.1.1/", "https://169.254.169.254/latest/meta-data/", "https://100.64.0.1/", "https://0.0.0.0/",
        "https://[::1]/", "https://[::]/", "https://[fd00::1]/", "https://[fc00::abcd]/", "https://[fe80::1]/",
        "https://[::ffff:127.0.0.1]/", "https://[::ffff:a9fe:a9fe]/", "https://[64:ff9b::10.0.0.1]/", "https://localhost/",
        "https://api.localhost/", "https://224.0.0.1/", "https://255.255.255.255/", "https://[2001:db8::1]/",
    ])
    func privateAddressesAreRefused(url: String) {
        #expect(OutboundAddress.check(url: url, allowPrivate: false) == .failure(.privateAddress), "\(url)")
    }

    @Test(arguments: ["https://2130706433/", "https://0x7f.1/", "https://127.1/", "https://017700000001/", "https://user:pw@example.org/",
                      "https://example.org/#x", "not a url", "https:///nohost", "https://exa mple.org/"])
    func numericHostsCredentialsAndNonsenseAreMalformed(url: String) {
        #expect(OutboundAddress.check(url: url, allowPrivate: false) == .failure(.malformed), "\(url)")
    }

    @Test func onlyHTTPSUnlessTheOperatorAllows() {
        #expect(OutboundAddress.check(url: "http://partner.example.org/hook", allowPrivate: false) == .failure(.scheme))
        #expect(OutboundAddress.check(url: "ftp://partner.example.org/", allowPrivate: true) == .failure(.scheme))
        let loopback = try? OutboundAddress.check(url: "http://127.0.0.1:8099/hook", allowPrivate: true).get()
        #expect(loopback?.scheme == "http" && loopback?.host == "127.0.0.1" && loopback?.port == 8099 && loopback?.isLiteral == true)
    }

    @Test func publicHostsPass() {
        let named = try? OutboundAddress.check(url: "https://partner.example.org/haven/hook?x=1", allowPrivate: false).get()
        #expect(named?.scheme == "https" && named?.host == "partner.example.org" && named?.port == 443 && named?.isLiteral == false)
        #expect((try? OutboundAddress.check(url: "https://93.184.216.34:8443/", allowPrivate: false).get())?.port == 8443)
        #expect((try? OutboundAddress.check(url: "https://[2606:4700::1111]/", allowPrivate: false).get())?.host == "2606:4700::1111")
        #expect(OutboundAddress.check(url: "https://172.32.0.1/", allowPrivate: false) != .failure(.privateAddress))
    }

    @Test func resolvedAddressesAreCheckedAsAWhole() {
        #expect(OutboundAddress.pick(["93.184.216.34", "2606:2800:220:1::1"], allowPrivate: false) == "93.184.216.34")
        // A name that resolves to one private address among public ones (rebinding) is refused.
        #expect(OutboundAddress.pick(["93.184.216.34", "127.0.0.1"], allowPrivate: false) == nil)
        #expect(OutboundAddress.pick(["10.1.2.3"], allowPrivate: false) == nil)
        #expect(OutboundAddress.pick(["::ffff:192.168.0.1"], allowPrivate: false) == nil)
        #expect(OutboundAddress.pick(["127.0.0.1"], allowPrivate: true) == "127.0.0.1")
        #expect(OutboundAddress.pick([], allowPrivate: true) == nil)
    }
}
