import Foundation

/// The events someone must act on. Each is written to the notification outbox in the same
/// transaction as the action (or by the periodic deadline sweep), and carries no identifying
/// value and no case content: the kind, the recipient organisation (and user where one is
/// meant), the case's reference, a priority and the console page to open. The recipient reads
/// the rest after logging in, under the access policy and the audit.
public enum NotificationKind: String, ClosedSet {
    /// A referral arrived in the recipient organisation's inbox.
    case referralArrived = "referral.arrived"
    /// The recipient accepted, rejected or completed a referral: told to its sender.
    case referralAccepted = "referral.accepted"
    case referralRejected = "referral.rejected"
    case referralCompleted = "referral.completed"
    /// The sender (or the case's closure, or a lapsed consent) cancelled a referral: told to the recipient.
    case referralCancelled = "referral.cancelled"
    /// A caseworker asked to close a case: told to the organisation's supervisors.
    case closureRequested = "closure.requested"
    /// A supervisor approved or declined a closure request: told to the caseworker who asked.
    case closureApproved = "closure.approved"
    case closureDeclined = "closure.declined"
    /// Someone broke the glass on a case: told to the case organisation's supervisors, who review grants.
    case breakGlassStarted = "break_glass.started"
    /// A running consent ends within `NotificationKind.consentNotice`: told to the case's caseworker.
    case consentExpiring = "consent.expiring"
    /// An open need passed its priority's deadline: told to the case's caseworker.
    case needOverdue = "need.overdue"
    /// An unfinished service passed its due date: told to the case's caseworker.
    case serviceOverdue = "service.overdue"
    /// A case is to move to another organisation: told with the request to the receiving
    /// organisation's supervisors, who accept or decline it and then assign it.
    case caseTransferred = "case.transferred"

    /// A consent ending within this is announced once, as the worklist shows it: a week to see
    /// the person and renew it.
    public static let consentNotice: TimeInterval = 7 * 86_400

    /// Who of the recipient organisation gets the in-app notification when the message names
    /// no user: the people whose work the event is. A message that names a user goes to that
    /// user alone (while they are active and still in the organisation).
    /// - a referral that arrived or was cancelled: the partner users, caseworkers and
    ///   supervisors, who work the inbox (`Capabilities.listReferrals`);
    /// - a referral's answer: the same roles of the sending organisation (the sender is named
    ///   when known, so this is the fallback);
    /// - a closure request, a break-glass grant, a transferred case: supervisors, who approve,
    ///   review and assign;
    /// - a closure's answer, a consent expiring, a need or service overdue: caseworkers and
    ///   supervisors (again a fallback: these name the case's caseworker).
    public var audience: Set<Role> {
        switch self {
        case .referralArrived, .referralCancelled, .referralAccepted, .referralRejected, .referralCompleted:
            return [.partner, .caseworker, .supervisor]
        case .closureRequested, .breakGlassStarted, .caseTransferred:
            return [.supervisor]
        case .closureApproved, .closureDeclined, .consentExpiring, .needOverdue, .serviceOverdue:
            return [.caseworker, .supervisor]
        }
    }

    /// The answer a referral's transition announces, if any: the sender hears of acceptance,
    /// rejection and completion; the recipient of a cancellation.
    public static func referralMove(to status: ReferralStatus) -> NotificationKind? {
        switch status {
        case .accepted: return .referralAccepted
        case .rejected: return .referralRejected
        case .completed: return .referralCompleted
        case .cancelled: return .referralCancelled
        default: return nil
        }
    }
}

/// The console page a notification opens: ids only, never a value.
public enum NotificationLink {
    public static func referral(_ id: UUID) -> String { "/referrals/" + id.lowercasedString }
    public static func caseFile(_ id: UUID) -> String { "/cases/" + id.lowercasedString }
    public static func closure(_ caseID: UUID) -> String { "/cases/" + caseID.lowercasedString + "/closure" }
    public static let breakGlass = "/break-glass"
    public static let transfers = "/transfers"

    /// Whether a stored link is one of the above (a console path of ids).
    public static func isValid(_ link: String) -> Bool {
        link.hasPrefix("/") && link.count <= 200
            && link.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "/" || $0 == "-" }
    }
}

/// One message of the outbox.
public struct NotificationMessage: Sendable, Equatable {
    /// Receivers drop a repeat by this id: a message may be delivered more than once.
    public var id: UUID
    public var kind: NotificationKind
    public var recipientOrganisation: UUID
    public var recipientUser: UUID?
    public var caseReference: String?
    public var priority: NeedPriority
    public var link: String
    public var created: Date

    public init(id: UUID = UUID(), kind: NotificationKind, recipientOrganisation: UUID, recipientUser: UUID? = nil,
                caseReference: String?, priority: NeedPriority = .normal, link: String, created: Date = Date()) {
        self.id = id
        self.kind = kind
        self.recipientOrganisation = recipientOrganisation
        self.recipientUser = recipientUser
        self.caseReference = caseReference
        self.priority = priority
        self.link = link
        self.created = created
    }
}

/// A notification in one user's list (the in-app channel).
public struct UserNotification: Sendable, Equatable {
    public var id: UUID
    public var messageID: UUID
    public var kind: NotificationKind
    public var caseReference: String?
    public var priority: NeedPriority
    public var link: String
    public var created: Date
    public var readAt: Date?

    public init(id: UUID, messageID: UUID, kind: NotificationKind, caseReference: String?, priority: NeedPriority, link: String,
                created: Date, readAt: Date?) {
        self.id = id
        self.messageID = messageID
        self.kind = kind
        self.caseReference = caseReference
        self.priority = priority
        self.link = link
        self.created = created
        self.readAt = readAt
    }
}
