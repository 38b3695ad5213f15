import NIOPosix

/// Hashes and verifies passwords with scrypt on its own small thread pool, so a burst of logins
/// never blocks the event loops or the database pool.
///
/// Stored form: `scrypt$<log2 N>$<r>$<p>$<salt hex>$<hash hex>`. The default cost is one of
/// OWASP's equivalent scrypt settings (N = 2^14, r = 8, p = 5): 16 MiB per hash in flight.
public final class PasswordHasher: Sendable {
    public static let defaultParameters = KeyDerivation.ScryptParameters(n: 1 << 14, r: 8, p: 5)

    public let parameters: KeyDerivation.ScryptParameters
    private let threads: NIOThreadPool

    public init(parameters: KeyDerivation.ScryptParameters = PasswordHasher.defaultParameters, threads: Int = 2) {
        self.parameters = parameters
        self.threads = NIOThreadPool(numberOfThreads: max(1, threads))
        self.threads.start()
    }

    public func shutdown() async {
        try? await threads.shutdownGracefully()
    }

    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await threads.runIfActive { try PasswordHasher.hashNow(password, parameters: parameters) }
    }

    /// Verifies against a stored hash. A malformed stored hash verifies as false, after doing
    /// the same work as a real one so timing does not tell them apart.
    public func verify(_ password: String, against stored: String?) async throws -> Bool {
        let parameters = self.parameters
        return try await threads.runIfActive { try PasswordHasher.verifyNow(password, against: stored, fallback: parameters) }
    }

    public static func hashNow(_ password: String, parameters: KeyDerivation.ScryptParameters) throws -> String {
        let salt = try SecureRandom.bytes(16)
        let derived = try KeyDerivation.scrypt(password: Array(password.utf8), salt: salt, parameters: parameters, length: 32)
        let log2n = UInt64.bitWidth - 1 - parameters.n.leadingZeroBitCount
        return "scrypt$\(log2n)$\(parameters.r)$\(parameters.p)$\(Hex.encode(salt))$\(Hex.encode(derived))"
    }

    static func verifyNow(_ password: String, against stored: String?, fallback: KeyDerivation.ScryptParameters) throws -> Bool {
        guard let stored, let parsed = parse(stored) else {
            _ = try KeyDerivation.scrypt(password: Array(password.utf8), salt: [UInt8](repeating: 0, count: 16), parameters: fallback, length: 32)
            return false
        }
        let derived = try KeyDerivation.scrypt(password: Array(password.utf8), salt: parsed.salt, parameters: parsed.parameters, length: parsed.hash.count)
        return ConstantTime.equals(derived, parsed.hash)
    }

    static func parse(_ stored: String) -> (parameters: KeyDerivation.ScryptParameters, salt: [UInt8], hash: [UInt8])? {
        let parts = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
              let log2n = UInt64(parts[1]), log2n > 0, log2n <= 20,
              let r = UInt64(parts[2]), r > 0, r <= 16, let p = UInt64(parts[3]), p > 0, p <= 16,
              // A planted hash must not make one verification take gigabytes: at most 256 MiB.
              128 * (UInt64(1) << log2n) * r <= 256 << 20,
              let salt = Hex.decode(String(parts[4])), let hash = Hex.decode(String(parts[5])), hash.count >= 16
        else { return nil }
        return (KeyDerivation.ScryptParameters(n: 1 << log2n, r: r, p: p), salt, hash)
    }
}
