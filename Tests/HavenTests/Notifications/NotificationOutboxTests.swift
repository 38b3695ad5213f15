import Foundation
import HavenCore
@testable import HavenStore
import Postgres
import Synchronization
import Testing

/// The outbox and the delivery worker on a real database: a message is written with its
/// action or not at all, routed once, and delivered once by any number of workers; a delivery
/// whose worker died is delivered again with the same message id.
@Suite struct NotificationOutboxTests {
    /// Records every delivery it is handed; fails the ones `failing` names.
    final class RecordingChannel: NotificationChannel, @unchecked Sendable {
        let name: String
        let targets: [String]
        let delivered = Mutex<[String]>([])
        let failing: Set<String>

        init(name: String = "recording", targets: [String] = ["a", "b"], failing: Set<String> = []) {
            self.name = name
            self.targets = targets
            self.failing = failing
        }

        var batchSize: Int { 7 }
        func route(_ batch: RoutingBatch, on connection: PGConnection) throws {
            try connection.execute("""
                INSERT INTO notification_delivery (message_id, channel, target)
                SELECT m, $2::text, t FROM unnest($1::uuid[]) AS m, unnest($3::text[]) AS t
                """, [batch.ids, name, PGTextArray(targets)])
        }
        func deliver(_ delivery: NotificationDelivery) async throws {
            if failing.contains(delivery.target) { throw StoreError.unavailable("receiver down") }
            await Task.yield()
            delivered.withLock { $0.append(delivery.message.id.lowercasedString + "/" + delivery.target) }
        }
        func retryDelay(afterAttempt attempt: Int) -> Duration? { attempt < 2 ? .seconds(3600) : nil }
    }

    static func message(_ organisation: UUID, kind: NotificationKind = .referralArrived) -> NotificationMessage {
        NotificationMessage(kind: kind, recipientOrganisation: organisation, caseReference: "MD-2026-000001", priority: .urgent,
                            link: NotificationLink.referral(UUID()))
    }

    @Test func aRolledBackActionLeavesNoMessage() async throws {
        try await TestApp.run { app, _ in
            let organisation = try await app.organisation()
            struct Abandoned: Error {}
            let rung = app.store.notificationBell.count
            await #expect(throws: Abandoned.self) {
                try await app.store.transaction(.system) { transaction in
                    transaction.notify(Self.message(organisation.id))
                    throw Abandoned()
                }
            }
            #expect(try CaseKit.count(app, "notification_outbox") == 0)
            #expect(app.store.notificationBell.count == rung, "a rollback does not wake the delivery worker")
            try await app.store.transaction(.system) { $0.notify(Self.message(organisation.id)) }
            #expect(try CaseKit.count(app, "notification_outbox") == 1)
            #expect(app.store.notificationBell.count == rung + 1, "a commit that notified wakes it")
        }
    }

    @Test func twoWorkersDeliverEachMessageOnce() async throws {
        try await TestApp.run(poolSize: 8) { app, _ in
            let organisation = try await app.organisation()
            let messages = (0..<40).map { _ in Self.message(organisation.id) }
            try await app.store.transaction(.system) { transaction in
                for message in messages { transaction.notify(message) }
            }
            let channel = RecordingChannel()
            let first = NotificationDeliverer(store: app.store, channels: [channel], routeBatch: 5)
            let second = NotificationDeliverer(store: app.store, channels: [channel], routeBatch: 5)
            async let one = first.deliverDue()
            async let two = second.deliverDue()
            _ = try await (one, two)
            // Whatever either left (a batch the other held while it looked) goes on the next pass.
            try await first.deliverDue()
            let delivered = channel.delivered.withLock { $0 }
            #expect(delivered.count == 80)
            #expect(Set(delivered).count == 80, "a delivery was sent twice")
            #expect(try CaseKit.count(app, "notification_delivery", where: "state = 'sent' AND attempts = 1") == 80)
            #expect(try CaseKit.count(app, "notification_outbox", where: "routed_at IS NULL") == 0)
        }
    }

    @Test func aFailedDeliveryWaitsAndThenDies() async throws {
        try await TestApp.run { app, _ in
            let organisation = try await app.organisation()
            try await app.store.transaction(.system) { $0.notify(Self.message(organisation.id)) }
            let channel = RecordingChannel(targets: ["up", "down"], failing: ["down"])
            let worker = NotificationDeliverer(store: app.store, channels: [channel])
            #expect(try await worker.deliverDue() == 1)
            #expect(try CaseKit.count(app, "notification_delivery", where: "target = 'down' AND state = 'pending' AND attempts = 1 AND last_error IS NOT NULL AND next_attempt_at > now()") == 1)
            // Not due yet: the next pass leaves it.
            #expect(try await worker.deliverDue() == 0)
            _ = try CaseKit.ownerRows(app, "UPDATE notification_delivery SET next_attempt_at = now() WHERE target = 'down'")
            #expect(try await worker.deliverDue() == 0)
            #expect(try CaseKit.count(app, "notification_delivery", where: "target = 'down' AND state = 'dead' AND attempts = 2") == 1)
        }
    }

    @Test func aDeliveryWhoseWorkerDiedIsSentAgainWithTheSameID() async throws {
        try await TestApp.run { app, _ in
            let organisation = try await app.organisation()
            let message = Self.message(organisation.id)
            try await app.store.transaction(.system) { $0.notify(message) }
            let channel = RecordingChannel(targets: ["only"])
            // A worker routes and claims, then dies before it marks the delivery sent.
            let claimed = try await app.store.transaction(.system) { transaction in
                _ = try NotificationOutbox.route(channels: [channel], limit: 10, on: transaction.connection)
                return try NotificationOutbox.claim(channel: channel.name, limit: 10, lease: .seconds(3600), on: transaction.connection)
            }
            #expect(claimed.map(\.message.id) == [message.id])
            let worker = NotificationDeliverer(store: app.store, channels: [channel])
            #expect(try await worker.deliverDue() == 0, "a claimed delivery is held until its lease ends")
            _ = try CaseKit.ownerRows(app, "UPDATE notification_delivery SET next_attempt_at = now()")
            #expect(try await worker.deliverDue() == 1)
            #expect(channel.delivered.withLock { $0 } == [message.id.lowercasedString + "/only"])
            #expect(try CaseKit.count(app, "notification_delivery", where: "state = 'sent' AND attempts = 2") == 1)
        }
    }

    @Test func theInAppChannelTellsTheRightUsersOnce() async throws {
        try await TestApp.run { app, _ in
            let organisation = try await app.organisation()
            let partner = try await app.user(.partner, in: organisation.id)
            let supervisor = try await app.user(.supervisor, in: organisation.id)
            let admin = try await app.user(.admin, in: organisation.id)
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let arrived = Self.message(organisation.id)
            let closure = NotificationMessage(kind: .closureRequested, recipientOrganisation: organisation.id, caseReference: "MD-2026-000002",
                                              link: NotificationLink.closure(UUID()))
            let answer = NotificationMessage(kind: .closureDeclined, recipientOrganisation: organisation.id, recipientUser: caseworker.id,
                                             caseReference: "MD-2026-000002", link: NotificationLink.caseFile(UUID()))
            try await app.store.transaction(.system) { transaction in
                for message in [arrived, closure, answer] { transaction.notify(message) }
            }
            let worker = NotificationDeliverer(store: app.store, channels: [InAppChannel()])
            try await worker.deliverDue()
            try await worker.deliverDue()
            func users(_ message: NotificationMessage) throws -> Set<String> {
                Set(try CaseKit.ownerRows(app, "SELECT user_id::text FROM notification WHERE message_id = $1", [message.id]).compactMap { $0[0] })
            }
            #expect(try users(arrived) == Set([partner.id, supervisor.id, caseworker.id].map(\.lowercasedString)))
            #expect(try users(closure) == [supervisor.id.lowercasedString])
            #expect(try users(answer) == [caseworker.id.lowercasedString])
            #expect(try CaseKit.count(app, "notification", where: "user_id = $1", [admin.id]) == 0)
        }
    }
}
