import Foundation

/// Where a need stands: open until it is met, cancelled or superseded by another need.
public enum NeedStatus: String, ClosedSet {
    case open, met, cancelled, superseded
}

/// How a caseworker ends a need.
public enum NeedOutcome: String, ClosedSet {
    case met, cancelled, superseded

    public var status: NeedStatus {
        switch self {
        case .met: return .met
        case .cancelled: return .cancelled
        case .superseded: return .superseded
        }
    }
}

extension NeedPriority {
    /// When a need of this priority must have been answered: its response time after it was
    /// recorded (emergency 24 hours, urgent 72 hours, normal 14 days).
    public func deadline(from recorded: Date) -> Date {
        recorded.addingTimeInterval(responseTime)
    }
}

extension Need {
    /// Still open and past its priority's deadline: on its owner's worklist.
    public func isOverdue(at now: Date) -> Bool {
        status == NeedStatus.open.rawValue && dueAt < now
    }
}

/// Ending a need: the outcome, why (always: the next caseworker reads it), and for a superseded
/// need the need of the same case that replaces it.
public struct NeedClosure: Codable, Sendable, Equatable {
    public var outcome: NeedOutcome
    public var reason: String?
    public var supersededBy: UUID?

    public init(outcome: NeedOutcome, reason: String?, supersededBy: UUID? = nil) {
        self.outcome = outcome
        self.reason = reason
        self.supersededBy = supersededBy
    }

    /// What the request alone must carry; every broken rule at once.
    public func validate() throws {
        var check = Validator()
        check.text(reason, "reason", required: true, max: 2_000, multiline: true)
        if outcome == .superseded {
            check.check(supersededBy != nil, "superseded_by", "is required when the outcome is superseded")
        } else {
            check.check(supersededBy == nil, "superseded_by", "is only for the outcome superseded")
        }
        try check.finish()
    }

    /// Checks the closure against the need as stored and, when superseded, its successor (nil when
    /// the case has no such need): an ended need stays ended, and a need is replaced by another
    /// open need of the same case.
    public func refusal(closing need: Need, successor: Need?) -> NeedClosureRefusal? {
        guard need.status == NeedStatus.open.rawValue else { return .alreadyEnded(status: need.status) }
        guard outcome == .superseded, let supersededBy else { return nil }
        guard supersededBy != need.id, let successor, successor.caseID == need.caseID else {
            return .invalid(ValidationFailure("superseded_by", "must be another need of this case"))
        }
        guard successor.status == NeedStatus.open.rawValue else {
            return .invalid(ValidationFailure("superseded_by", "must be an open need"))
        }
        return nil
    }
}

public enum NeedClosureRefusal: Error, Equatable, Sendable {
    /// The need is already met, cancelled or superseded.
    case alreadyEnded(status: String)
    case invalid(ValidationFailure)
}
