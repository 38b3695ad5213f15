import Foundation

/// Where Haven may send a request on its own (a webhook): only `https://` to a public address,
/// so a registered URL cannot reach into the deployment's own network (server-side request
/// forgery): not loopback, private (10/8, 172.16/12, 192.168/16), carrier-grade NAT (100.64/10),
/// link-local (169.254/16, the cloud metadata address among them), unique-local or link-local
/// IPv6, multicast, nor the reserved and documentation ranges. An operator setting
/// (`allowPrivate`) lifts both rules, for receivers on loopback in tests and development.
///
/// The URL is checked when it is registered, and every address its host resolves to is checked
/// again at delivery time and the connection pinned to a checked one, so a name that later
/// resolves to a private address (DNS rebinding) is refused then.
public enum OutboundAddress {
    public enum Refusal: String, Error, Sendable, Equatable {
        /// Not a URL, no host, credentials in it, or longer than 2048 characters.
        case malformed
        /// Not `https` (and `http` is not allowed).
        case scheme
        /// The host is, or resolves to, an address outside the public internet.
        case privateAddress = "private-address"
    }

    /// A checked URL's parts.
    public struct Target: Sendable, Equatable {
        public var scheme: String
        public var host: String
        public var port: Int
        /// The host is an address literal (nothing to resolve).
        public var isLiteral: Bool
    }

    public static let maximumLength = 2048

    /// Checks a URL as registered: its form, its scheme and, when the host is an address
    /// literal or a loopback name, the address.
    public static func check(url: String, allowPrivate: Bool) -> Result<Target, Refusal> {
        guard url.count <= maximumLength, !url.contains(where: { $0.isWhitespace || $0.isNewline }),
              let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              var host = components.host?.lowercased(), !host.isEmpty,
              components.user == nil, components.password == nil, components.fragment == nil
        else { return .failure(.malformed) }
        guard scheme == "https" || (scheme == "http" && allowPrivate) else { return .failure(.scheme) }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        if host.hasSuffix(".") { host.removeLast() }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        guard (1...65535).contains(port) else { return .failure(.malformed) }
        let literal = IPv4(host) != nil || IPv6(host) != nil
        if !literal {
            // A last label of digits is an address in a form getaddrinfo accepts (2130706433,
            // 0x7f.1, 127.1) but no name: top-level domains are never numeric.
            let last = host.split(separator: ".").last.map(String.init) ?? host
            if last.allSatisfy({ $0.isNumber }) || last.hasPrefix("0x") { return .failure(.malformed) }
            guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else { return .failure(.malformed) }
        }
        let target = Target(scheme: scheme, host: host, port: port, isLiteral: literal)
        if allowPrivate { return .success(target) }
        if host == "localhost" || host.hasSuffix(".localhost") { return .failure(.privateAddress) }
        if literal && !isPublic(address: host) { return .failure(.privateAddress) }
        return .success(target)
    }

    /// Whether a numeric address (as `getnameinfo` writes one) is on the public internet. A text
    /// that is no address is not public.
    public static func isPublic(address: String) -> Bool {
        if let v4 = IPv4(address) { return isPublic(v4) }
        if let v6 = IPv6(address) { return isPublic(v6) }
        return false
    }

    /// Of the addresses a host resolved to, the first to connect to; nil when any is not
    /// allowed (a name with one private address among public ones is refused as a whole).
    public static func pick(_ addresses: [String], allowPrivate: Bool) -> String? {
        guard !addresses.isEmpty else { return nil }
        if allowPrivate { return addresses.first }
        return addresses.allSatisfy(isPublic(address:)) ? addresses.first : nil
    }

    // MARK: - Ranges

    private static let refusedIPv4: [(UInt32, Int)] = [
        (0x0000_0000, 8),    // "this network"
        (0x0A00_0000, 8),    // private
        (0x6440_0000, 10),   // carrier-grade NAT
        (0x7F00_0000, 8),    // loopback
        (0xA9FE_0000, 16),   // link-local, cloud metadata
        (0xAC10_0000, 12),   // private
        (0xC000_0000, 24),   // IETF protocol assignments
        (0xC000_0200, 24),   // documentation
        (0xC058_6300, 24),   // 6to4 relay anycast
        (0xC0A8_0000, 16),   // private
        (0xC612_0000, 15),   // benchmarking
        (0xC633_6400, 24),   // documentation
        (0xCB00_7100, 24),   // documentation
        (0xE000_0000, 4),    // multicast
        (0xF000_0000, 4),    // reserved, broadcast
    ]

    static func isPublic(_ address: UInt32) -> Bool {
        !refusedIPv4.contains { base, bits in address >> (32 - bits) == base >> (32 - bits) }
    }

    static func isPublic(_ address: [UInt16]) -> Bool {
        let embedded = UInt32(address[6]) << 16 | UInt32(address[7])
        // ::ffff:a.b.c.d (mapped), 64:ff9b::a.b.c.d (NAT64): the IPv4 address decides.
        if address[0..<5].allSatisfy({ $0 == 0 }) && address[5] == 0xFFFF { return isPublic(embedded) }
        if address[0] == 0x64 && address[1] == 0xFF9B && address[2..<6].allSatisfy({ $0 == 0 }) { return isPublic(embedded) }
        if address[0..<6].allSatisfy({ $0 == 0 }) { return false }    // ::, ::1, IPv4-compatible
        let first = address[0]
        if first & 0xFE00 == 0xFC00 { return false }                   // unique-local fc00::/7
        if first & 0xFFC0 == 0xFE80 { return false }                   // link-local fe80::/10
        if first & 0xFFC0 == 0xFEC0 { return false }                   // site-local fec0::/10
        if first & 0xFF00 == 0xFF00 { return false }                   // multicast
        if first == 0x2001 && address[1] == 0x0DB8 { return false }    // documentation
        if first == 0x2002 { return isPublic(UInt32(address[1]) << 16 | UInt32(address[2])) }  // 6to4
        if first == 0x0100 && address[1..<4].allSatisfy({ $0 == 0 }) { return false }           // discard
        return true
    }

    // MARK: - Parsing address literals

    /// A strict dotted quad (`a.b.c.d`, each 0–255, no leading zeros).
    static func IPv4(_ text: String) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let octet = UInt32(part), octet <= 255 else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    /// Eight groups, `::` for a run of zeros, an IPv4 tail allowed; a zone (`%eth0`) is refused.
    static func IPv6(_ text: String) -> [UInt16]? {
        guard text.contains(":"), !text.contains("%") else { return nil }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if index == pieces.count - 1, piece.contains("."), let v4 = IPv4(String(piece)) {
                    result.append(UInt16(v4 >> 16)); result.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard !piece.isEmpty, piece.count <= 4, let group = UInt16(piece, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count <= 7 else { return nil }
        return head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
    }
}
