import Foundation
import HavenCore
import Postgres

/// The notification outbox: messages about events someone must act on, written in the same
/// transaction as the action, and the deliveries the worker makes of them.
///
/// **Writing a message.** Where an action writes its audit event, it also calls
/// `transaction.notify(NotificationMessage(...))` (or `NotificationOutbox.enqueue(_:on:)` with
/// the transaction's connection). The row is sent with the transaction's COMMIT, so a
/// rolled-back action leaves no message. A periodic sweep passes a `onceKey`, and a message
/// whose key was written before is dropped: each deadline is announced once.
///
/// **How a channel consumes messages.** A channel is a `NotificationChannel`: its `name` is the
/// `notification_delivery.channel` value (`in_app`, `webhook`, `email`, ...). Hand it to the
/// `NotificationDeliverer` that `haven serve` runs, and then, every pass:
/// 1. *Routing* (in one transaction as Haven, up to a batch of messages locked with
///    `FOR UPDATE SKIP LOCKED`): each channel's `route(_:on:)` writes, with one set-based
///    statement for the whole batch, one `notification_delivery` row per message and target
///    (a user id, a subscription id; none at all is fine; `NotificationOutbox.addDeliveries`).
///    A channel whose delivery is itself a database write (`InAppChannel`) writes it there and
///    then instead (`queuesDeliveries` false): it commits with the routing or not at all.
/// 2. *Claiming* (`claim`): due, pending rows of the channel are locked with
///    `FOR UPDATE SKIP LOCKED`, their `attempts` counted and `next_attempt_at` moved past the
///    channel's `lease`, and committed. Two workers never claim the same row at once; a worker
///    that dies before step 3 leaves the row to be claimed again when the lease ends.
/// 3. *Delivering*: the worker calls the channel's `deliver(_:)` outside any transaction with
///    the `NotificationDelivery` (the message, the target, the attempt). Returning marks it
///    sent; throwing reschedules it after `retryDelay(afterAttempt:)`, or marks it dead when
///    that is nil. Delivery is at least once: receivers drop repeats by `message.id`.
/// A channel sends no identifying value and no case content: the message holds none.
public enum NotificationOutbox {
    static let columns = "m.id, m.kind, m.recipient_organisation_id, m.recipient_user_id, m.case_reference, m.priority, m.link, m.created_at"

    static func decode(_ row: PGRow, from column: Int = 0) throws -> NotificationMessage {
        let kind: String = try row.decode(at: column + 1), priority: String = try row.decode(at: column + 5)
        guard let kind = NotificationKind(rawValue: kind), let priority = NeedPriority(rawValue: priority) else {
            throw StoreError.database("a notification message of an unknown kind or priority")
        }
        return NotificationMessage(id: try row.decode(at: column), kind: kind, recipientOrganisation: try row.decode(at: column + 2),
                                   recipientUser: try row.decode(at: column + 3), caseReference: try row.decode(at: column + 4),
                                   priority: priority, link: try row.decode(at: column + 6), created: try row.decode(at: column + 7))
    }

    /// Writes `message` with the transaction's COMMIT (no round trip of its own). With a
    /// `onceKey`, a message under the same key written before wins and this one is dropped.
    public static func enqueue(_ message: NotificationMessage, onceKey: String? = nil, on connection: PGConnection) {
        let parameters: [(any PGEncodable & Sendable)?] = [
            message.id, message.kind.rawValue, message.recipientOrganisation, message.recipientUser, message.caseReference,
            message.priority.rawValue, message.link, message.created, onceKey,
        ]
        connection.deferUntilCommit(PGStatement("""
            INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link,
                created_at, once_key)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            """ + (onceKey == nil ? "" : " ON CONFLICT (once_key) DO NOTHING"), parameters))
    }

    /// The same for a message about a case whose reference the caller has not read: taken from
    /// the case as the transaction's actor sees it.
    public static func enqueue(_ message: NotificationMessage, referenceOf caseID: UUID, on connection: PGConnection) {
        connection.deferUntilCommit(PGStatement("""
            INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link, created_at)
            VALUES ($1, $2, $3, $4, (SELECT reference FROM case_file WHERE id = $5), $6, $7, $8)
            """, [message.id, message.kind.rawValue, message.recipientOrganisation, message.recipientUser, caseID,
                  message.priority.rawValue, message.link, message.created]))
    }

    /// Tells each referral's receiving organisation (the user handling it, where one took it)
    /// that it was cancelled: for referrals ended together (a withdrawn or lapsed consent, a
    /// closing case).
    public static func enqueueCancellations(of referrals: [UUID], on connection: PGConnection) {
        guard !referrals.isEmpty else { return }
        connection.deferUntilCommit(PGStatement("""
            INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link)
            SELECT gen_random_uuid(), 'referral.cancelled', r.to_organisation_id, r.handler_user_id, r.case_reference, r.priority,
                   '/referrals/' || r.id::text
            FROM referral r WHERE r.id = ANY($1::uuid[])
            """, [PGTextArray(referrals.map(\.lowercasedString))]))
    }

    /// Routes up to `limit` messages not yet routed, oldest first, to every channel, and marks
    /// them routed, in the caller's transaction (run as Haven). Messages another worker is
    /// routing are skipped. Returns how many messages were routed.
    static func route(channels: [any NotificationChannel], limit: Int, on connection: PGConnection) throws -> Int {
        let messages = try connection.query(
            "SELECT id FROM notification_outbox WHERE routed_at IS NULL ORDER BY created_at, id LIMIT $1 FOR UPDATE SKIP LOCKED",
            [limit]).rows.map { try $0.decode(UUID.self, at: 0) }
        guard !messages.isEmpty else { return 0 }
        let batch = RoutingBatch(messages)
        for channel in channels {
            try channel.route(batch, on: connection)
        }
        try connection.execute("UPDATE notification_outbox SET routed_at = now() WHERE id = ANY($1::uuid[])", [batch.ids])
        return messages.count
    }

    /// Writes `channel`'s deliveries of the messages `targets` selects: a query over
    /// `notification_outbox m`, limited to `m.id = ANY($1::uuid[])` (the batch), that yields
    /// `(message_id, target)`, and may use `NotificationAudience.condition`.
    public static func addDeliveries(of batch: RoutingBatch, channel: String, targets: String, on connection: PGConnection) throws {
        try connection.execute(NotificationAudience.with + """
            INSERT INTO notification_delivery (message_id, channel, target)
            SELECT message_id, $4::text, target FROM (
            """ + targets + """
            ) AS routed (message_id, target) ON CONFLICT DO NOTHING
            """, NotificationAudience.parameters(batch) + [channel])
    }

    /// Claims up to `limit` due deliveries of `channel` for `lease`, and commits with the
    /// caller's transaction: until the lease ends no other worker claims them.
    static func claim(channel: String, limit: Int, lease: Duration, on connection: PGConnection) throws -> [NotificationDelivery] {
        try connection.query("""
            WITH due AS (
                SELECT message_id, channel, target FROM notification_delivery
                WHERE channel = $1 AND state = 'pending' AND next_attempt_at <= now()
                ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
            UPDATE notification_delivery d SET attempts = d.attempts + 1,
                next_attempt_at = now() + $3::bigint * interval '1 millisecond'
            FROM due, notification_outbox m
            WHERE d.message_id = due.message_id AND d.channel = due.channel AND d.target = due.target AND m.id = d.message_id
            RETURNING d.target, d.attempts,
            """ + " " + columns, [channel, limit, Int(lease.components.seconds * 1000 + lease.components.attoseconds / 1_000_000_000_000_000)])
            .rows.map { row in
                NotificationDelivery(message: try decode(row, from: 2), channel: channel, target: try row.decode(at: 0), attempt: try row.decode(at: 1))
            }
    }

    /// Marks claimed deliveries of `channel` sent, with one statement.
    static func markSent(_ deliveries: [NotificationDelivery], channel: String, on connection: PGConnection) throws {
        guard !deliveries.isEmpty else { return }
        try connection.execute("""
            UPDATE notification_delivery d SET state = 'sent', sent_at = now(), last_error = NULL
            FROM unnest($1::uuid[], $2::text[]) AS s (message_id, target)
            WHERE d.message_id = s.message_id AND d.channel = $3 AND d.target = s.target AND d.state = 'pending'
            """, [PGTextArray(deliveries.map(\.message.id.lowercasedString)), PGTextArray(deliveries.map(\.target)), channel])
    }

    /// A failed attempt: tried again after `delay`, or dead when `delay` is nil. Only while no
    /// later claim took the delivery over (its attempt count is still this one's).
    static func markFailed(_ delivery: NotificationDelivery, error: String, retryAfter delay: Duration?, on connection: PGConnection) throws {
        let reason = String(error.prefix(500))
        if let delay {
            try connection.execute("""
                UPDATE notification_delivery SET last_error = $4, next_attempt_at = now() + $6::bigint * interval '1 millisecond'
                WHERE message_id = $1 AND channel = $2 AND target = $3 AND state = 'pending' AND attempts = $5
                """, [delivery.message.id, delivery.channel, delivery.target, reason, delivery.attempt,
                      Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)])
        } else {
            try connection.execute("""
                UPDATE notification_delivery SET state = 'dead', last_error = $4
                WHERE message_id = $1 AND channel = $2 AND target = $3 AND state = 'pending' AND attempts = $5
                """, [delivery.message.id, delivery.channel, delivery.target, reason, delivery.attempt])
        }
    }
}

/// The messages one routing pass takes, as the channels' statements bind them (`$1::uuid[]`).
public struct RoutingBatch: Sendable {
    public let ids: PGTextArray

    init(_ messages: [UUID]) {
        ids = PGTextArray(messages.map(\.lowercasedString))
    }
}

/// Who in an organisation hears of a message of each kind (`NotificationKind.audience`), as the
/// table `audience (kind, role)` a routing statement starting with `with` binds from `$2` and
/// `$3`, and the condition that picks those users: the message's named user while they are
/// active in the organisation, otherwise every user whose role is in the kind's audience. One
/// rule for in-app and email.
public enum NotificationAudience {
    static let pairs = NotificationKind.allCases.flatMap { kind in kind.audience.map { (kind.rawValue, $0.rawValue) }.sorted { $0.1 < $1.1 } }
    static let kinds = PGTextArray(pairs.map(\.0))
    static let roles = PGTextArray(pairs.map(\.1))

    /// Opens a routing statement; `$1` is the batch.
    public static let with = "WITH audience (kind, role) AS (SELECT * FROM unnest($2::text[], $3::text[]))\n"

    /// The statement's parameters for `batch`, from `$1` to `$3`.
    public static func parameters(_ batch: RoutingBatch) -> [(any PGEncodable)?] { [batch.ids, kinds, roles] }

    /// For a user `u` (of `app_user`) and a message `m` (of `notification_outbox`).
    public static let condition = "\n" + """
        u.organisation_id = m.recipient_organisation_id AND u.active
        AND CASE WHEN EXISTS (SELECT 1 FROM app_user n WHERE n.id = m.recipient_user_id AND n.organisation_id = m.recipient_organisation_id
                                                        AND n.active)
                 THEN u.id = m.recipient_user_id
                 ELSE (m.kind, u.role) IN (SELECT kind, role FROM audience) END
        """ + "\n"
}

/// One message on its way to one target of one channel.
public struct NotificationDelivery: Sendable, Equatable {
    public var message: NotificationMessage
    public var channel: String
    /// The channel's own name for whom it goes to (what its `route(_:on:)` wrote).
    public var target: String
    /// 1 for the first attempt.
    public var attempt: Int
}

/// A way of telling people: the console's own list (`InAppChannel`), webhooks, email. See
/// `NotificationOutbox` for how the worker drives one.
public protocol NotificationChannel: Sendable {
    /// The `notification_delivery.channel` value: lower case letters, digits and `_`.
    var name: String { get }
    /// How long a claim holds a delivery from other workers: longer than one `deliver` may take.
    var lease: Duration { get }
    /// How many deliveries one pass claims at most.
    var batchSize: Int { get }
    /// False for a channel that delivers while it routes (`route` writes what the user sees):
    /// the worker then claims nothing of it.
    var queuesDeliveries: Bool { get }
    /// Who gets each message of `batch`, in the routing transaction (as Haven, which sees every
    /// row): one set-based statement, usually `NotificationOutbox.addDeliveries`.
    func route(_ batch: RoutingBatch, on connection: PGConnection) throws
    /// Sends one delivery; throws to try again later.
    func deliver(_ delivery: NotificationDelivery) async throws
    /// When to try again after a failed attempt (`attempt` 1 is the first); nil gives up and
    /// marks the delivery dead.
    func retryDelay(afterAttempt attempt: Int) -> Duration?
}

extension NotificationChannel {
    public var lease: Duration { .seconds(60) }
    public var batchSize: Int { 50 }
    public var queuesDeliveries: Bool { true }
    /// Doubling from 2 seconds up to an hour, for a day or so, then dead.
    public func retryDelay(afterAttempt attempt: Int) -> Duration? {
        guard attempt < 32 else { return nil }
        return .seconds(min(3600, 1 << min(attempt, 12)))
    }
}

extension StoreTransaction {
    /// Writes `message` to the outbox with this transaction (see `NotificationOutbox`).
    public func notify(_ message: NotificationMessage, onceKey: String? = nil) {
        notified = true
        NotificationOutbox.enqueue(message, onceKey: onceKey, on: connection)
    }

    /// The same, with the reference of the case `caseID` as this transaction's actor sees it.
    public func notify(_ message: NotificationMessage, referenceOf caseID: UUID) {
        notified = true
        NotificationOutbox.enqueue(message, referenceOf: caseID, on: connection)
    }
}
