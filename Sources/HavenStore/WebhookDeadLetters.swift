import Foundation
import HavenCore
import Postgres

/// Webhook deliveries the outbox gave up on (`notification_delivery` rows of the `webhook`
/// channel marked dead after `WebhookSchedule`): the administrator sees them and sends one again.
public enum WebhookDeadLetters {
    /// The newest `limit` dead deliveries to one of the organisation's subscriptions.
    public static func list(organisation: UUID, subscription: UUID, limit: Int = 200, on connection: PGConnection) throws -> [WebhookDeadLetter] {
        try connection.query("""
            SELECT d.message_id, s.id, m.kind, d.attempts, d.last_error, m.created_at
            FROM notification_delivery d
            JOIN webhook_subscription s ON s.id::text = d.target
            JOIN notification_outbox m ON m.id = d.message_id
            WHERE d.channel = 'webhook' AND d.state = 'dead' AND d.target = s.id::text AND s.id = $2 AND s.organisation_id = $1
              AND s.deleted_at IS NULL
            ORDER BY m.created_at DESC, d.message_id LIMIT $3
            """, [organisation, subscription, limit]).rows.map { row in
                WebhookDeadLetter(message: try row.decode(at: 0), subscription: try row.decode(at: 1), kind: try row.decode(at: 2),
                                  attempts: try row.decode(at: 3), lastError: try row.decode(at: 4), created: try row.decode(at: 5))
            }
    }

    /// Puts one dead delivery back in the queue, due now, with its attempts counted afresh (so it
    /// is tried on the whole schedule again). False when there is no such dead delivery.
    public static func replay(organisation: UUID, subscription: UUID, message: UUID, on connection: PGConnection) throws -> Bool {
        try connection.query("""
            UPDATE notification_delivery d SET state = 'pending', attempts = 0, next_attempt_at = now(), last_error = NULL
            FROM webhook_subscription s
            WHERE d.channel = 'webhook' AND d.state = 'dead' AND d.message_id = $3 AND d.target = s.id::text
              AND s.id = $2 AND s.organisation_id = $1 AND s.deleted_at IS NULL
            RETURNING d.message_id
            """, [organisation, subscription, message]).first != nil
    }
}
