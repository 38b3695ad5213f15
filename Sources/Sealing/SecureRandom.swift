import CLibCrypto

/// Cryptographically secure random bytes from libcrypto's DRBG.
public enum SecureRandom {
    public static func bytes(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard count == 0 || RAND_bytes(&bytes, Int32(count)) == 1 else { throw SealingError.libcrypto("RAND_bytes") }
        return bytes
    }
}
