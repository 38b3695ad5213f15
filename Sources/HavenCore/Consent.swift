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
        if let expiresAt, expiresAt <= now { return .expired }
        return .active
    }

    /// The categories this consent lets `recipient` receive now (empty when not active).
    public func categories(for recipient: UUID, at now: Date) -> Set<DataCategory> {
        guard status(at: now) == .active else { return [] }
        return Set(provisions.filter { $0.recipientOrganisation == recipient }.flatMap(\.categories))
    }

    /// Which of `requested` the consent does not cover for `recipient`, in a stable order.
    public func missingCategories(_ requested: Set<DataCategory>, for recipient: UUID, at now: Date) -> [DataCategory] {
        requested.subtracting(categories(for: recipient, at: now)).sorted()
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
