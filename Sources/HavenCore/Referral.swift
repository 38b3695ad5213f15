import Foundation

/// Referral states, as HL7 FHIR `Task.status`.
public enum ReferralStatus: String, ClosedSet {
    case requested, received, accepted, rejected
    case inProgress = "in-progress"
    case onHold = "on-hold"
    case completed, failed, cancelled
    case enteredInError = "entered-in-error"

    public var isTerminal: Bool {
        switch self {
        case .rejected, .completed, .failed, .cancelled, .enteredInError: return true
        default: return false
        }
    }

    /// While open, the recipient sees the consented part of the case.
    public var isOpen: Bool { !isTerminal }

    public static var openStatuses: [ReferralStatus] { allCases.filter(\.isOpen) }
}

public enum RejectionReason: String, ClosedSet {
    case outsideMandate = "outside-mandate"
    case noCapacity = "no-capacity"
    case clientDeclined = "client-declined"
    case other
}

/// Which side of a referral someone acts for.
public enum ReferralSide: String, Sendable {
    case sender, recipient
}

/// Why a referral was cancelled by Haven itself.
public enum CancellationReason: String, Sendable {
    case consentWithdrawn = "consent-withdrawn"
    case consentExpired = "consent-expired"
    /// The case was closed: its work, referrals included, ended.
    case caseClosed = "case-closed"
}

/// The referral state machine of the domain brief, enforced on the server.
public enum ReferralStateMachine {
    /// The states `side` may move a referral to from `status`.
    public static func allowedTargets(from status: ReferralStatus, side: ReferralSide) -> [ReferralStatus] {
        if status.isTerminal { return [] }
        var targets: [ReferralStatus] = []
        switch (status, side) {
        case (.requested, .recipient): targets = [.received, .accepted, .rejected]
        case (.received, .recipient): targets = [.accepted, .rejected]
        case (.accepted, .recipient): targets = [.inProgress]
        case (.inProgress, .recipient): targets = [.onHold, .completed, .failed]
        case (.onHold, .recipient): targets = [.inProgress]
        case (.requested, .sender): targets = [.enteredInError]
        default: targets = []
        }
        targets.append(.cancelled)
        return targets
    }

    public enum Refusal: Error, Equatable, Sendable {
        /// Not a move this side may make from this state; `allowed` lists the ones it may.
        case notAllowed(allowed: [ReferralStatus])
        /// A rejection needs one of the rejection reasons.
        case reasonRequired
        /// Completing or failing needs an outcome.
        case outcomeRequired
    }

    /// Checks a requested move, including what it must carry.
    public static func check(from status: ReferralStatus, to target: ReferralStatus, side: ReferralSide, reason: String?, outcome: String?) -> Refusal? {
        let allowed = allowedTargets(from: status, side: side)
        guard allowed.contains(target) else { return .notAllowed(allowed: allowed) }
        if target == .rejected, RejectionReason(rawValue: reason ?? "") == nil { return .reasonRequired }
        if target == .completed || target == .failed, (outcome ?? "").trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            return .outcomeRequired
        }
        return nil
    }
}

public struct ReferralDraft: Codable, Sendable, Equatable {
    public var toOrganisation: UUID
    public var needId: UUID?
    public var serviceType: ServiceType?
    public var consentId: UUID
    public var sharedCategories: [DataCategory]
    public var priority: NeedPriority?
    public var note: String?
    /// A terminal referral this one follows up.
    public var previousReferralId: UUID?

    public init(toOrganisation: UUID, needId: UUID? = nil, serviceType: ServiceType? = nil, consentId: UUID, sharedCategories: [DataCategory],
                priority: NeedPriority? = nil, note: String? = nil, previousReferralId: UUID? = nil) {
        self.toOrganisation = toOrganisation
        self.needId = needId
        self.serviceType = serviceType
        self.consentId = consentId
        self.sharedCategories = sharedCategories
        self.priority = priority
        self.note = note
        self.previousReferralId = previousReferralId
    }

    public func validate() throws {
        var check = Validator()
        check.check(needId != nil || serviceType != nil, "service_type", "is required when need_id is not given")
        check.distinct(sharedCategories, "shared_categories")
        check.text(note, "note", max: 5_000, multiline: true)
        try check.finish()
    }
}

public struct TransitionRequest: Codable, Sendable, Equatable {
    public var to: ReferralStatus
    public var reason: String?
    public var businessStatus: String?
    public var outcome: String?
    public var note: String?

    public init(to: ReferralStatus, reason: String? = nil, businessStatus: String? = nil, outcome: String? = nil, note: String? = nil) {
        self.to = to
        self.reason = reason
        self.businessStatus = businessStatus
        self.outcome = outcome
        self.note = note
    }

    public func validate() throws {
        var check = Validator()
        // Reasons and business states are codes, never free text: they travel into the audit
        // trail and are stored in clear. Free text belongs in `note`, which is sealed.
        if let reason { check.check(StatusCode.isValid(reason), "reason", "must be a short code such as outside-mandate or no-capacity") }
        if let businessStatus {
            check.check(StatusCode.isValid(businessStatus), "business_status", "must be a short code of letters, digits and '-', e.g. appointment-scheduled")
        }
        check.text(outcome, "outcome", max: 2_000, multiline: true)
        check.text(note, "note", max: 5_000, multiline: true)
        try check.finish()
    }
}

/// Short machine codes (`appointment-scheduled`, `no-capacity`): letters, digits, `-`, `_`.
public enum StatusCode {
    public static func isValid(_ code: String) -> Bool {
        !code.isEmpty && code.count <= 64
            && code.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" || $0 == "_" }
    }
}

/// Why a case is closed.
public enum ClosureReason: String, ClosedSet {
    case servicesCompleted = "services-completed"
    case clientWithdrew = "client-withdrew"
    case transferred
    case lostContact = "lost-contact"
    case deceased
    case notEligible = "not-eligible"
    case other
}

/// Why a closed case is opened again.
public enum ReopenReason: String, ClosedSet {
    case newNeeds = "new-needs"
    case clientReturned = "client-returned"
    case closedInError = "closed-in-error"
    case other
}
