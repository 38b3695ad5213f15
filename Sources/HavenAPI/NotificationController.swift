import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// The actor's own notifications: what needs their attention, newest first, with the unread
/// count, and marking them read.
struct NotificationController: Sendable {
    let store: Store
    var notifications: NotificationService { NotificationService(store: store) }

    func register(_ routes: Routes) {
        routes.get("/v1/notifications") { request, context in
            let query = try ListQuery(request)
            _ = try context.requireActor()
            var unreadOnly = false
            if let text = request.uri.queryParameters.get("unread") {
                guard text == "true" || text == "false" else { throw APIError.badRequest("unread", "must be true or false") }
                unreadOnly = text == "true"
            }
            let listing = try await notifications.list(unreadOnly: unreadOnly, page: query.page, context: context.access)
            return JSONResponse(NotificationListDTO(items: listing.page.items.map(NotificationDTO.init), nextCursor: listing.page.nextCursor,
                                                    unread: listing.unread))
        }
        routes.post("/v1/notifications/read-all") { _, context in
            _ = try context.requireActor()
            let count = try await notifications.markAllRead(context: context.access)
            return JSONResponse(ReadAllDTO(marked: count))
        }
        routes.post("/v1/notifications/:id/read") { request, context in
            let id = try request.uuidParameter("id", context)
            return JSONResponse(NotificationDTO(try await notifications.markRead(id, context: context.access)))
        }
    }
}

struct NotificationDTO: Encodable, Sendable {
    var id: UUID
    /// The outbox message's id, the same one other channels carry.
    var messageId: UUID
    var kind: String
    var caseReference: String?
    var priority: String
    /// The console page to open, a path of ids.
    var link: String
    var createdAt: Date
    var readAt: Date?

    init(_ notification: UserNotification) {
        id = notification.id
        messageId = notification.messageID
        kind = notification.kind.rawValue
        caseReference = notification.caseReference
        priority = notification.priority.rawValue
        link = notification.link
        createdAt = notification.created
        readAt = notification.readAt
    }
}

struct NotificationListDTO: Encodable, Sendable {
    var items: [NotificationDTO]
    var nextCursor: String?
    var unread: Int

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        try container.encode(nextCursor, forKey: .nextCursor)
        try container.encode(unread, forKey: .unread)
    }

    enum CodingKeys: String, CodingKey { case items, nextCursor, unread }
}

struct ReadAllDTO: Encodable, Sendable {
    var marked: Int
}
