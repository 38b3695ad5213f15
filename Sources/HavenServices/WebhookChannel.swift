import Delivery
import Foundation
import HavenCore
import HavenStore
import Postgres
import Sealing

/// The webhook channel of the notification outbox: each message goes to every live
/// subscription of its recipient organisation that asked for its kind (a delivery's target is
/// the subscription's id), posted as the Standard Webhooks convention signs it.
///
/// Each call runs under a total timeout and reads at most `responseLimit` bytes of the answer,
/// follows no redirect, and connects only to an address checked when it is made: the URL's
/// host is resolved, every address it resolves to must be public (`OutboundAddress`, unless
/// the operator allows private ones), and the connection is pinned to the checked address, so a
/// name that turns private after registration (DNS rebinding) is refused. Calls run on the
/// `Courier`'s threads side by side, so a slow receiver holds one thread for at most its
/// timeout while the others are served. A 2xx answer is delivered; anything else is tried
/// again on `WebhookSchedule` (exponential, jittered, at least a day) and then dead-lettered.
public struct WebhookChannel: NotificationChannel {
    public static let channelName = "webhook"

    public struct Settings: Sendable {
        public var allowPrivate: Bool
        public var timeoutMilliseconds: Int
        public var responseLimit: Int
        public var schedule: WebhookSchedule
        /// The console's public address, for the absolute link in the body; nil: the path only.
        public var consoleBase: String?

        public init(allowPrivate: Bool = false, timeoutMilliseconds: Int = 10_000, responseLimit: Int = 64 * 1024,
                    schedule: WebhookSchedule = .standard, consoleBase: String? = nil) {
            self.allowPrivate = allowPrivate
            self.timeoutMilliseconds = timeoutMilliseconds
            self.responseLimit = responseLimit
            self.schedule = schedule
            self.consoleBase = consoleBase
        }
    }

    /// Why a delivery did not arrive, in words fit for `last_error` and a log: never the URL,
    /// a header or a body.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let store: Store
    let courier: Courier
    let settings: Settings

    public init(store: Store, courier: Courier, settings: Settings = Settings()) {
        self.store = store
        self.courier = courier
        self.settings = settings
    }

    public var name: String { Self.channelName }
    /// Longer than one call may take, resolving included.
    public var lease: Duration { .milliseconds(settings.timeoutMilliseconds * 3) + .seconds(30) }
    public var batchSize: Int { 20 }

    public func route(_ batch: RoutingBatch, on connection: PGConnection) throws {
        try WebhookStore.addDeliveries(of: batch, channel: name, on: connection)
    }

    public func retryDelay(afterAttempt attempt: Int) -> Duration? {
        settings.schedule.delay(afterAttempt: attempt, fraction: Double.random(in: 0...1))
    }

    public func deliver(_ delivery: NotificationDelivery) async throws {
        guard let id = UUID(uuidString: delivery.target) else { throw Failure(description: "a webhook delivery without a subscription") }
        let now = Date()
        // A subscription deleted since routing has nothing left to send to.
        guard let signing = try await store.transaction(.system, { transaction in
            try WebhookStore.signing(id, at: now, keys: transaction.keys, on: transaction.connection)
        }) else { return }
        let message = delivery.message
        let body = WebhookPayload.body(messageID: message.id, kind: message.kind.rawValue, caseReference: message.caseReference,
                                       priority: message.priority.rawValue, link: message.link, consoleBase: settings.consoleBase,
                                       created: message.created)
        let timestamp = Int64(now.timeIntervalSince1970)
        let webhookID = message.id.lowercasedString
        try await post(url: signing.url, headers: [
            ("content-type", "application/json"),
            ("user-agent", "Haven-Webhooks/1"),
            ("webhook-id", webhookID),
            ("webhook-timestamp", String(timestamp)),
            ("webhook-signature", WebhookSignature.header(id: webhookID, timestamp: timestamp, body: body, keys: signing.keys)),
        ], body: body)
    }

    /// Checks the URL and the addresses its host resolves to, then posts to a checked address.
    func post(url: String, headers: [(name: String, value: String)], body: [UInt8]) async throws {
        let target: OutboundAddress.Target
        switch OutboundAddress.check(url: url, allowPrivate: settings.allowPrivate) {
        case .success(let checked): target = checked
        case .failure(let refusal): throw Failure(description: "refused: \(refusal.rawValue)")
        }
        let addresses = target.isLiteral ? [target.host] : try await courier.resolve(target.host)
        guard let address = OutboundAddress.pick(addresses, allowPrivate: settings.allowPrivate) else {
            throw Failure(description: "refused: \(OutboundAddress.Refusal.privateAddress.rawValue)")
        }
        let answer = try await courier.post(OutboundPost(
            url: url, headers: headers, body: body, timeoutMilliseconds: settings.timeoutMilliseconds, responseLimit: settings.responseLimit,
            allowPlainHTTP: settings.allowPrivate, pinnedAddress: target.isLiteral ? nil : address))
        guard answer.succeeded else { throw Failure(description: "status \(answer.status)") }
    }
}
