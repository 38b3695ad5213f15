import Foundation
import HavenCore
import HavenStore

/// An organisation's webhooks, the administrator's to manage (`AccessOperation.manageWebhooks`):
/// register a URL and the kinds of event its systems want, list them, rotate a secret with an
/// overlap, delete one. A secret is in the answer to creation and rotation only, and in no
/// audit event; neither is the URL (it may carry the receiver's own token).
public struct WebhookService: Sendable {
    public struct Settings: Sendable {
        /// The operator's setting: `http://` and private or loopback addresses allowed (tests,
        /// development); off in production.
        public var allowPrivate: Bool
        /// How long a rotated secret keeps signing beside its successor.
        public var rotationOverlap: TimeInterval

        public init(allowPrivate: Bool = false, rotationOverlap: TimeInterval = 24 * 3600) {
            self.allowPrivate = allowPrivate
            self.rotationOverlap = rotationOverlap
        }
    }

    let store: Store
    let settings: Settings

    public init(store: Store, settings: Settings = Settings()) {
        self.store = store
        self.settings = settings
    }

    /// The kinds of event a subscription may ask for.
    public static var kinds: [String] { NotificationKind.allCases.map(\.rawValue) }

    public func create(organisation: UUID, _ draft: WebhookDraft, context: AccessContext) async throws -> WebhookSecretIssued {
        try draft.validate(knownKinds: Set(Self.kinds), allowPrivate: settings.allowPrivate)
        let url = draft.url ?? "", kinds = draft.kinds ?? []
        return try await store.transaction(context) { transaction in
            try authorize(organisation, nil, transaction)
            let issued = try WebhookStore.create(organisation: organisation, url: url, kinds: kinds, createdBy: transaction.actor?.userID,
                                                 keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.create, .webhookCreate, entityKind: .webhook, entityID: issued.subscription.id.lowercasedString,
                                  subjectOrganisation: organisation, purpose: .administration, detail: ["kinds": .strings(issued.subscription.kinds)])
            return issued
        }
    }

    public func list(organisation: UUID, context: AccessContext) async throws -> [WebhookSubscription] {
        try await store.transaction(context) { transaction in
            try authorize(organisation, nil, transaction)
            return try WebhookStore.list(organisation: organisation, on: transaction.connection)
        }
    }

    public func rotate(organisation: UUID, _ id: UUID, context: AccessContext) async throws -> WebhookSecretIssued {
        let overlapUntil = Date().addingTimeInterval(settings.rotationOverlap)
        return try await store.transaction(context) { transaction in
            try authorize(organisation, id, transaction)
            guard let issued = try WebhookStore.rotate(id, organisation: organisation, overlapUntil: overlapUntil, keys: transaction.keys,
                                                       on: transaction.connection)
            else { throw StoreError.notFound("no such webhook") }
            try transaction.audit(.update, .webhookRotate, entityKind: .webhook, entityID: id.lowercasedString, subjectOrganisation: organisation,
                                  purpose: .administration, detail: ["overlap_seconds": .int(Int(settings.rotationOverlap))])
            return issued
        }
    }

    public func delete(organisation: UUID, _ id: UUID, context: AccessContext) async throws {
        try await store.transaction(context) { transaction in
            try authorize(organisation, id, transaction)
            guard try WebhookStore.delete(id, organisation: organisation, on: transaction.connection) else {
                throw StoreError.notFound("no such webhook")
            }
            try transaction.audit(.delete, .webhookDelete, entityKind: .webhook, entityID: id.lowercasedString, subjectOrganisation: organisation,
                                  purpose: .administration)
        }
    }

    /// Deliveries given up on after the whole retry schedule, newest first.
    public func deadLetters(organisation: UUID, _ id: UUID, context: AccessContext) async throws -> [WebhookDeadLetter] {
        try await store.transaction(context) { transaction in
            try authorize(organisation, id, transaction)
            guard try WebhookStore.find(id, organisation: organisation, on: transaction.connection) != nil else {
                throw StoreError.notFound("no such webhook")
            }
            return try WebhookDeadLetters.list(organisation: organisation, subscription: id, on: transaction.connection)
        }
    }

    /// Sends a dead delivery again: due now, on the whole schedule afresh.
    public func replay(organisation: UUID, _ id: UUID, message: UUID, context: AccessContext) async throws {
        try await store.transaction(context) { transaction in
            try authorize(organisation, id, transaction)
            guard try WebhookDeadLetters.replay(organisation: organisation, subscription: id, message: message, on: transaction.connection) else {
                throw StoreError.notFound("no such dead letter")
            }
            try transaction.audit(.execute, .webhookReplay, entityKind: .webhook, entityID: id.lowercasedString, subjectOrganisation: organisation,
                                  purpose: .administration, detail: ["message": .string(message.lowercasedString)])
        }
    }

    /// The policy on the organisation, then the organisation itself: an unknown one is 404.
    func authorize(_ organisation: UUID, _ id: UUID?, _ transaction: StoreTransaction) throws {
        try transaction.authorize(.manageWebhooks, .organisation(organisation), entityKind: .webhook, entityID: id?.lowercasedString,
                                  subjectOrganisation: organisation)
        guard try OrganisationStore.find(organisation, on: transaction.connection) != nil else {
            throw StoreError.notFound("no such organisation")
        }
    }
}
