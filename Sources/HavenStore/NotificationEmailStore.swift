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
        return NotificationEmailChoice(address: address, kinds: Set(try row.codes(NotificationKind.self, at: 1)))
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

    /// The email deliveries of a routing batch: each user of `NotificationAudience` who chose
    /// email for the message's kind (the target is the user's id).
    public static func addDeliveries(of batch: RoutingBatch, channel: String, on connection: PGConnection) throws {
        try NotificationOutbox.addDeliveries(of: batch, channel: channel, targets: """
            SELECT m.id, u.id::text FROM notification_outbox m
            JOIN app_user u ON
            """ + NotificationAudience.condition + """
            JOIN notification_email e ON e.user_id = u.id AND m.kind = ANY(e.kinds)
            WHERE m.id = ANY($1::uuid[])
            """, on: connection)
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
