import Foundation

/// A case handed to another organisation: the person moved, or another office is better placed,
/// and that organisation takes the whole case over. The owning organisation asks; a supervisor
/// of the receiving organisation accepts or declines; the sender may withdraw the request while
/// it waits. Who may do which is `AccessPolicy` (`requestCaseTransfer`, `readCaseTransfer`,
/// `decideCaseTransfer`, `cancelCaseTransfer`).
public struct CaseTransfer: Sendable, Equatable {
    public var id: UUID
    public var caseID: UUID
    /// The case's reference: the receiving supervisor sees it before the case is theirs.
    public var caseReference: String
    public var fromOrganisation: UUID
    public var toOrganisation: UUID
    public var consentID: UUID
    public var reason: CaseTransferReason
    public var status: CaseTransferStatus
    public var declineReason: CaseTransferDeclineReason?
    public var requestedBy: UUID
    public var requestedAt: Date
    public var decidedBy: UUID?
    public var decidedAt: Date?
    public var version: Int

    public init(id: UUID, caseID: UUID, caseReference: String, fromOrganisation: UUID, toOrganisation: UUID, consentID: UUID,
                reason: CaseTransferReason, status: CaseTransferStatus, declineReason: CaseTransferDeclineReason? = nil,
                requestedBy: UUID, requestedAt: Date, decidedBy: UUID? = nil, decidedAt: Date? = nil, version: Int = 1) {
        self.id = id
        self.caseID = caseID
        self.caseReference = caseReference
        self.fromOrganisation = fromOrganisation
        self.toOrganisation = toOrganisation
        self.consentID = consentID
        self.reason = reason
        self.status = status
        self.declineReason = declineReason
        self.requestedBy = requestedBy
        self.requestedAt = requestedAt
        self.decidedBy = decidedBy
        self.decidedAt = decidedAt
        self.version = version
    }

    /// What a transfer's facts are for the policy, with the case's as they stand now.
    public func facts(case caseFacts: CaseFacts) -> TransferFacts {
        TransferFacts(fromOrganisation: fromOrganisation, toOrganisation: toOrganisation, requestedBy: requestedBy, caseFacts: caseFacts)
    }
}

/// requested → accepted | declined | cancelled. Only a requested transfer moves, and only once.
public enum CaseTransferStatus: String, ClosedSet {
    case requested, accepted, declined, cancelled

    public var isPending: Bool { self == .requested }

    /// Whether the transfer may go from `self` to `target`.
    public func allows(_ target: CaseTransferStatus) -> Bool {
        self == .requested && target != .requested
    }
}

/// Why the case moves. A closed set: the person's circumstances are not written as free text
/// outside the sealed record.
public enum CaseTransferReason: String, ClosedSet {
    case personMoved = "person-moved"
    case betterPlaced = "better-placed"
    case personAsked = "person-asked"
    case other
}

/// Why the receiving organisation does not take the case over.
public enum CaseTransferDeclineReason: String, ClosedSet {
    case noCapacity = "no-capacity"
    case outsideMandate = "outside-mandate"
    case notInArea = "not-in-area"
    case other
}

extension AuditSubtype {
    /// The event of a transfer's step. `case.transferred` is the one others act on: the case
    /// now belongs to the receiving organisation.
    public static func transfer(_ status: CaseTransferStatus) -> AuditSubtype {
        switch status {
        case .requested: return .caseTransferRequest
        case .accepted: return .caseTransferred
        case .declined: return .caseTransferDecline
        case .cancelled: return .caseTransferCancel
        }
    }
}

extension CaseTransfer {
    /// The consent a transfer relies on. A transfer hands over the whole case: everything it
    /// holds now, everything added before the receiving supervisor decides, and its history, all
    /// of which the new owner reads. So the consent must be active and name the receiving
    /// organisation for every data category (`DataCategory.allCases`), not only those the case
    /// happens to hold today. Returns the categories missing, empty when the consent covers it.
    public static func missingCategories(_ consent: Consent, receiving: UUID, at now: Date) -> [DataCategory] {
        consent.missingCategories(Set(DataCategory.allCases), for: receiving, at: now)
    }

    /// Why `consent` does not cover a transfer to `receiving`, in words for the `consent` field;
    /// nil when it does.
    public static func consentRefusal(_ consent: Consent, receiving: UUID, at now: Date) -> String? {
        switch consent.status(at: now) {
        case .active: break
        case .superseded: return "has been amended: choose its latest version"
        case .withdrawn: return "is withdrawn"
        case .expired: return "has expired"
        }
        if !consent.recipients.contains(receiving) || consent.isWithdrawn(for: receiving) {
            return "does not name the receiving organisation"
        }
        let missing = missingCategories(consent, receiving: receiving, at: now)
        guard !missing.isEmpty else { return nil }
        return "does not cover every category for the receiving organisation: missing " + missing.map(\.rawValue).joined(separator: ", ")
    }
}

/// The request as the sender writes it.
public struct CaseTransferDraft: Sendable, Equatable {
    public var organisation: UUID
    public var consent: UUID
    public var reason: CaseTransferReason

    public init(organisation: UUID, consent: UUID, reason: CaseTransferReason) {
        self.organisation = organisation
        self.consent = consent
        self.reason = reason
    }
}
