import CLibCrypto

/// Ed25519 signatures (RFC 8032) from libcrypto: audit checkpoints are signed with a key that
/// never enters the database, so a second party holding the public key can tell a checkpoint
/// Haven wrote from one made by whoever controls the database.
public enum Ed25519 {
    public static let seedLength = 32
    public static let publicKeyLength = 32
    public static let signatureLength = 64

    /// A signing key from its 32-byte seed (the RFC's "private key").
    public final class SigningKey: @unchecked Sendable {
        // Immutable after init; libcrypto allows concurrent signing with one key.
        private let key: OpaquePointer
        public let publicKey: [UInt8]

        public init(seed: [UInt8]) throws {
            guard seed.count == Ed25519.seedLength else { throw SealingError(.malformed, "an Ed25519 seed is 32 bytes") }
            guard let key = seed.withUnsafeBufferPointer({ haven_ed25519_private_key($0.baseAddress) }) else {
                throw SealingError.libcrypto("Ed25519 key")
            }
            var raw = [UInt8](repeating: 0, count: Ed25519.publicKeyLength)
            var length = raw.count
            guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == Ed25519.publicKeyLength else {
                EVP_PKEY_free(key)
                throw SealingError.libcrypto("Ed25519 public key")
            }
            self.key = key
            self.publicKey = raw
        }

        deinit { EVP_PKEY_free(key) }

        public func sign(_ message: [UInt8]) throws -> [UInt8] {
            var signature = [UInt8](repeating: 0, count: Ed25519.signatureLength)
            let ok = message.withUnsafeBufferPointer { message in
                signature.withUnsafeMutableBufferPointer { haven_ed25519_sign(key, message.baseAddress, message.count, $0.baseAddress) }
            }
            guard ok == 1 else { throw SealingError.libcrypto("Ed25519 signing") }
            return signature
        }
    }

    /// True only for a valid signature of `message` under `publicKey`; false for any malformed input.
    public static func isValid(signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureLength, publicKey.count == publicKeyLength,
              let key = publicKey.withUnsafeBufferPointer({ haven_ed25519_public_key($0.baseAddress) }) else {
            ERR_clear_error()
            return false
        }
        defer { EVP_PKEY_free(key) }
        let ok = signature.withUnsafeBufferPointer { signature in
            message.withUnsafeBufferPointer { haven_ed25519_verify(key, signature.baseAddress, $0.baseAddress, $0.count) }
        }
        if ok != 1 { ERR_clear_error() }
        return ok == 1
    }
}
