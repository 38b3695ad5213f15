import Synchronization

/// Rung when a transaction that wrote to the notification outbox commits, so this instance's
/// delivery worker sends at once instead of at its next poll. Only a count: the worker compares
/// it with the one it last acted on. Other instances on the database still find the messages at
/// their poll.
public final class NotificationBell: Sendable {
    private let rings = Atomic<Int>(0)

    public init() {}

    func ring() { rings.add(1, ordering: .relaxed) }

    /// How many times it has rung.
    public var count: Int { rings.load(ordering: .relaxed) }
}
