import Foundation
import HavenCore
import Postgres
import Sealing

/// Webhook subscriptions (`Schema/0030_webhooks.sql`). Secrets are sealed with the key ring,
/// the row's id bound in, and opened only to sign a delivery.
public enum WebhookStore {
    static let columns = "id, organisation_id, url, kinds, created_at, rotated_at, previous_until"

    static func secretLabel(_ id: UUID) -> String { FieldSealing.label("webhook:", id, ":secret") }
    static func previousSecretLabel(_ id: UUID) -> String { FieldSealing.label("webhook:", id, ":previous-secret") }

    static func decode(_ row: PGRow) throws -> WebhookSubscription {
        WebhookSubscription(id: try row.decode(at: 0), organisation: try row.decode(at: 1), url: try row.decode(at: 2),
                            kinds: try row.decodeArray(String.self, at: 3) ?? [], created: try row.decode(at: 4),
                            rotated: try row.decode(at: 5), previousSecretUntil: try row.decode(at: 6))
    }

    /// Registers a subscription with a fresh secret, returned this once.
    public static func create(organisation: UUID, url: String, kinds: [String], createdBy: UUID?, keys: KeyRing,
                              on connection: PGConnection) throws -> WebhookSecretIssued {
        let id = UUID()
        let secret = try WebhookSignature.newSecret()
        let sealed = try keys.seal(Array(secret.utf8), associatedData: Array(secretLabel(id).utf8))
        let row = try connection.query("""
            INSERT INTO webhook_subscription (id, organisation_id, url, kinds, secret_sealed, created_by)
            VALUES ($1, $2, $3, $4, $5, $6) RETURNING
            """ + " " + columns, [id, organisation, url, PGTextArray(kinds.sorted()), sealed, createdBy])
        return WebhookSecretIssued(subscription: try decode(row[0]), secret: secret)
    }

    /// The organisation's live subscriptions, oldest first.
    public static func list(organisation: UUID, on connection: PGConnection) throws -> [WebhookSubscription] {
        try connection.query("SELECT " + columns + """
             FROM webhook_subscription WHERE organisation_id = $1 AND deleted_at IS NULL ORDER BY created_at, id
            """, [organisation]).rows.map(decode)
    }

    public static func find(_ id: UUID, organisation: UUID, forUpdate: Bool = false, on connection: PGConnection) throws -> WebhookSubscription? {
        try connection.query("SELECT " + columns + " FROM webhook_subscription WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL"
                             + (forUpdate ? " FOR UPDATE" : ""), [id, organisation]).first.map(decode)
    }

    /// A new secret; the one it replaces keeps signing until `overlapUntil`.
    public static func rotate(_ id: UUID, organisation: UUID, overlapUntil: Date, keys: KeyRing, on connection: PGConnection) throws -> WebhookSecretIssued? {
        guard let current = try connection.query(
            "SELECT secret_sealed FROM webhook_subscription WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL FOR UPDATE",
            [id, organisation]).first else { return nil }
        let oldSealed: [UInt8] = try current.decode(at: 0)
        let old = try FieldSealing.openBytes(oldSealed, secretLabel(id), keys: keys)
        let secret = try WebhookSignature.newSecret()
        let row = try connection.query("""
            UPDATE webhook_subscription SET secret_sealed = $3, previous_secret_sealed = $4, previous_until = $5, rotated_at = now()
            WHERE id = $1 AND organisation_id = $2 RETURNING
            """ + " " + columns,
            [id, organisation, try keys.seal(Array(secret.utf8), associatedData: Array(secretLabel(id).utf8)),
             try keys.seal(old, associatedData: Array(previousSecretLabel(id).utf8)), overlapUntil])
        return WebhookSecretIssued(subscription: try decode(row[0]), secret: secret)
    }

    /// Deletes (keeps the row, without its secrets, for the trail and the dead letters).
    public static func delete(_ id: UUID, organisation: UUID, on connection: PGConnection) throws -> Bool {
        try connection.query("""
            UPDATE webhook_subscription SET deleted_at = now(), secret_sealed = '\\x'::bytea, previous_secret_sealed = NULL, previous_until = NULL
            WHERE id = $1 AND organisation_id = $2 AND deleted_at IS NULL RETURNING id
            """, [id, organisation]).first != nil
    }

    /// What a delivery needs: the URL and the keys that sign now (the newest first; the one
    /// before a rotation while its overlap lasts). Nil when the subscription is gone.
    public struct Signing: Sendable {
        public var url: String
        public var keys: [[UInt8]]
    }

    public static func signing(_ id: UUID, at now: Date, keys: KeyRing, on connection: PGConnection) throws -> Signing? {
        guard let row = try connection.query("""
            SELECT url, secret_sealed, previous_secret_sealed, previous_until FROM webhook_subscription WHERE id = $1 AND deleted_at IS NULL
            """, [id]).first else { return nil }
        var signing: [[UInt8]] = []
        let secret = String(decoding: try FieldSealing.openBytes(try row.decode(at: 1), secretLabel(id), keys: keys), as: UTF8.self)
        if let key = WebhookSignature.key(fromSecret: secret) { signing.append(key) }
        let previousUntil: Date? = try row.decode(at: 3)
        if let sealed: [UInt8] = try row.decode(at: 2), let previousUntil, previousUntil > now {
            let previous = String(decoding: try FieldSealing.openBytes(sealed, previousSecretLabel(id), keys: keys), as: UTF8.self)
            if let key = WebhookSignature.key(fromSecret: previous) { signing.append(key) }
        }
        return Signing(url: try row.decode(at: 0), keys: signing)
    }

    /// The webhook deliveries of a routing batch: every live subscription of each message's
    /// recipient organisation that asked for its kind (the target is the subscription's id).
    public static func addDeliveries(of batch: RoutingBatch, channel: String, on connection: PGConnection) throws {
        try NotificationOutbox.addDeliveries(of: batch, channel: channel, targets: """
            SELECT m.id, s.id::text FROM notification_outbox m
            JOIN webhook_subscription s ON s.organisation_id = m.recipient_organisation_id AND m.kind = ANY(s.kinds) AND s.deleted_at IS NULL
            WHERE m.id = ANY($1::uuid[])
            """, on: connection)
    }
}
