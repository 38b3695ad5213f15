import Foundation
import HavenCore
import Postgres

/// The console's own channel: a notification in the list of each user of the recipient
/// organisation who should act (`NotificationKind.audience`; the named user alone while they
/// are active there). A delivery's target is the user's id; delivering twice leaves one
/// notification (one per message and user).
public struct InAppChannel: NotificationChannel {
    public static let channelName = "in_app"
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public var name: String { Self.channelName }

    public func targets(for message: NotificationMessage, on connection: PGConnection) throws -> [String] {
        if let user = message.recipientUser,
           let named = try connection.query("SELECT id FROM app_user WHERE id = $1 AND organisation_id = $2 AND active",
                                            [user, message.recipientOrganisation]).first {
            return [try named.decode(UUID.self, at: 0).lowercasedString]
        }
        let roles = message.kind.audience.map(\.rawValue).sorted()
        return try connection.query("SELECT id FROM app_user WHERE organisation_id = $1 AND active AND role = ANY($2::text[]) ORDER BY id",
                                    [message.recipientOrganisation, PGTextArray(roles)])
            .rows.map { try $0.decode(UUID.self, at: 0).lowercasedString }
    }

    public func deliver(_ delivery: NotificationDelivery) async throws {
        guard let user = UUID(uuidString: delivery.target) else { throw StoreError.database("an in-app delivery without a user") }
        let message = delivery.message
        try await store.transaction(.system) { transaction in
            try transaction.connection.execute("""
                INSERT INTO notification (id, message_id, user_id, kind, case_reference, priority, link, created_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (message_id, user_id) DO NOTHING
                """, [UUID(), message.id, user, message.kind.rawValue, message.caseReference, message.priority.rawValue, message.link,
                      message.created])
        }
    }
}
