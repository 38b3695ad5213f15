import CLibCrypto

/// Slow, salted key derivation for passwords (RFC 7914 scrypt, RFC 8018 PBKDF2).
public enum KeyDerivation {
    public struct ScryptParameters: Sendable, Equatable {
        public var n: UInt64
        public var r: UInt64
        public var p: UInt64

        public init(n: UInt64, r: UInt64, p: UInt64) {
            self.n = n
            self.r = r
            self.p = p
        }

        /// 128 · N · r · p bytes, plus headroom libcrypto wants for its own bookkeeping.
        var maxMemory: UInt64 { 128 * n * r * p + 1 << 20 }
    }

    public static func scrypt(password: [UInt8], salt: [UInt8], parameters: ScryptParameters, length: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBytes { password in
            salt.withUnsafeBufferPointer { salt in
                EVP_PBE_scrypt(
                    password.baseAddress?.assumingMemoryBound(to: CChar.self), password.count,
                    salt.baseAddress, salt.count, parameters.n, parameters.r, parameters.p,
                    parameters.maxMemory, &output, length)
            }
        }
        guard status == 1 else { throw SealingError.libcrypto("EVP_PBE_scrypt") }
        return output
    }

    public static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], iterations: Int, length: Int) throws -> [UInt8] {
        var output = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBytes { password in
            salt.withUnsafeBufferPointer { salt in
                PKCS5_PBKDF2_HMAC(
                    password.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(password.count),
                    salt.baseAddress, Int32(salt.count), Int32(iterations), EVP_sha256(), Int32(length), &output)
            }
        }
        guard status == 1 else { throw SealingError.libcrypto("PKCS5_PBKDF2_HMAC") }
        return output
    }
}
