import CLibCrypto
import Synchronization

/// Hash and MAC algorithms from libcrypto.
public enum DigestAlgorithm: Sendable {
    case sha1, sha256, sha512

    var md: OpaquePointer? {
        switch self {
        case .sha1: return EVP_sha1()
        case .sha256: return EVP_sha256()
        case .sha512: return EVP_sha512()
        }
    }

    var length: Int {
        switch self {
        case .sha1: return 20
        case .sha256: return 32
        case .sha512: return 64
        }
    }
}

public enum Digest {
    /// SHA-256 fetched from the provider once: OpenSSL 3's one-shot `SHA256()` looks it up
    /// (under locks) on every call, which showed on every request's token check.
    nonisolated(unsafe) private static let sha256Algorithm: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil)

    public static func sha256(_ data: [UInt8]) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { input in
            if let algorithm = sha256Algorithm, EVP_Digest(input.baseAddress, input.count, &output, nil, algorithm, nil) == 1 { return }
            _ = SHA256(input.baseAddress, input.count, &output)
        }
        return output
    }

    public static func sha256(_ text: String) -> [UInt8] { sha256(Array(text.utf8)) }
}

public enum HMAC {
    public static func authenticate(_ message: [UInt8], key: [UInt8], algorithm: DigestAlgorithm = .sha256) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: algorithm.length)
        var length: UInt32 = 0
        key.withUnsafeBytes { key in
            message.withUnsafeBufferPointer { message in
                _ = CLibCrypto.HMAC(algorithm.md, key.baseAddress, Int32(key.count), message.baseAddress, message.count, &output, &length)
            }
        }
        return Array(output.prefix(Int(length)))
    }

    /// HMAC-SHA256. The keys Haven MACs with are few (ring keys and the keys derived from them),
    /// so each gets keyed contexts that every MAC reuses: OpenSSL 3's one-shot `HMAC()` fetches
    /// the MAC and the digest from the provider registry (under locks) on every call, which
    /// showed in every audited request, and copying a keyed context still allocated four.
    public static func sha256(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        let mac = keyedContexts.with(key: key) { context, reusable -> [UInt8]? in
            var output = [UInt8](repeating: 0, count: 32)
            let ok = message.withUnsafeBufferPointer { message in
                output.withUnsafeMutableBufferPointer { haven_hmac_sha256_run(context, message.baseAddress, message.count, $0.baseAddress) }
            }
            reusable = ok == 1
            return reusable ? output : nil
        }
        // No context (none could be made) or libcrypto failed on it: the one-shot path.
        if let mac = mac.flatMap({ $0 }) { return mac }
        return authenticate(message, key: key, algorithm: .sha256)
    }

    private static let keyedContexts = KeyedContexts(
        make: { key in key.withUnsafeBufferPointer { haven_hmac_sha256_new($0.baseAddress, $0.count) } },
        release: { EVP_MAC_CTX_free($0) })
}

/// HMAC-SHA256 under one key for many messages (audit verification runs a million of them).
/// Not for concurrent use: one per thread.
public final class HMACSHA256 {
    private let context: OpaquePointer

    public init?(key: [UInt8]) {
        guard let context = key.withUnsafeBufferPointer({ haven_hmac_sha256_new($0.baseAddress, $0.count) }) else { return nil }
        self.context = context
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// The MAC of `message`; nil only if libcrypto fails.
    public func authenticate(_ message: [UInt8]) -> [UInt8]? {
        authenticate(message, count: message.count)
    }

    /// The MAC of the first `count` bytes of `message` (an older form of a message that has
    /// since grown a suffix), without copying them.
    public func authenticate(_ message: [UInt8], count: Int) -> [UInt8]? {
        var output = [UInt8](repeating: 0, count: 32)
        let ok = message.withUnsafeBufferPointer { message in
            output.withUnsafeMutableBufferPointer {
                haven_hmac_sha256_run(context, message.baseAddress, min(max(count, 0), message.count), $0.baseAddress)
            }
        }
        return ok == 1 ? output : nil
    }
}

public enum ConstantTime {
    /// Equality whose duration does not depend on where the inputs differ.
    public static func equals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        if a.isEmpty { return true }
        return a.withUnsafeBytes { a in b.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 } }
    }
}
