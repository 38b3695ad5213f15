import Foundation

/// What a person agreed to share, with whom, for what (GBVIMS consent rules; ICRC
/// minimisation). A referral may release only what an active consent covers (S15).
public struct Consent: Sendable, Equatable {
    public struct Provision: Codable, Sendable, Equatable {
        public var recipientOrganisation: UUID
        public var purpose: String
        public var categories: [DataCategory]

        public init(recipientOrganisation: UUID, purpose: String, categories: [DataCategory]) {
            self.recipientOrganisation = recipientOrganisation
            self.purpose = purpose
            self.categories = categories
        }
    }

    public var id: UUID
    public var caseID: UUID
    public var grantor: ConsentGrantor
    public var method: ConsentMethod
    public var grantedAt: Date
    public var expiresAt: Date?
    public var withdrawnAt: Date?
    /// Separate from every provision: may this case be counted in non-identifying statistics?
    public var statistics: Bool
    public var provisions: [Provision]
    public var version: Int
    /// The supervisor who assessed that a young person of 15 to 17 could consent alone.
    public var capacityAssessedBy: UUID?
    /// The earlier version this one amends (both are kept).
    public var supersedes: UUID?
    /// The later version that amends this one, and when: a superseded consent releases nothing new.
    public var supersededBy: UUID?
    public var supersededAt: Date?
    /// Recipients for whom the person withdrew this consent while keeping it for the others.
    public var withdrawnRecipients: [RecipientWithdrawal] = []

    /// The person withdrew the consent for one recipient organisation only.
    public struct RecipientWithdrawal: Codable, Sendable, Equatable {
        public var recipientOrganisation: UUID
        public var withdrawnAt: Date

        public init(recipientOrganisation: UUID, withdrawnAt: Date) {
            self.recipientOrganisation = recipientOrganisation
            self.withdrawnAt = withdrawnAt
        }
    }

    public init(id: UUID, caseID: UUID, grantor: ConsentGrantor, method: ConsentMethod, grantedAt: Date, expiresAt: Date?,
                withdrawnAt: Date?, statistics: Bool, provisions: [Provision], version: Int, capacityAssessedBy: UUID? = nil) {
        self.id = id
        self.caseID = caseID
        self.grantor = grantor
        self.method = method
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.withdrawnAt = withdrawnAt
        self.statistics = statistics
        self.provisions = provisions
        self.version = version
        self.capacityAssessedBy = capacityAssessedBy
    }

    public func status(at now: Date) -> ConsentStatus {
        if withdrawnAt != nil { return .withdrawn }
        if supersededBy != nil || supersededAt != nil { return .superseded }
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }

    /// Whether the person withdrew this consent for `recipient` alone.
    public func isWithdrawn(for recipient: UUID) -> Bool {
        withdrawnRecipients.contains { $0.recipientOrganisation == recipient }
    }

    /// The recipient organisations the consent names, each once, in the provisions' order.
    public var recipients: [UUID] {
        var seen = Set<UUID>()
        return provisions.map(\.recipientOrganisation).filter { seen.insert($0).inserted }
    }

    /// The consent's state toward one recipient: withdrawn when the person withdrew it for that
    /// recipient alone, otherwise its own state. The database's `haven_consent_state` (row
    /// security, the lapsed-referral sweeps) is this rule in SQL; `RuleAgreementTests` holds the
    /// two equal.
    public func status(for recipient: UUID, at now: Date) -> ConsentStatus {
        isWithdrawn(for: recipient) ? .withdrawn : status(at: now)
    }

    /// The categories this consent lets `recipient` receive now (empty when not active, or when
    /// withdrawn for that recipient).
    public func categories(for recipient: UUID, at now: Date) -> Set<DataCategory> {
        guard status(for: recipient, at: now) == .active else { return [] }
        return Set(provisions.filter { $0.recipientOrganisation == recipient }.flatMap(\.categories))
    }

    /// What an amendment does to an open referral that relied on the version it supersedes: the
    /// referral carries on under the new version when that version still releases everything the
    /// referral shares with its recipient (the caseworker changed something else, or widened it);
    /// otherwise the person narrowed what that recipient may receive and the referral ends as if
    /// the consent were withdrawn for it (S16).
    public enum Carried: Sendable, Equatable {
        case moved, cancelled
    }

    public static func carried(recipient: UUID, shared: Set<DataCategory>, to amended: Consent, at now: Date) -> Carried {
        amended.missingCategories(shared, for: recipient, at: now).isEmpty ? .moved : .cancelled
    }

    /// Which of `requested` the consent does not cover for `recipient`, in a stable order.
    public func missingCategories(_ requested: Set<DataCategory>, for recipient: UUID, at now: Date) -> [DataCategory] {
        requested.subtracting(categories(for: recipient, at: now)).sorted()
    }
}

extension Consent {
    /// An amendment is a whole new version: what it states replaces the old version's terms.
    /// The amended version must be active (neither withdrawn, expired nor already superseded).
    public static func amendable(_ consent: Consent, at now: Date) -> String? {
        switch consent.status(at: now) {
        case .active: return nil
        case .superseded: return "has already been amended: amend its latest version"
        case .withdrawn: return "is withdrawn: record a new consent instead"
        case .expired: return "has expired: record a new consent instead"
        }
    }

    /// Why the consent cannot be withdrawn for `recipient` alone, nil when it can: `conflict`
    /// when the consent's state refuses it (409), otherwise the recipient is wrong (422).
    public func recipientWithdrawalRefusal(_ recipient: UUID, at now: Date) -> (conflict: Bool, reason: String)? {
        switch status(at: now) {
        case .active: break
        case .superseded: return (true, "the consent has been amended: withdraw it from its latest version")
        case .withdrawn: return (true, "the consent is already withdrawn")
        case .expired: return (true, "the consent has expired")
        }
        if !recipients.contains(recipient) { return (false, "is not a recipient of this consent") }
        if isWithdrawn(for: recipient) { return (true, "the consent is already withdrawn for this recipient") }
        return nil
    }
}

public struct ConsentDraft: Codable, Sendable, Equatable {
    public var grantor: ConsentGrantor
    public var method: ConsentMethod
    public var grantedAt: Date?
    public var expiresAt: Date?
    public var statistics: Bool?
    public var provisions: [Consent.Provision]
    /// A supervisor recording this consent states that they assessed the young person's capacity
    /// to consent alone (ConsentCapacity).
    public var capacityAssessed: Bool?

    public init(grantor: ConsentGrantor, method: ConsentMethod, grantedAt: Date? = nil, expiresAt: Date? = nil,
                statistics: Bool? = nil, provisions: [Consent.Provision], capacityAssessed: Bool? = nil) {
        self.grantor = grantor
        self.method = method
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.statistics = statistics
        self.provisions = provisions
        self.capacityAssessed = capacityAssessed
    }

    public func validate(now: Date) throws {
        var check = Validator()
        if let grantedAt { check.check(grantedAt <= now.addingTimeInterval(300), "granted_at", "must not be in the future") }
        if let expiresAt { check.check(expiresAt > (grantedAt ?? now), "expires_at", "must be after granted_at") }
        check.check(provisions.count <= 50, "provisions", "must list at most 50 provisions")
        for (index, provision) in provisions.enumerated() {
            check.text(provision.purpose, "provisions[\(index)].purpose", required: true, max: 200)
            check.check(!provision.categories.isEmpty, "provisions[\(index)].categories", "must name at least one category")
            check.distinct(provision.categories, "provisions[\(index)].categories")
        }
        try check.finish()
    }
}
