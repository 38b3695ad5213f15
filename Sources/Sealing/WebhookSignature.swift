import Foundation

/// Signatures as the Standard Webhooks convention writes them (standardwebhooks.com): the
/// `webhook-signature` header is `v1,` and the base64 HMAC-SHA256, under the secret's key, of
/// `{webhook-id}.{webhook-timestamp}.{body}`; several signatures (a secret being rotated and its
/// successor) travel space-separated. A secret is `whsec_` and the key's base64.
public enum WebhookSignature {
    public static let secretPrefix = "whsec_"
    /// 32 random bytes: as long as the HMAC's output, the most a key of SHA-256's block adds.
    public static let keyLength = 32

    /// A fresh secret, `whsec_` and 32 random bytes in base64.
    public static func newSecret() throws -> String {
        secretPrefix + Data(try SecureRandom.bytes(keyLength)).base64EncodedString()
    }

    /// The key a secret stands for; nil when it is not `whsec_` and base64.
    public static func key(fromSecret secret: String) -> [UInt8]? {
        guard secret.hasPrefix(secretPrefix), let data = Data(base64Encoded: String(secret.dropFirst(secretPrefix.count))),
              !data.isEmpty else { return nil }
        return Array(data)
    }

    /// One `v1,…` signature.
    public static func sign(id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> String {
        var content = Array("\(id).\(timestamp).".utf8)
        content.append(contentsOf: body)
        return "v1," + Data(HMAC.authenticate(content, key: key, algorithm: .sha256)).base64EncodedString()
    }

    /// The header's value: one signature per key, space-separated, newest key first.
    public static func header(id: String, timestamp: Int64, body: [UInt8], keys: [[UInt8]]) -> String {
        keys.map { sign(id: id, timestamp: timestamp, body: body, key: $0) }.joined(separator: " ")
    }

    /// Whether one of the header's `v1` signatures is the key's (compared in constant time).
    public static func verify(header: String, id: String, timestamp: Int64, body: [UInt8], key: [UInt8]) -> Bool {
        let expected = Array(sign(id: id, timestamp: timestamp, body: body, key: key).utf8)
        return header.split(separator: " ").contains { ConstantTime.equals(Array($0.utf8), expected) }
    }
}
