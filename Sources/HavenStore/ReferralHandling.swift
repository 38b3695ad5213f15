import Foundation
import HavenCore
import Postgres
import Sealing

extension ReferralStore {
    /// Gives an open referral to `user` of the receiving organisation (the policy already
    /// checked both); nil when it ended meanwhile.
    public static func setHandler(_ id: UUID, to user: UUID, keys: KeyRing, on connection: PGConnection) throws -> Referral? {
        try connection.query("""
            UPDATE referral SET handler_user_id = $2, handled_since = now(), updated_at = now(), version = version + 1
            WHERE id = $1 AND status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold') RETURNING
            """ + " " + columns, [id, user]).first.map { try decode($0, keys: keys, openNote: true) }
    }

    /// The active users of an organisation, by name, for handing a referral to one of them.
    public static func colleagues(of organisation: UUID, on connection: PGConnection) throws -> [User] {
        try connection.query("""
            SELECT id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version
            FROM app_user WHERE organisation_id = $1 AND active ORDER BY coalesce(display_name, username), id LIMIT 500
            """, [organisation]).rows.map(UserStore.decode)
    }
}
