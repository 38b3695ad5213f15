import Foundation
import Sealing

/// Password hashing (scrypt on its own small thread pool) and second-factor enrolment, for the
/// layers above, which do not touch the crypto layer themselves.
public final class Credentials: Sendable {
    let hasher: PasswordHasher

    public init(threads: Int = 2) {
        hasher = PasswordHasher(threads: threads)
    }

    /// With a hasher of other parameters (the development tools' cheaper one).
    public init(hasher: PasswordHasher) {
        self.hasher = hasher
    }

    public func hash(_ password: String) async throws -> String { try await hasher.hash(password) }

    public func verify(_ password: String, against stored: String?) async throws -> Bool {
        try await hasher.verify(password, against: stored)
    }

    public func shutdown() async { await hasher.shutdown() }

    /// The `otpauth://` URI an authenticator app enrols from.
    public func provisioningURI(secret: [UInt8], account: String) -> String {
        TOTP(secret: secret).provisioningURI(issuer: "Haven", account: account)
    }
}
