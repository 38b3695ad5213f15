import Foundation
import HavenCore
import Postgres

/// The console's own channel: a notification in the list of each user of the recipient
/// organisation who should act (`NotificationAudience`: the named user alone while they are
/// active there). Written while the messages are routed, in the same transaction, with one
/// statement per batch: nothing is queued, and a message is in everyone's list once or, if the
/// routing rolls back, not yet in anyone's.
public struct InAppChannel: NotificationChannel {
    public static let channelName = "in_app"

    public init() {}

    public var name: String { Self.channelName }
    public var queuesDeliveries: Bool { false }

    public func route(_ batch: RoutingBatch, on connection: PGConnection) throws {
        try connection.execute(NotificationAudience.with + """
            INSERT INTO notification (id, message_id, user_id, kind, case_reference, priority, link, created_at)
            SELECT gen_random_uuid(), m.id, u.id, m.kind, m.case_reference, m.priority, m.link, m.created_at
            FROM notification_outbox m JOIN app_user u ON
            """ + NotificationAudience.condition + """
            WHERE m.id = ANY($1::uuid[])
            ON CONFLICT (message_id, user_id) DO NOTHING
            """, NotificationAudience.parameters(batch))
    }

    /// Never called: the deliveries were made while routing.
    public func deliver(_ delivery: NotificationDelivery) async throws {}
}
