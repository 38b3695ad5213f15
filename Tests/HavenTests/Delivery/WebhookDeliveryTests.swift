import Delivery
import Foundation
import HavenCore
import HavenServices
import HavenStore
import Postgres
import Sealing
import Testing

/// Webhooks end to end: outbox messages on a real database, delivered by the outbox's worker
/// through the webhook channel over real HTTP to receivers on loopback (the operator's setting
/// that allows loopback `http://` is on, as only tests and development should have it).
@Suite struct WebhookDeliveryTests {
    struct World {
        let store: Store
        let courier: Courier
        let organisation: UUID

        func channel(_ schedule: WebhookSchedule = .init(base: .milliseconds(1), cap: .milliseconds(2), giveUpAfter: .seconds(3600)),
                     timeoutMilliseconds: Int = 20_000, allowPrivate: Bool = true) -> WebhookChannel {
            WebhookChannel(store: store, courier: courier, settings: .init(
                allowPrivate: allowPrivate, timeoutMilliseconds: timeoutMilliseconds, schedule: schedule, consoleBase: "https://haven.example.org"))
        }

        func subscribe(_ url: String, kinds: [String] = ["referral.arrived"]) async throws -> WebhookSecretIssued {
            let organisation = self.organisation
            return try await store.transaction(.system) { transaction in
                try WebhookStore.create(organisation: organisation, url: url, kinds: kinds, createdBy: nil, keys: transaction.keys,
                                        on: transaction.connection)
            }
        }

        @discardableResult
        func announce(_ kind: NotificationKind = .referralArrived, reference: String = "MD-2026-000123") async throws -> NotificationMessage {
            let message = NotificationMessage(kind: kind, recipientOrganisation: organisation, caseReference: reference, priority: .emergency,
                                              link: NotificationLink.referral(UUID()))
            try await store.transaction(.system) { transaction in transaction.notify(message) }
            return message
        }

        /// The webhook deliveries' states, by target.
        func deliveries() async throws -> [(target: String, state: String, attempts: Int, error: String?)] {
            try await store.transaction(.system) { transaction in
                try transaction.connection.query("""
                    SELECT target, state, attempts, last_error FROM notification_delivery WHERE channel = 'webhook' ORDER BY created_at, target
                    """).rows.map { (try $0.decode(at: 0), try $0.decode(at: 1), try $0.decode(at: 2), try $0.decode(at: 3)) }
            }
        }
    }

    static func withWorld(_ body: (World) async throws -> Void) async throws {
        try await withTestDatabase { database in
            let pool = try database.pool(size: 4)
            let store = try Store(pool: pool, keys: TestKeys.ring)
            let courier = Courier(threads: 4)
            let organisation = try await store.transaction(.system) { transaction in
                try OrganisationStore.create(OrganisationDraft(name: "Shelter \(UUID().uuidString.prefix(6))", type: .ngo, country: "MD",
                                                               mandate: Mandate()), on: transaction.connection).id
            }
            do {
                try await body(World(store: store, courier: courier, organisation: organisation))
            } catch {
                await courier.shutdown()
                await pool.close()
                throw error
            }
            await courier.shutdown()
            await pool.close()
        }
    }

    /// Checks a Standard Webhooks signature with Python's own hmac and base64, apart from
    /// Haven's code and libcrypto binding.
    static func independentlyVerified(secret: String, id: String, timestamp: String, body: [UInt8], header: String) throws -> Bool {
        let script = """
            import base64, hashlib, hmac, sys
            secret, msg_id, ts, header = sys.argv[1:5]
            body = sys.stdin.buffer.read()
            key = base64.b64decode(secret[len("whsec_"):])
            expected = "v1," + base64.b64encode(hmac.new(key, msg_id.encode() + b"." + ts.encode() + b"." + body, hashlib.sha256).digest()).decode()
            print("ok" if any(hmac.compare_digest(expected, s) for s in header.split(" ")) else "bad")
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, secret, id, timestamp, header]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(body))
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        let answer = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        return answer.trimmingCharacters(in: .whitespacesAndNewlines) == "ok"
    }

    @Test func aReceiverGetsOneCorrectlySignedDeliveryWithNoIdentifyingValue() async throws {
        try await Self.withWorld { world in
            let receiver = try LoopbackReceiver()
            defer { receiver.stop() }
            let issued = try await world.subscribe(receiver.url, kinds: ["referral.arrived"])
            let message = try await world.announce()
            try await world.announce(.closureRequested)   // not asked for: not sent
            try await NotificationDeliverer(store: world.store, channels: [world.channel()]).deliverDue()

            let requests = receiver.requests
            try #require(requests.count == 1)
            let request = requests[0]
            #expect(request.headers["webhook-id"] == message.id.lowercasedString)
            #expect(request.headers["content-type"] == "application/json")
            let timestamp = try #require(request.headers["webhook-timestamp"])
            let signature = try #require(request.headers["webhook-signature"])
            #expect(abs((Int64(timestamp) ?? 0) - Int64(Date().timeIntervalSince1970)) < 600)
            #expect(try Self.independentlyVerified(secret: issued.secret, id: message.id.lowercasedString, timestamp: timestamp,
                                                   body: request.body, header: signature))
            // A signature under another secret does not verify: the check can fail.
            #expect(try !Self.independentlyVerified(secret: try WebhookSignature.newSecret(), id: message.id.lowercasedString, timestamp: timestamp,
                                                    body: request.body, header: signature))

            let body = try #require(try JSONSerialization.jsonObject(with: Data(request.body)) as? [String: Any])
            #expect(Set(body.keys) == ["type", "timestamp", "data"])
            #expect(body["type"] as? String == "referral.arrived")
            let data = try #require(body["data"] as? [String: Any])
            #expect(Set(data.keys) == ["id", "case_reference", "priority", "link"])
            #expect(data["case_reference"] as? String == "MD-2026-000123")
            #expect(data["priority"] as? String == "emergency")
            #expect(data["link"] as? String == "https://haven.example.org" + message.link)
            #expect(try await world.deliveries().map(\.state) == ["sent"])

            // Delivered once: another pass sends nothing more.
            try await NotificationDeliverer(store: world.store, channels: [world.channel()]).deliverDue()
            #expect(receiver.requests.count == 1)
        }
    }

    @Test func aReceiverAnswering500IsTriedAgainWithTheSameIDUntilItAccepts() async throws {
        try await Self.withWorld { world in
            let receiver = try LoopbackReceiver { _, before in .init(status: before < 2 ? 500 : 204) }
            defer { receiver.stop() }
            _ = try await world.subscribe(receiver.url)
            let message = try await world.announce()
            let deliverer = NotificationDeliverer(store: world.store, channels: [world.channel()])
            for _ in 0..<200 {
                if try await world.deliveries().first?.state == "sent" { break }
                try await deliverer.deliverDue()
                try await Task.sleep(for: .milliseconds(20))
            }
            let requests = receiver.requests
            #expect(requests.count == 3)
            #expect(Set(requests.map { $0.headers["webhook-id"] }) == [message.id.lowercasedString])
            let delivery = try #require(try await world.deliveries().first)
            #expect(delivery.state == "sent" && delivery.attempts == 3)
        }
    }

    @Test func aReceiverThatIsDownGetsEverythingOnceItIsBack() async throws {
        try await Self.withWorld { world in
            // Down: nothing listens on the port (connections are refused) while messages arrive.
            let gone = try LoopbackReceiver()
            let port = gone.port, url = gone.url
            gone.stop()
            _ = try await world.subscribe(url)
            var messages: [NotificationMessage] = []
            for _ in 0..<3 { messages.append(try await world.announce()) }
            let deliverer = NotificationDeliverer(store: world.store, channels: [world.channel()])
            for _ in 0..<5 {
                try await deliverer.deliverDue()
                try await Task.sleep(for: .milliseconds(20))
            }
            let whileDown = try await world.deliveries()
            #expect(whileDown.count == 3 && whileDown.allSatisfy { $0.state == "pending" && $0.attempts >= 2 && $0.error != nil },
                    "\(whileDown)")
            messages.append(try await world.announce())

            // Back on the same address: every message arrives, each once.
            let back = try LoopbackReceiver(port: port)
            defer { back.stop() }
            for _ in 0..<200 {
                if try await world.deliveries().allSatisfy({ $0.state == "sent" }) { break }
                try await deliverer.deliverDue()
                try await Task.sleep(for: .milliseconds(20))
            }
            let ids = back.requests.compactMap { $0.headers["webhook-id"] }
            #expect(ids.sorted() == messages.map(\.id.lowercasedString).sorted())
            #expect(try await world.deliveries().map(\.state) == ["sent", "sent", "sent", "sent"])
        }
    }

    @Test func aSlowReceiverDoesNotHoldUpAnother() async throws {
        try await Self.withWorld { world in
            // The slow receiver answers only when the fast one has had its delivery, or after 15 s;
            // one at a time, the fast one would wait for those 15 s and `released` stays false.
            let release = DispatchSemaphore(value: 0)
            let released = Flag()
            let slow = try LoopbackReceiver { _, _ in
                let inTime = release.wait(timeout: .now() + 15) == .success
                released.set(inTime)
                return .init(status: 200)
            }
            defer { slow.stop() }
            let fast = try LoopbackReceiver()
            defer { fast.stop() }
            _ = try await world.subscribe(slow.url)
            _ = try await world.subscribe(fast.url)
            try await world.announce()
            let deliverer = NotificationDeliverer(store: world.store, channels: [world.channel(timeoutMilliseconds: 30_000)])
            let pass = Task { try await deliverer.deliverDue() }
            let arrived = await fast.wait(seconds: 30) { $0.count == 1 }
            release.signal()
            _ = try await pass.value
            #expect(arrived.count == 1)
            #expect(released.value, "the fast receiver waited for the slow one")
            #expect(try await world.deliveries().map(\.state) == ["sent", "sent"])
        }
    }

    @Test func aDeliveryGivenUpOnIsADeadLetterTheAdministratorReplays() async throws {
        try await Self.withWorld { world in
            let accepting = Flag()
            let receiver = try LoopbackReceiver { _, _ in .init(status: accepting.value ? 200 : 503) }
            defer { receiver.stop() }
            let issued = try await world.subscribe(receiver.url)
            let message = try await world.announce()
            let channel = world.channel(.init(base: .milliseconds(1), cap: .milliseconds(1), giveUpAfter: .milliseconds(2)))
            let deliverer = NotificationDeliverer(store: world.store, channels: [channel])
            for _ in 0..<200 {
                if try await world.deliveries().first?.state == "dead" { break }
                try await deliverer.deliverDue()
                try await Task.sleep(for: .milliseconds(10))
            }
            let dead = try #require(try await world.deliveries().first)
            #expect(dead.state == "dead" && dead.error == "status 503")
            let tries = receiver.requests.count
            #expect(tries >= 2)

            // The administrator sees it and sends it again.
            let admin = AccessContext(principal: .user(Actor(userID: UUID(), organisationID: world.organisation, role: .admin)))
            let service = WebhookService(store: world.store, settings: .init(allowPrivate: true))
            let letters = try await service.deadLetters(organisation: world.organisation, issued.subscription.id, context: admin)
            #expect(letters.map(\.message) == [message.id] && letters.first?.kind == "referral.arrived")
            accepting.set(true)
            try await service.replay(organisation: world.organisation, issued.subscription.id, message: message.id, context: admin)
            try await deliverer.deliverDue()
            #expect(receiver.requests.count == tries + 1)
            #expect(receiver.requests.last?.headers["webhook-id"] == message.id.lowercasedString)
            #expect(try await world.deliveries().first?.state == "sent")
            #expect(try await service.deadLetters(organisation: world.organisation, issued.subscription.id, context: admin).isEmpty)
            // Replaying what is not dead is 404.
            await #expect(throws: StoreError.self) {
                try await service.replay(organisation: world.organisation, issued.subscription.id, message: message.id, context: admin)
            }
        }
    }

    @Test func aNameThatResolvesToAPrivateAddressIsRefusedAtDelivery() async throws {
        try await Self.withWorld { world in
            let receiver = try LoopbackReceiver()
            defer { receiver.stop() }
            // A literal loopback URL stored as if registration had let it through, and a name
            // that passes registration but resolves to loopback (as after DNS rebinding).
            _ = try await world.subscribe("https://127.0.0.1:\(receiver.port)/hook")
            // This machine's own name resolves to one of its own addresses: loopback or private.
            let host = ProcessInfo.processInfo.hostName
            let url = "https://\(host):\(receiver.port)/hook"
            #expect((try? OutboundAddress.check(url: url, allowPrivate: false).get()) != nil, "the name passes registration")
            let resolved = try await world.courier.resolve(host)
            try #require(!resolved.contains(where: OutboundAddress.isPublic(address:)), "\(host) resolves to a public address here")
            _ = try await world.subscribe(url)
            try await world.announce()
            let channel = world.channel(allowPrivate: false)
            try await NotificationDeliverer(store: world.store, channels: [channel]).deliverDue()
            #expect(receiver.requests.isEmpty)
            let states = try await world.deliveries()
            #expect(states.count == 2)
            #expect(states.allSatisfy { $0.state == "pending" && $0.error == "refused: private-address" })
        }
    }
}

/// A flag set on a receiver's thread and read by the test.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var state = false

    var value: Bool { lock.withLock { state } }
    func set(_ value: Bool) { lock.withLock { state = value } }
}
