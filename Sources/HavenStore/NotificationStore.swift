import Foundation
import HavenCore
import Postgres

/// A user's in-app notifications (written by `InAppChannel`). Every statement names the user,
/// and row-level security shows a user only their own.
public enum NotificationStore {
    static let columns = "id, message_id, kind, case_reference, priority, link, created_at, read_at"

    static func decode(_ row: PGRow) throws -> UserNotification {
        let kind: String = try row.decode(at: 2), priority: String = try row.decode(at: 4)
        guard let kind = NotificationKind(rawValue: kind), let priority = NeedPriority(rawValue: priority) else {
            throw StoreError.database("a notification of an unknown kind or priority")
        }
        return UserNotification(id: try row.decode(at: 0), messageID: try row.decode(at: 1), kind: kind, caseReference: try row.decode(at: 3),
                                priority: priority, link: try row.decode(at: 5), created: try row.decode(at: 6), readAt: try row.decode(at: 7))
    }

    /// Newest first, paged by cursor; only unread ones when `unreadOnly`.
    public static func list(user: UUID, unreadOnly: Bool = false, after cursor: String?, limit: Int,
                            on connection: PGConnection) throws -> Page<UserNotification> {
        var sql = SQLFilter()
        sql.add("user_id = ?", user)
        if unreadOnly { sql.add("read_at IS NULL") }
        if let cursor {
            let (micros, id) = try Cursor.timeAndID(cursor)
            sql.add("(created_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)", micros, id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        var items = try connection.query("SELECT " + columns + " FROM notification" + sql.whereClause
                                          + " ORDER BY created_at DESC, id DESC LIMIT " + limitPlaceholder, sql.parameters).rows.map(decode)
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last { next = Cursor.encode([String(AuditEvent.microseconds(last.created)), last.id.uuidString]) }
        }
        return Page(items: items, nextCursor: next)
    }

    /// How many of the user's notifications are unread (one index scan).
    public static func unreadCount(user: UUID, on connection: PGConnection) throws -> Int {
        try connection.query("SELECT count(*) FROM notification WHERE user_id = $1 AND read_at IS NULL", [user])[0].decode(Int.self, at: 0)
    }

    /// Marks one of the user's notifications read (again is fine); nil when the user has none by that id.
    public static func markRead(_ id: UUID, user: UUID, on connection: PGConnection) throws -> UserNotification? {
        try connection.query("UPDATE notification SET read_at = coalesce(read_at, now()) WHERE id = $1 AND user_id = $2 RETURNING " + columns,
                             [id, user]).first.map(decode)
    }

    /// Marks every unread notification of the user read; returns how many.
    public static func markAllRead(user: UUID, on connection: PGConnection) throws -> Int {
        try connection.execute("UPDATE notification SET read_at = now() WHERE user_id = $1 AND read_at IS NULL", [user])
    }
}
