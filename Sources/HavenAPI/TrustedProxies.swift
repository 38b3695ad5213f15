import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reverse proxies whose `X-Forwarded-For` is believed: single addresses or CIDR ranges
/// (`10.0.0.0/8`, `fd00::/8`), IPv4 or IPv6.
public struct TrustedProxies: Sendable {
    let networks: [IPNetwork]

    /// Parses a comma-separated list; nil names the entry that is not an address or range.
    public init(parsing list: String) throws {
        var networks: [IPNetwork] = []
        for entry in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !entry.isEmpty {
            guard let network = IPNetwork(entry) else { throw TrustedProxyError(entry: entry) }
            networks.append(network)
        }
        self.networks = networks
    }

    public init() { networks = [] }

    public var isEmpty: Bool { networks.isEmpty }

    func contains(_ address: String) -> Bool {
        guard !networks.isEmpty, let bytes = IPNetwork.bytes(address) else { return false }
        return networks.contains { $0.contains(bytes) }
    }
}

public struct TrustedProxyError: Error, CustomStringConvertible {
    public var entry: String
    public var description: String { "trusted proxy \(entry) is not an IP address or CIDR range" }
}

struct IPNetwork: Sendable {
    let prefix: [UInt8]
    let bits: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = parts.first, let bytes = IPNetwork.bytes(String(address)) else { return nil }
        let length = parts.count == 2 ? Int(parts[1]) : bytes.count * 8
        guard let length, (0...(bytes.count * 8)).contains(length) else { return nil }
        prefix = bytes
        bits = length
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == prefix.count else { return false }
        var remaining = bits
        for index in prefix.indices where remaining > 0 {
            let take = min(8, remaining)
            let mask = UInt8(truncatingIfNeeded: 0xFF << (8 - take))
            if address[index] & mask != prefix[index] & mask { return false }
            remaining -= take
        }
        return true
    }

    /// 4 or 16 bytes for an IPv4 or IPv6 address in text form.
    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}

extension TrustedProxies: ExpressibleByArrayLiteral {
    /// For configuration in code; an entry that is not an address or range is ignored.
    public init(arrayLiteral elements: String...) {
        networks = elements.compactMap(IPNetwork.init)
    }
}
