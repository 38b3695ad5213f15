import Foundation
import HavenCore
import Postgres
import Sealing

/// Bearer tokens: 256 random bits, shown to the client once, stored only as SHA-256 (S5).
public enum SessionTokens {
    static let prefix = "hvt_"

    /// A new token and the hash to store.
    public static func generate() throws -> (token: String, hash: [UInt8]) {
        let bytes = try SecureRandom.bytes(32)
        return (prefix + Base64URL.encode(bytes), Digest.sha256(bytes))
    }

    /// The stored hash for a presented token; nil when it is not a token Haven issued.
    public static func hash(of token: some StringProtocol) -> [UInt8]? {
        var token = String(token)
        return token.withUTF8(hash(utf8:))
    }

    /// The same on the token's UTF-8 bytes where they lie: every authenticated request hashes
    /// its token, and walking a string generically across modules cost more than the hash.
    public static func hash(utf8: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        let prefixLength = prefix.utf8.count
        guard utf8.count == prefixLength + 43, utf8.starts(with: prefix.utf8),
              let bytes = Base64URL.decode(bytes: UnsafeBufferPointer(rebasing: utf8[prefixLength...])), bytes.count == 32
        else { return nil }
        return Digest.sha256(bytes)
    }
}

public struct AuthenticatedSession: Sendable {
    public var user: User
    public var organisation: Organisation
    public var actor: Actor { user.actor }
    public var username: String { user.username }
    public var passwordChangeRequired: Bool { user.passwordMustChange }
    /// The user's role needs a second factor they have not enrolled: the session can only enrol.
    public var secondFactorEnrolmentRequired: Bool { user.role.requiresSecondFactor && !user.hasSecondFactor }
}

public enum SessionStore {
    /// One round trip: finds a live session (not revoked, within its absolute and idle
    /// lifetime, its user and organisation active) with its user and organisation, and refreshes its idle clock
    /// at most every 30 s.
    public static func authenticate(tokenHash: [UInt8], idleTimeout: Duration, on connection: PGConnection) throws -> AuthenticatedSession? {
        let result = try connection.query("""
            WITH found AS (
                SELECT u.id, u.organisation_id, u.role, u.username, u.display_name, u.active, u.totp_secret IS NOT NULL AS second_factor,
                       u.locked_until, u.password_must_change, u.created_at, u.version
                FROM session s JOIN app_user u ON u.id = s.user_id
                WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
                  AND s.last_seen_at > now() - $2::bigint * interval '1 second' AND u.active
            ), touched AS (
                UPDATE session SET last_seen_at = now()
                WHERE token_hash = $1 AND last_seen_at < now() - interval '30 seconds' AND EXISTS (SELECT 1 FROM found)
            )
            SELECT f.id, f.organisation_id, f.role, f.username, f.display_name, f.active, f.second_factor, f.locked_until,
                   f.password_must_change, f.created_at, f.version,
                   o.id, o.name, o.type, o.country, o.region, o.service_types, o.regions_covered, o.populations, o.accepts_referrals,
                   o.capacity_note, o.active, o.version
            FROM found f JOIN organisation o ON o.id = f.organisation_id AND o.active
            """, [tokenHash, Int(idleTimeout.components.seconds)])
        guard let row = result.first else { return nil }
        return AuthenticatedSession(user: try UserStore.decode(row), organisation: try OrganisationStore.decode(row, offset: 11))
    }

    public static func create(userID: UUID, lifetime: Duration, on connection: PGConnection) throws -> (token: String, expiresAt: Date) {
        let (token, hash) = try SessionTokens.generate()
        let result = try connection.query("""
            INSERT INTO session (token_hash, user_id, expires_at) VALUES ($1, $2, now() + $3::bigint * interval '1 second')
            RETURNING expires_at
            """, [hash, userID, Int(lifetime.components.seconds)])
        return (token, try result[0].decode(Date.self, at: 0))
    }

    public static func revoke(tokenHash: [UInt8], on connection: PGConnection) throws {
        try connection.execute("UPDATE session SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL", [tokenHash])
    }

    /// Ends every session of a user (deactivation, password change or reset).
    public static func revokeAll(userID: UUID, on connection: PGConnection) throws {
        try connection.execute("UPDATE session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL", [userID])
    }
}
