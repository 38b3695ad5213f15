import Foundation

/// What a user may do is decided by their role together with the record (see `AccessPolicy`).
public enum Role: String, ClosedSet {
    case admin, supervisor, caseworker, partner, auditor

    /// Supervisors, admins and auditors (who can download national data) log in with a TOTP
    /// second factor (S6), which each enrols for themselves at their first login.
    public var requiresSecondFactor: Bool { self == .admin || self == .supervisor || self == .auditor }

    /// Who may be a case's assignee: the people who work cases.
    public var worksCases: Bool { self == .caseworker || self == .supervisor }
}

/// The authenticated user on whose behalf a request runs.
public struct Actor: Sendable, Equatable, Hashable {
    public var userID: UUID
    public var organisationID: UUID
    public var role: Role

    public init(userID: UUID, organisationID: UUID, role: Role) {
        self.userID = userID
        self.organisationID = organisationID
        self.role = role
    }
}

/// Why a record was touched, recorded in every audit event.
public enum Purpose: String, Codable, Sendable {
    case caseManagement = "case-management"
    case supervision
    case breakGlass = "break-glass"
    case audit
    case administration
    case authentication
    case referral
    case statistics
    case retention
}
