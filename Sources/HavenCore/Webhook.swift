import Foundation

/// A partner organisation's webhook: where Haven posts the events its systems asked for.
/// Its secret is never part of it: shown once when made or rotated (`WebhookSecretIssued`).
public struct WebhookSubscription: Sendable, Equatable {
    public var id: UUID
    public var organisation: UUID
    public var url: String
    /// Notification kinds (`referral.arrived`, ...), sorted.
    public var kinds: [String]
    public var created: Date
    public var rotated: Date?
    /// Until when the secret before the last rotation still signs too.
    public var previousSecretUntil: Date?

    public init(id: UUID, organisation: UUID, url: String, kinds: [String], created: Date, rotated: Date?, previousSecretUntil: Date?) {
        self.id = id
        self.organisation = organisation
        self.url = url
        self.kinds = kinds
        self.created = created
        self.rotated = rotated
        self.previousSecretUntil = previousSecretUntil
    }
}

/// A subscription with the secret just made for it: the only time the secret is shown.
public struct WebhookSecretIssued: Sendable, Equatable {
    public var subscription: WebhookSubscription
    public var secret: String

    public init(subscription: WebhookSubscription, secret: String) {
        self.subscription = subscription
        self.secret = secret
    }
}

/// What an administrator registers: a URL and the kinds of event wanted.
public struct WebhookDraft: Sendable, Equatable {
    public var url: String?
    public var kinds: [String]?

    public init(url: String?, kinds: [String]?) {
        self.url = url
        self.kinds = kinds
    }

    /// The URL must pass `OutboundAddress` (https to a public address unless the operator
    /// allows private ones); the kinds must be known, at least one, each once.
    public func validate(knownKinds: Set<String>, allowPrivate: Bool) throws {
        var validator = Validator()
        validator.text(url, "url", required: true, max: OutboundAddress.maximumLength)
        if let url, !url.isEmpty, url.count <= OutboundAddress.maximumLength {
            switch OutboundAddress.check(url: url, allowPrivate: allowPrivate) {
            case .success: break
            case .failure(.scheme): validator.add("url", "must start with https://")
            case .failure(.privateAddress): validator.add("url", "must reach a public address, not a loopback, private or link-local one")
            case .failure(.malformed): validator.add("url", "must be a URL with a host name, no credentials and no fragment")
            }
        }
        if let kinds {
            validator.check(!kinds.isEmpty, "kinds", "must name at least one kind of event")
            validator.distinct(kinds, "kinds")
            for (index, kind) in kinds.enumerated() where !knownKinds.contains(kind) {
                validator.add("kinds/\(index)", "is not a kind of event: one of \(knownKinds.sorted().joined(separator: ", "))")
            }
        } else {
            validator.add("kinds", "is required")
        }
        if !validator.errors.isEmpty { throw ValidationFailure(validator.errors) }
    }
}

/// When a failed webhook delivery is tried again: exponential backoff from `base`, doubling up
/// to `cap`, each wait drawn between half and all of it (jitter, so receivers coming back are
/// not hit by every sender at once), for at least `giveUpAfter` in all (a day by default); then
/// the delivery is dead-lettered for the administrator to replay.
public struct WebhookSchedule: Sendable, Equatable {
    public var base: Duration
    public var cap: Duration
    public var giveUpAfter: Duration

    public static let standard = WebhookSchedule(base: .seconds(5), cap: .seconds(3600), giveUpAfter: .seconds(24 * 3600))

    public init(base: Duration, cap: Duration, giveUpAfter: Duration) {
        self.base = base
        self.cap = cap
        self.giveUpAfter = giveUpAfter
    }

    /// The full (unjittered) wait after attempt `attempt` (1 is the first).
    public func ceiling(afterAttempt attempt: Int) -> Duration {
        let doublings = min(max(attempt - 1, 0), 40)
        var wait = base
        for _ in 0..<doublings {
            wait = wait * 2
            if wait >= cap { return cap }
        }
        return min(wait, cap)
    }

    /// The wait after failed attempt `attempt`, `fraction` (0...1, random) placing it between
    /// half and all of the ceiling; nil once the shortest waits so far already span
    /// `giveUpAfter`, so a delivery is tried for at least that long whatever the draws.
    public func delay(afterAttempt attempt: Int, fraction: Double) -> Duration? {
        guard attempt >= 1 else { return ceiling(afterAttempt: 1) }
        var shortest = Duration.zero
        for previous in 1..<attempt { shortest += ceiling(afterAttempt: previous) / 2 }
        if shortest >= giveUpAfter { return nil }
        let ceiling = ceiling(afterAttempt: attempt)
        return ceiling / 2 + ceiling * (min(max(fraction, 0), 1) / 2)
    }
}

/// The body of a webhook delivery, Standard Webhooks' shape (`type`, `timestamp`, `data`): the
/// message id (receivers drop repeats by it), the kind, the case's reference, the priority,
/// the console link and the time. Never an identifying value nor case content: the receiver
/// reads those in Haven, under its policy and audit.
public enum WebhookPayload {
    public static func body(messageID: UUID, kind: String, caseReference: String?, priority: String, link: String, consoleBase: String?,
                            created: Date) -> [UInt8] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let base = consoleBase.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 } ?? ""
        var data: [String: Any] = ["id": messageID.lowercasedString, "priority": priority, "link": base + link]
        data["case_reference"] = caseReference ?? NSNull()
        let object: [String: Any] = ["type": kind, "timestamp": formatter.string(from: created), "data": data]
        return Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8))
    }
}

/// A webhook delivery given up on, for the administrator to see and replay. Its last error is
/// the channel's own words (a status code, a timeout), never a body.
public struct WebhookDeadLetter: Sendable, Equatable {
    public var message: UUID
    public var subscription: UUID
    public var kind: String
    public var attempts: Int
    public var lastError: String?
    public var created: Date

    public init(message: UUID, subscription: UUID, kind: String, attempts: Int, lastError: String?, created: Date) {
        self.message = message
        self.subscription = subscription
        self.kind = kind
        self.attempts = attempts
        self.lastError = lastError
        self.created = created
    }
}
