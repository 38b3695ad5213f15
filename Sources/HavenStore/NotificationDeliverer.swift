import Foundation
import HavenCore
import Logging
import Postgres

/// The delivery worker `haven serve` runs: routes new outbox messages to their channels and
/// sends what is due, as `NotificationOutbox` describes. Any number of workers may run on one
/// database: rows are claimed with `FOR UPDATE SKIP LOCKED`, so none sends a delivery another
/// holds, and a delivery whose worker died is sent again once its lease ends.
public struct NotificationDeliverer: Sendable {
    let store: Store
    let channels: [any NotificationChannel]
    /// How many messages one routing transaction takes.
    let routeBatch: Int

    public init(store: Store, channels: [any NotificationChannel], routeBatch: Int = 200) {
        self.store = store
        self.channels = channels
        self.routeBatch = routeBatch
    }

    /// Routes the messages written so far, then sends every channel's due deliveries, batch by
    /// batch, until none is due. Returns how many deliveries were sent.
    @discardableResult
    public func deliverDue(logger: Logger? = nil) async throws -> Int {
        let channels = self.channels, routeBatch = self.routeBatch
        while try await store.transaction(.system, { transaction in
            try NotificationOutbox.route(channels: channels, limit: routeBatch, on: transaction.connection)
        }) == routeBatch {}
        return try await withThrowingTaskGroup(of: Int.self) { group in
            // Channels side by side: a slow one does not hold up the others.
            for channel in channels where channel.queuesDeliveries {
                group.addTask { try await deliverDue(on: channel, logger: logger) }
            }
            return try await group.reduce(0, +)
        }
    }

    private func deliverDue(on channel: any NotificationChannel, logger: Logger?) async throws -> Int {
        var sent = 0
        while !Task.isCancelled {
            let claimed = try await store.transaction(.system) { transaction in
                try NotificationOutbox.claim(channel: channel.name, limit: channel.batchSize, lease: channel.lease, on: transaction.connection)
            }
            if claimed.isEmpty { break }
            let outcomes = await withTaskGroup(of: (NotificationDelivery, String?).self) { group in
                for delivery in claimed {
                    group.addTask {
                        do {
                            try await channel.deliver(delivery)
                            return (delivery, nil)
                        } catch {
                            return (delivery, PGError.loggable(error))
                        }
                    }
                }
                return await group.reduce(into: [(NotificationDelivery, String?)]()) { $0.append($1) }
            }
            try await store.transaction(.system) { transaction in
                try NotificationOutbox.markSent(outcomes.filter { $0.1 == nil }.map(\.0), channel: channel.name, on: transaction.connection)
                for case let (delivery, failure?) in outcomes {
                    try NotificationOutbox.markFailed(delivery, error: failure, retryAfter: channel.retryDelay(afterAttempt: delivery.attempt),
                                                      on: transaction.connection)
                }
            }
            let failed = outcomes.filter { $0.1 != nil }.count
            if failed > 0 {
                logger?.warning("notification deliveries failed; will retry", metadata: ["channel": "\(channel.name)", "count": "\(failed)"])
            }
            sent += outcomes.count - failed
            // A batch that was not full was the last due one; failures wait for their retry time.
            if claimed.count < channel.batchSize { break }
        }
        return sent
    }

    /// Delivers what is due every `interval`, and within `listening` of a commit on this
    /// instance that notified someone (the store's bell: an emergency referral is not left
    /// waiting for the poll).
    public func run(every interval: Duration, listening: Duration = .milliseconds(50), logger: Logger) async {
        let clock = ContinuousClock()
        var heard = -1
        var last = clock.now
        while !Task.isCancelled {
            let rung = store.notificationBell.count
            if rung != heard || clock.now - last >= interval {
                heard = rung
                last = clock.now
                do {
                    try await deliverDue(logger: logger)
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("notification delivery failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
                }
            }
            try? await Task.sleep(for: listening)
        }
    }
}
