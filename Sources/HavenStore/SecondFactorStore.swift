import Foundation
import HavenCore
import Postgres
import Sealing

/// A TOTP secret as the user's authenticator app takes it: the `otpauth://` URI and the same
/// secret in base32 to type in. Shown only while enrolment is under way, never after.
public struct SecondFactorEnrolment: Sendable {
    public var secret: String
    public var uri: String
}

/// The second factor's rows: the secret being enrolled (`totp_pending`), the enrolled one
/// (`totp_secret`), both sealed to their user, and the hashed recovery codes.
public enum SecondFactorStore {
    static func sealPending(_ secret: [UInt8], userID: UUID, keys: KeyRing) throws -> [UInt8] {
        try keys.seal(secret, associatedData: Array("totp-pending:\(userID.lowercasedString)".utf8))
    }

    static func openPending(_ sealed: [UInt8], userID: UUID, keys: KeyRing) throws -> [UInt8] {
        try keys.open(sealed, associatedData: Array("totp-pending:\(userID.lowercasedString)".utf8))
    }

    static func enrolment(_ secret: [UInt8], account: String) -> SecondFactorEnrolment {
        SecondFactorEnrolment(secret: Base32.encode(secret), uri: TOTP(secret: secret).provisioningURI(issuer: "Haven", account: account))
    }

    /// The secret waiting for the user's confirmation: the one already waiting (so a page shown
    /// again shows the same one), or a new one when `fresh` or none waits. Nil when the user has
    /// a second factor already: an enrolled secret is never shown again.
    static func pending(_ userID: UUID, username: String, fresh: Bool, keys: KeyRing, on connection: PGConnection) throws -> SecondFactorEnrolment? {
        guard let row = try connection.query("SELECT totp_secret IS NOT NULL, totp_pending FROM app_user WHERE id = $1 FOR UPDATE",
                                             [userID]).first,
              try !row.decode(Bool.self, at: 0)
        else { return nil }
        if !fresh, let sealed: [UInt8] = try row.decode(at: 1), let secret = try? openPending(sealed, userID: userID, keys: keys) {
            return enrolment(secret, account: username)
        }
        let secret = try TOTP.generateSecret()
        try connection.execute("UPDATE app_user SET totp_pending = $2 WHERE id = $1", [userID, try sealPending(secret, userID: userID, keys: keys)])
        return enrolment(secret, account: username)
    }

    /// The step of `code` under the waiting secret, or nil (no secret waits, or the code is wrong).
    static func pendingStep(_ userID: UUID, code: String, now: Date, keys: KeyRing, on connection: PGConnection) throws -> (secret: [UInt8], step: Int64)? {
        guard let sealed: [UInt8] = try connection.query("SELECT totp_pending FROM app_user WHERE id = $1 AND totp_secret IS NULL",
                                                         [userID]).first?.decode(at: 0),
              let secret = try? openPending(sealed, userID: userID, keys: keys),
              let step = TOTP(secret: secret).matchingStep(code, at: Int64(now.timeIntervalSince1970))
        else { return nil }
        return (secret, step)
    }

    /// Makes `secret` the user's second factor and gives them new recovery codes (returned to
    /// show once; only their hashes are kept). `lastStep` is the step the confirming code used.
    public static func install(_ userID: UUID, secret: [UInt8], lastStep: Int64?, keys: KeyRing, on connection: PGConnection) throws -> [String] {
        try connection.execute("""
            UPDATE app_user SET totp_secret = $2, totp_last_step = $3, totp_pending = NULL, updated_at = now(), version = version + 1
            WHERE id = $1
            """, [userID, try UserStore.sealTOTP(secret, userID: userID, keys: keys), lastStep])
        let codes = try (0..<RecoveryCodes.count).map { _ in try RecoveryCodes.generate() }
        try connection.execute("DELETE FROM recovery_code WHERE user_id = $1", [userID])
        try connection.execute("INSERT INTO recovery_code (user_id, code_hash) SELECT $1, decode(h, 'hex') FROM unnest($2::text[]) AS h",
                               [userID, PGTextArray(codes.map { Hex.encode(RecoveryCodes.hash($0) ?? []) })])
        return codes
    }

    /// Spends one of the user's recovery codes; false when it is not one of theirs or was used.
    static func spendRecoveryCode(_ userID: UUID, code: String, on connection: PGConnection) throws -> Bool {
        guard let hash = RecoveryCodes.hash(code) else { return false }
        return try !connection.query("""
            UPDATE recovery_code SET used_at = now() WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1
            """, [userID, hash]).rows.isEmpty
    }

    static func unusedRecoveryCodes(_ userID: UUID, on connection: PGConnection) throws -> Int {
        try connection.query("SELECT count(*) FROM recovery_code WHERE user_id = $1 AND used_at IS NULL", [userID])[0].decode(at: 0)
    }

    /// An administrator's reset: the secret, anything waiting and the recovery codes go, and so
    /// do the user's sessions; their next login enrols a new authenticator. False when the
    /// user had no second factor to reset.
    public static func reset(_ userID: UUID, on connection: PGConnection) throws -> Bool {
        let had = try connection.query("""
            UPDATE app_user u SET totp_secret = NULL, totp_pending = NULL, totp_last_step = NULL, updated_at = now(), version = u.version + 1
            FROM app_user old WHERE u.id = $1 AND old.id = u.id
            RETURNING old.totp_secret IS NOT NULL OR old.totp_pending IS NOT NULL
            """, [userID]).first?.decode(Bool.self, at: 0) ?? false
        try connection.execute("DELETE FROM recovery_code WHERE user_id = $1", [userID])
        try SessionStore.revokeAll(userID: userID, on: connection)
        return had
    }
}

/// Recovery codes: 16 characters from an alphabet without look-alikes (80 random bits), shown
/// in groups of four. Stored as SHA-256 of the normalised code, like bearer tokens.
public enum RecoveryCodes {
    public static let count = 10
    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    static func generate() throws -> String {
        var characters: [Character] = []
        while characters.count < 16 {
            for byte in try SecureRandom.bytes(32) where Int(byte) < 256 - 256 % alphabet.count {
                characters.append(alphabet[Int(byte) % alphabet.count])
                if characters.count == 16 { break }
            }
        }
        return stride(from: 0, to: 16, by: 4).map { String(characters[$0..<$0 + 4]) }.joined(separator: "-")
    }

    /// The hash of a code as typed (case, spaces and dashes ignored); nil when it cannot be one.
    static func hash(_ typed: String) -> [UInt8]? {
        let normalised = typed.lowercased().filter { $0 != "-" && $0 != " " }
        guard normalised.count == 16, normalised.allSatisfy(alphabet.contains) else { return nil }
        return Digest.sha256(Array(normalised.utf8))
    }
}
