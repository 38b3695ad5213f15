import Foundation
import HavenCore
import Postgres
import Sealing

/// Users' choices of email notifications (`notification_email`): an address, sealed to its
/// user, and the kinds they asked for. Row security lets a user reach only their own; the
/// delivery worker, as Haven, reads everyone's.
public enum NotificationEmailStore {
    static func label(_ user: UUID) -> String { FieldSealing.label("email:", user, "") }

    /// The user's choice, or nil when they receive no email.
    public static func choice(of user: UUID, keys: KeyRing, on connection: PGConnection) throws -> NotificationEmailChoice? {
        guard let row = try connection.query("SELECT address_sealed, kinds FROM notification_email WHERE user_id = $1", [user]).first,
              let address = try FieldSealing.openText(try row.decode(at: 0), label(user), keys: keys) else { return nil }
        let kinds = try row.decodeArray(String.self, at: 1) ?? []
        return NotificationEmailChoice(address: address, kinds: Set(kinds.compactMap(NotificationKind.init(rawValue:))))
    }

    /// Stores the choice; no kinds at all removes it (and the address with it).
    public static func save(_ choice: NotificationEmailChoice, of user: UUID, keys: KeyRing, on connection: PGConnection) throws {
        guard !choice.kinds.isEmpty else {
            try connection.execute("DELETE FROM notification_email WHERE user_id = $1", [user])
            return
        }
        try connection.execute("""
            INSERT INTO notification_email (user_id, address_sealed, kinds) VALUES ($1, $2, $3::text[])
            ON CONFLICT (user_id) DO UPDATE SET address_sealed = EXCLUDED.address_sealed, kinds = EXCLUDED.kinds, updated_at = now()
            """, [user, try FieldSealing.sealText(choice.address, label(user), keys: keys), PGTextArray(choice.kinds.map(\.rawValue).sorted())])
    }

    /// Who gets `message` by email: of the users the in-app channel would tell (the named user,
    /// or the kind's audience in the recipient organisation), those active who chose its kind.
    public static func recipients(of message: NotificationMessage, on connection: PGConnection) throws -> [String] {
        let audience = message.kind.audience.map(\.rawValue).sorted()
        return try connection.query("""
            SELECT u.id FROM app_user u JOIN notification_email e ON e.user_id = u.id
            WHERE u.organisation_id = $1 AND u.active AND $2 = ANY(e.kinds)
              AND (CASE WHEN $3::uuid IS NOT NULL AND EXISTS (SELECT 1 FROM app_user n WHERE n.id = $3 AND n.organisation_id = $1 AND n.active)
                        THEN u.id = $3 ELSE u.role = ANY($4::text[]) END)
            ORDER BY u.id
            """, [message.recipientOrganisation, message.kind.rawValue, message.recipientUser, PGTextArray(audience)])
            .rows.map { try $0.decode(UUID.self, at: 0).lowercasedString }
    }

    /// Where and in which language one user's email goes, at delivery: nil when they withdrew
    /// their choice of this kind, or left, since it was routed.
    public static func destination(of user: UUID, for kind: NotificationKind, keys: KeyRing,
                                   on connection: PGConnection) throws -> (address: String, language: Language)? {
        guard let row = try connection.query("""
            SELECT e.address_sealed, u.language FROM notification_email e JOIN app_user u ON u.id = e.user_id
            WHERE e.user_id = $1 AND u.active AND $2 = ANY(e.kinds)
            """, [user, kind.rawValue]).first,
            let address = try FieldSealing.openText(try row.decode(at: 0), label(user), keys: keys) else { return nil }
        let language: String? = try row.decode(at: 1)
        return (address, language.flatMap(Language.init(rawValue:)) ?? .en)
    }
}
