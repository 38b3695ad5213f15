import HavenStore
import Sealing

extension Credentials {
    /// Scrypt at a low cost, for seeding and for tests of other things, which would otherwise
    /// spend their time hashing. Kept out of HavenStore so that `haven serve` cannot reach it.
    public static func fast(threads: Int = 2) -> Credentials {
        Credentials(hasher: PasswordHasher(parameters: .init(n: 1 << 10, r: 8, p: 1), threads: threads))
    }
}
