import Foundation
import HavenCore
import Postgres
import Sealing

public enum UserStore {
    static let columns = "id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version"

    static func decode(_ row: PGRow) throws -> User {
        User(
            id: try row.decode(at: 0), organisationID: try row.decode(at: 1),
            role: try row.code(Role.self, at: 2), username: try row.decode(at: 3),
            displayName: try row.decode(at: 4), active: try row.decode(at: 5), hasSecondFactor: try row.decode(at: 6),
            lockedUntil: try row.decode(at: 7), passwordMustChange: try row.decode(at: 8), createdAt: try row.decode(at: 9),
            version: try row.decode(at: 10))
    }

    /// Seals a TOTP secret to its user: it opens only for that user's row.
    static func sealTOTP(_ secret: [UInt8], userID: UUID, keys: KeyRing) throws -> [UInt8] {
        try keys.seal(secret, associatedData: Array("totp:\(userID.lowercasedString)".utf8))
    }

    static func openTOTP(_ sealed: [UInt8], userID: UUID, keys: KeyRing) throws -> [UInt8] {
        try keys.open(sealed, associatedData: Array("totp:\(userID.lowercasedString)".utf8))
    }

    /// Inserts a user whose password is already hashed. No second factor: a user whose role
    /// needs one enrols their own authenticator at their first login, so whoever creates the
    /// user never holds its secret.
    public static func create(
        _ draft: UserDraft, passwordHash: String, mustChangePassword: Bool, on connection: PGConnection
    ) throws -> User {
        do {
            let result = try connection.query("""
                INSERT INTO app_user (organisation_id, role, username, display_name, password_hash, password_must_change)
                VALUES ($1, $2, $3, $4, $5, $6)
                RETURNING id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version
                """, [draft.organisationId, draft.role.rawValue, draft.username, draft.displayName, passwordHash, mustChangePassword])
            return try decode(result[0])
        } catch let error as PGError where error.kind == .uniqueViolation {
            throw StoreError.conflict("the username is taken", field: "username")
        } catch let error as PGError where error.kind == .foreignKeyViolation {
            throw StoreError.invalid(ValidationFailure("organisation_id", "is not an organisation"))
        }
    }

    public static func find(_ id: UUID, forUpdate: Bool = false, on connection: PGConnection) throws -> User? {
        try connection.query("SELECT " + columns + " FROM app_user WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id]).first.map(decode)
    }

    public static func count(on connection: PGConnection) throws -> Int {
        try connection.query("SELECT count(*) FROM app_user")[0].decode(at: 0)
    }

    public static func list(organisation: UUID?, role: Role?, after cursor: String?, limit: Int, on connection: PGConnection) throws -> Page<User> {
        var after = ""
        if let cursor { after = try Cursor.decode(cursor, count: 1)[0] }
        let result = try connection.query("""
            SELECT id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version
            FROM app_user
            WHERE username > $1 AND ($2::uuid IS NULL OR organisation_id = $2) AND ($3::text IS NULL OR role = $3)
            ORDER BY username LIMIT $4
            """, [after, organisation, role?.rawValue, limit + 1])
        var items = try result.rows.map(decode)
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last.map { Cursor.encode([$0.username]) }
        }
        return Page(items: items, nextCursor: next)
    }

    /// Applies an admin's changes. A new password, deactivation or another role ends the user's
    /// sessions: a session carries what its login proved, and a role that needs a second factor
    /// must be reached through a login that gave one (or enrolled one, when the user has none
    /// yet). `expectedVersion` (from `If-Match`) is checked against the row as it is locked, so
    /// two admins' changes never overwrite each other.
    public static func update(
        _ id: UUID, _ patch: UserPatch, passwordHash: String?, expectedVersion: Int? = nil, on connection: PGConnection
    ) throws -> (user: User, changed: [String])? {
        guard let current = try find(id, forUpdate: true, on: connection) else { return nil }
        if let expectedVersion, expectedVersion != current.version { throw StoreError.preconditionFailed("the user changed since you read it") }
        let changed = patch.changes(to: current)
        if changed.isEmpty { return (current, []) }
        let result = try connection.query("""
            UPDATE app_user SET
                role = coalesce($2, role), active = coalesce($3, active), display_name = coalesce($4, display_name),
                password_hash = coalesce($5, password_hash),
                password_must_change = CASE WHEN $5::text IS NULL THEN password_must_change ELSE true END,
                password_changed_at = CASE WHEN $5::text IS NULL THEN password_changed_at ELSE now() END,
                failed_logins = CASE WHEN $5::text IS NULL THEN failed_logins ELSE 0 END,
                locked_until = CASE WHEN $5::text IS NULL THEN locked_until ELSE NULL END,
                updated_at = now(), version = version + 1
            WHERE id = $1
            RETURNING id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version
            """, [id, patch.role?.rawValue, patch.active, patch.displayName, passwordHash])
        guard let row = result.first else { return nil }
        let roleChanged = patch.role.map { $0 != current.role } ?? false
        if passwordHash != nil || patch.active == false || roleChanged { try SessionStore.revokeAll(userID: id, on: connection) }
        return (try decode(row), changed)
    }

    /// The user's own password change; ends their other sessions.
    public static func changePassword(_ id: UUID, passwordHash: String, keepSession: [UInt8]?, on connection: PGConnection) throws {
        try connection.execute("""
            UPDATE app_user SET password_hash = $2, password_must_change = false, password_changed_at = now(),
                updated_at = now(), version = version + 1
            WHERE id = $1
            """, [id, passwordHash])
        try connection.execute(
            "UPDATE session SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2",
            [id, keepSession])
    }
}

extension UserStore {
    public static func language(of userID: UUID, on connection: PGConnection) throws -> Language? {
        guard let code: String = try connection.query("SELECT language FROM app_user WHERE id = $1", [userID]).first?.decode(at: 0) else {
            return nil
        }
        guard let language = Language(rawValue: code) else { throw StoreError.database("unknown language code in app_user") }
        return language
    }

    public static func setLanguage(_ language: Language, of userID: UUID, on connection: PGConnection) throws {
        try connection.execute("UPDATE app_user SET language = $2 WHERE id = $1", [userID, language.rawValue])
    }
}

extension UserStore {
    /// Each user's organisation and the name to show (display name, else username).
    public static func labels(_ ids: [UUID], on connection: PGConnection) throws -> [(UUID, UUID, String)] {
        guard !ids.isEmpty else { return [] }
        return try connection.query(
            "SELECT id, organisation_id, coalesce(display_name, username) FROM app_user WHERE id = ANY($1::uuid[])", [PGTextArray(ids.map(\.uuidString))]
        ).rows.map { row in (try row.decode(at: 0), try row.decode(at: 1), try row.decode(at: 2)) }
    }
}
