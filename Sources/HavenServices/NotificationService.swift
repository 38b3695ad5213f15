import Foundation
import HavenCore
import HavenStore

/// A user's own notifications (the in-app channel of the outbox), the same for the API and the
/// console. Nobody reads another's: every call is the actor's own, and row-level security
/// shows a user only their rows. A notification names a case by reference only; opening its
/// link goes through the page's own policy and audit.
public struct NotificationService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public struct Listing: Sendable {
        public var page: Page<UserNotification>
        public var unread: Int
    }

    /// Newest first, paged like other lists, with the count of unread ones; audited as a read
    /// of the user's own list.
    public func list(unreadOnly: Bool = false, page: PageRequest, context: AccessContext) async throws -> Listing {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.audit(.read, .notificationList, entityKind: .notification, subjectOrganisation: actor.organisationID,
                                  purpose: .caseManagement, detail: page.auditDetail(filters: unreadOnly ? ["unread"] : []))
            let items = try NotificationStore.list(user: actor.userID, unreadOnly: unreadOnly, after: page.cursor, limit: page.limit,
                                                   on: transaction.connection)
            return Listing(page: items, unread: try NotificationStore.unreadCount(user: actor.userID, on: transaction.connection))
        }
    }

    /// How many of the actor's notifications are unread: one indexed count, for the console's
    /// header on every page (not audited: it names nothing).
    public func unreadCount(context: AccessContext) async throws -> Int {
        guard let actor = context.actor else { return 0 }
        return try await store.transaction(context) { transaction in
            try NotificationStore.unreadCount(user: actor.userID, on: transaction.connection)
        }
    }

    /// Marks one of the actor's notifications read (404 for any other id).
    public func markRead(_ id: UUID, context: AccessContext) async throws -> UserNotification {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            guard let notification = try NotificationStore.markRead(id, user: actor.userID, on: transaction.connection) else {
                throw StoreError.notFound("no such notification")
            }
            try transaction.audit(.update, .notificationRead, entityKind: .notification, entityID: id.lowercasedString,
                                  subjectOrganisation: actor.organisationID, purpose: .caseManagement)
            return notification
        }
    }

    /// Marks every unread notification of the actor read; returns how many.
    public func markAllRead(context: AccessContext) async throws -> Int {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            let count = try NotificationStore.markAllRead(user: actor.userID, on: transaction.connection)
            try transaction.audit(.update, .notificationReadAll, entityKind: .notification, subjectOrganisation: actor.organisationID,
                                  purpose: .caseManagement, detail: ["count": .int(count)])
            return count
        }
    }
}
