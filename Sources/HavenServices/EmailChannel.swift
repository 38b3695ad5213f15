import Delivery
import Foundation
import HavenCore
import HavenStore
import Postgres

/// The email channel of the notification outbox: a message goes to each user of the recipient
/// organisation who opted in to its kind (`NotificationEmailStore.recipients`), in the user's
/// language, through the SMTP relay the operator configured. The email says what happened, the
/// case's reference, the priority and the console link, nothing else (`NotificationMail`);
/// its `Message-ID` is the outbox message's id, so a repeat after a crash can be recognised.
/// A delivery's target is the user's id: the address is read (and opened) only when sending,
/// so a user who changed or withdrew it since is honoured.
public struct EmailChannel: NotificationChannel {
    public static let channelName = "email"

    /// Where mail goes and how. The password is read from a file by whoever builds this.
    public struct Relay: Sendable {
        public var host: String
        public var port: Int
        public var security: OutboundMail.Security
        public var caFile: String?
        public var username: String?
        public var password: String?
        /// The `From` address, which is also the envelope sender.
        public var from: String
        /// The console's public address for the links; nil: the path only.
        public var consoleBase: String?
        public var timeoutMilliseconds: Int

        public init(host: String, port: Int, security: OutboundMail.Security = .startTLS, caFile: String? = nil, username: String? = nil,
                    password: String? = nil, from: String, consoleBase: String? = nil, timeoutMilliseconds: Int = 30_000) {
            self.host = host
            self.port = port
            self.security = security
            self.caFile = caFile
            self.username = username
            self.password = password
            self.from = from
            self.consoleBase = consoleBase
            self.timeoutMilliseconds = timeoutMilliseconds
        }

        /// Plain text is allowed only to a relay on this machine: anywhere else, STARTTLS or TLS.
        public static func isLoopback(_ host: String) -> Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// Why a mail did not go, fit for `last_error`: never an address or the message.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    let store: Store
    let courier: Courier
    let relay: Relay
    /// The words of a notification in a language (the console's catalogue).
    let text: @Sendable (NotificationMessage, Language) -> NotificationEmailText

    public init(store: Store, courier: Courier, relay: Relay, text: @escaping @Sendable (NotificationMessage, Language) -> NotificationEmailText) {
        self.store = store
        self.courier = courier
        self.relay = relay
        self.text = text
    }

    public var name: String { Self.channelName }
    public var lease: Duration { .milliseconds(relay.timeoutMilliseconds * 2) + .seconds(30) }
    public var batchSize: Int { 20 }

    public func route(_ batch: RoutingBatch, on connection: PGConnection) throws {
        try NotificationEmailStore.addDeliveries(of: batch, channel: name, on: connection)
    }

    public func deliver(_ delivery: NotificationDelivery) async throws {
        guard let user = UUID(uuidString: delivery.target) else { throw Failure(description: "an email delivery without a user") }
        let message = delivery.message
        guard let destination = try await store.transaction(.system, { transaction in
            try NotificationEmailStore.destination(of: user, for: message.kind, keys: transaction.keys, on: transaction.connection)
        }) else { return }
        let domain = relay.from.split(separator: "@").last.map(String.init) ?? "haven.invalid"
        let bytes = NotificationMail.compose(message, text: text(message, destination.language), from: relay.from, to: destination.address,
                                             consoleBase: relay.consoleBase, domain: domain)
        do {
            try await courier.send(OutboundMail(host: relay.host, port: relay.port, security: relay.security, caFile: relay.caFile,
                                                username: relay.username, password: relay.password, from: relay.from,
                                                to: destination.address, message: bytes, timeoutMilliseconds: relay.timeoutMilliseconds))
        } catch let error as DeliveryError {
            throw Failure(description: "smtp \(error.kind), curl \(error.code)")
        }
    }
}

/// What users choose for themselves: which notifications also come by email, and where to.
public struct NotificationEmailService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The user's own choice, or nil when they receive no email.
    public func choice(context: AccessContext) async throws -> NotificationEmailChoice? {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try NotificationEmailStore.choice(of: actor.userID, keys: transaction.keys, on: transaction.connection)
        }
    }

    /// Checks and stores the user's choice (no kinds: no email, and the address is dropped);
    /// audited as a change of their own account, without the address.
    @discardableResult
    public func choose(address: String?, kinds: [String]?, context: AccessContext) async throws -> NotificationEmailChoice? {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let wanted = kinds ?? []
        let choice = wanted.isEmpty ? NotificationEmailChoice(address: "", kinds: []) : try NotificationEmailChoice.checked(address: address, kinds: wanted)
        try await store.transaction(context) { transaction in
            try NotificationEmailStore.save(choice, of: actor.userID, keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.update, .userUpdate, entityKind: .user, entityID: actor.userID.lowercasedString,
                                  subjectOrganisation: actor.organisationID, purpose: .administration,
                                  detail: ["fields": ["notification_email"]])
        }
        return choice.kinds.isEmpty ? nil : choice
    }
}
