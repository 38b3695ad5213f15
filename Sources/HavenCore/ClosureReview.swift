import Foundation

/// Why a referral still open when its case closes is cancelled. The recipient reads it on the
/// referral's status line, so the codes say what happened to the person's work; each is
/// distinct from the rejection reasons and from the consent lapses.
public enum ClosureCancellation: String, ClosedSet {
    /// Nothing more specific: the case was closed.
    case caseClosed = "case-closed"
    case needMetElsewhere = "need-met-elsewhere"
    case personDeclined = "person-declined"
    case personUnreachable = "person-unreachable"
    case personMoved = "person-moved"
}

/// What becomes of an open referral at closure. A closed case keeps nothing open (the
/// recipient's access to the case ends with it), so the only decision is to cancel, with the
/// reason its recipient will read; a supervisor who wants the recipient to finish first
/// declines the closure instead.
public enum ReferralClosureDecision: String, ClosedSet {
    case cancel
}

/// What becomes of an open service episode at closure.
public enum ServiceClosureDecision: String, ClosedSet {
    case complete, cancel

    public var status: ServiceStatus { self == .complete ? .completed : .cancelled }
}

/// What becomes of an open need at closure (superseding needs another open need, which a
/// closing case cannot have).
public enum NeedClosureDecision: String, ClosedSet {
    case met, cancelled

    public var outcome: NeedOutcome { self == .met ? .met : .cancelled }
}

/// Why a supervisor sends a closure request back to the caseworker.
public enum ClosureDeclineReason: String, ClosedSet {
    case workStillOpen = "work-still-open"
    case riskRemains = "risk-remains"
    case followUpNeeded = "follow-up-needed"
    case reasonIncorrect = "reason-incorrect"
    case other
}

/// The decisions a closure carries, one for every referral, service episode and need still open.
public struct ClosureDecisions: Codable, Sendable, Equatable {
    public struct ReferralItem: Codable, Sendable, Equatable {
        public var id: UUID
        public var decision: ReferralClosureDecision
        public var reason: ClosureCancellation

        public init(id: UUID, decision: ReferralClosureDecision = .cancel, reason: ClosureCancellation) {
            self.id = id
            self.decision = decision
            self.reason = reason
        }
    }

    public struct ServiceItem: Codable, Sendable, Equatable {
        public var id: UUID
        public var decision: ServiceClosureDecision

        public init(id: UUID, decision: ServiceClosureDecision) {
            self.id = id
            self.decision = decision
        }
    }

    public struct NeedItem: Codable, Sendable, Equatable {
        public var id: UUID
        public var decision: NeedClosureDecision

        public init(id: UUID, decision: NeedClosureDecision) {
            self.id = id
            self.decision = decision
        }
    }

    public var referrals: [ReferralItem]
    public var services: [ServiceItem]
    public var needs: [NeedItem]

    public init(referrals: [ReferralItem] = [], services: [ServiceItem] = [], needs: [NeedItem] = []) {
        self.referrals = referrals
        self.services = services
        self.needs = needs
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        referrals = try container.decodeIfPresent([ReferralItem].self, forKey: .referrals) ?? []
        services = try container.decodeIfPresent([ServiceItem].self, forKey: .services) ?? []
        needs = try container.decodeIfPresent([NeedItem].self, forKey: .needs) ?? []
    }

    public var isEmpty: Bool { referrals.isEmpty && services.isEmpty && needs.isEmpty }
}

/// What is still open on a case about to close, each item by id.
public struct OpenWork: Sendable, Equatable {
    public var referrals: [UUID]
    public var services: [UUID]
    public var needs: [UUID]

    public init(referrals: [UUID] = [], services: [UUID] = [], needs: [UUID] = []) {
        self.referrals = referrals
        self.services = services
        self.needs = needs
    }

    public var isEmpty: Bool { referrals.isEmpty && services.isEmpty && needs.isEmpty }

    /// Every open item needs exactly one decision, and a decision names an open item of this
    /// case: all that is wrong, each named by its item (`referrals.<id>`, `services.<id>`,
    /// `needs.<id>`), or nil when the decisions are complete.
    public func refusal(_ decisions: ClosureDecisions) -> ValidationFailure? {
        var errors: [FieldError] = []
        func check(_ kind: String, open: [UUID], decided: [UUID], noun: String) {
            let openSet = Set(open)
            var seen = Set<UUID>()
            for id in decided {
                if !openSet.contains(id) {
                    errors.append(FieldError("\(kind).\(id.lowercasedString)", "is not an open \(noun) of this case"))
                } else if !seen.insert(id).inserted {
                    errors.append(FieldError("\(kind).\(id.lowercasedString)", "is decided more than once"))
                }
            }
            for id in open where !seen.contains(id) {
                errors.append(FieldError("\(kind).\(id.lowercasedString)", "needs a decision before the case closes"))
            }
        }
        check("referrals", open: referrals, decided: decisions.referrals.map(\.id), noun: "referral")
        check("services", open: services, decided: decisions.services.map(\.id), noun: "service")
        check("needs", open: needs, decided: decisions.needs.map(\.id), noun: "need")
        return errors.isEmpty ? nil : ValidationFailure(errors)
    }

    /// The ids the refusal names as undecided, for the answer's `undecided` member.
    public func undecided(_ decisions: ClosureDecisions) -> [(kind: String, id: UUID)] {
        let referralIDs = Set(decisions.referrals.map(\.id)), serviceIDs = Set(decisions.services.map(\.id)), needIDs = Set(decisions.needs.map(\.id))
        return referrals.filter { !referralIDs.contains($0) }.map { ("referral", $0) }
            + services.filter { !serviceIDs.contains($0) }.map { ("service", $0) }
            + needs.filter { !needIDs.contains($0) }.map { ("need", $0) }
    }
}

extension OpenWork {
    /// The items a closure must decide: open referrals, unfinished service episodes that no open
    /// referral carries (an episode a referral started ends with that referral's decision), and
    /// open needs.
    public static func of(referrals: [Referral], services: [ServiceEpisode], needs: [Need]) -> OpenWork {
        let open = referrals.filter(\.status.isOpen)
        let carried = Set(open.compactMap(\.episodeID))
        let openIDs = Set(open.map(\.id))
        return OpenWork(
            referrals: open.map(\.id),
            services: services.filter { !$0.status.isFinished && !carried.contains($0.id) && !($0.referralID.map(openIDs.contains) ?? false) }.map(\.id),
            needs: needs.filter { $0.status == NeedStatus.open.rawValue }.map(\.id))
    }
}
