import Foundation

/// Everything a user can ask Haven to do. Each endpoint names one of these and asks
/// `AccessPolicy.decide`; nothing else decides.
public enum AccessOperation: String, CaseIterable, Sendable {
    // Administration
    case listOrganisations, createOrganisation, readOrganisation, updateOrganisation, matchOrganisations
    case listUsers, createUser, readUser, updateUser
    /// An organisation's webhooks: register, list, rotate a secret, delete, read and replay
    /// dead letters. The administrator's, like the organisation's directory entry.
    case manageWebhooks
    // Cases and what hangs off them
    case createCase, listCases, readCase, updateCase, assignCase
    case closeCase, requestCaseClosure, approveCaseClosure, reopenCase
    /// The queue of closure requests waiting for a supervisor of the organisation.
    case listClosureRequests
    case readCaseDetails, writeCaseDetails
    case createReferral
    case exportCase, eraseCase
    /// Handing a case to another organisation (`CaseTransfer`): asked on the case by its owner's
    /// people, then listed, read, decided by the receiving organisation's supervisor, or cancelled
    /// by the sender.
    case requestCaseTransfer, listCaseTransfers, readCaseTransfer, decideCaseTransfer, cancelCaseTransfer
    // Referrals seen from either side
    case listReferrals, readReferral, transitionReferralAsSender, transitionReferralAsRecipient
    /// Taking a referral in the inbox, or handing it to a colleague ("handled by").
    case handleReferral
    /// The receiving organisation's own service episodes and sessions on a referral it works.
    case recordReferralService, readReferralServices
    // Break-glass
    case breakGlass, listBreakGlassGrants, readBreakGlassGrant, reviewBreakGlassGrant
    // Audit trail and statistics
    case readAuditTrail, verifyAuditTrail, readReports
}

/// The facts about a case the policy needs: who owns it, who works it, who holds a live
/// break-glass grant on it.
public struct CaseFacts: Sendable, Equatable {
    public var owningOrganisation: UUID
    public var assignee: UUID?
    public var createdBy: UUID?
    public var breakGlassHolders: Set<UUID>

    public init(owningOrganisation: UUID, assignee: UUID?, createdBy: UUID?, breakGlassHolders: Set<UUID> = []) {
        self.owningOrganisation = owningOrganisation
        self.assignee = assignee
        self.createdBy = createdBy
        self.breakGlassHolders = breakGlassHolders
    }
}

public struct ReferralFacts: Sendable, Equatable {
    public var fromOrganisation: UUID
    public var toOrganisation: UUID
    public var caseFacts: CaseFacts
    /// Where the referral stands, for the operations on the recipient's episodes (nil: unknown).
    public var status: ReferralStatus?
    /// Whether the referral's consented categories include `services`.
    public var sharesServices: Bool

    public init(fromOrganisation: UUID, toOrganisation: UUID, caseFacts: CaseFacts, status: ReferralStatus? = nil, sharesServices: Bool = false) {
        self.fromOrganisation = fromOrganisation
        self.toOrganisation = toOrganisation
        self.caseFacts = caseFacts
        self.status = status
        self.sharesServices = sharesServices
    }
}

public struct UserFacts: Sendable, Equatable {
    public var userID: UUID
    public var organisationID: UUID

    public init(userID: UUID, organisationID: UUID) {
        self.userID = userID
        self.organisationID = organisationID
    }
}

public struct GrantFacts: Sendable, Equatable {
    public var holder: UUID
    public var holderOrganisation: UUID
    public var caseOrganisation: UUID

    public init(holder: UUID, holderOrganisation: UUID, caseOrganisation: UUID) {
        self.holder = holder
        self.holderOrganisation = holderOrganisation
        self.caseOrganisation = caseOrganisation
    }
}

/// A case transfer's parties, with the case's facts as they stand now (after acceptance the
/// case belongs to the receiving organisation).
public struct TransferFacts: Sendable, Equatable {
    public var fromOrganisation: UUID
    public var toOrganisation: UUID
    public var requestedBy: UUID
    public var caseFacts: CaseFacts

    public init(fromOrganisation: UUID, toOrganisation: UUID, requestedBy: UUID, caseFacts: CaseFacts) {
        self.fromOrganisation = fromOrganisation
        self.toOrganisation = toOrganisation
        self.requestedBy = requestedBy
        self.caseFacts = caseFacts
    }
}

/// The record an operation is about; `.collection` for lists and creation.
public enum AccessTarget: Sendable, Equatable {
    case collection
    case organisation(UUID)
    case user(UserFacts)
    case caseRecord(CaseFacts)
    case referral(ReferralFacts)
    case grant(GrantFacts)
    case transfer(TransferFacts)
}

public enum AccessDecision: Sendable, Equatable {
    case allow(Purpose)
    /// The actor may see the record but not do this: 403.
    case forbidden
    /// The record is outside the actor's scope: 404, exactly as if it did not exist (S2).
    case notFound

    public var isAllowed: Bool {
        if case .allow = self { return true }
        return false
    }
}

/// How far an allowed list, trail or report reaches (`AccessPolicy.scope`).
public enum AccessScope: Sendable, Equatable {
    /// Every organisation.
    case national
    /// One organisation's records.
    case organisation(UUID)
    /// One organisation's cases that the user works: assigned to them or created by them.
    case ownCases(organisation: UUID, user: UUID)
    /// No record at all.
    case nothing
}

/// One server-side policy for every authorisation (S1). Pure functions of the actor, the
/// operation and the facts of the record, so the whole matrix is tested without a database.
public enum AccessPolicy {
    public static func decide(_ actor: Actor, _ operation: AccessOperation, _ target: AccessTarget) -> AccessDecision {
        switch target {
        case .collection: return decideCollection(actor, operation)
        case .organisation: return decideOrganisation(actor, operation)
        case .user(let user): return decideUser(actor, operation, user)
        case .caseRecord(let facts): return decideCase(actor, operation, facts)
        case .referral(let facts): return decideReferral(actor, operation, facts)
        case .grant(let facts): return decideGrant(actor, operation, facts)
        case .transfer(let facts): return decideTransfer(actor, operation, facts)
        }
    }

    /// How the actor sees a case: nil when it is outside their scope.
    public static func caseAccess(_ actor: Actor, _ facts: CaseFacts) -> Purpose? {
        let ownOrganisation = facts.owningOrganisation == actor.organisationID
        switch actor.role {
        case .supervisor where ownOrganisation:
            return facts.assignee == actor.userID ? .caseManagement : .supervision
        case .caseworker where ownOrganisation && (facts.assignee == actor.userID || facts.createdBy == actor.userID):
            return .caseManagement
        case .supervisor:
            return facts.breakGlassHolders.contains(actor.userID) ? .breakGlass : nil
        case .caseworker:
            // Only supervisors may break glass; a grant held by anyone else opens nothing.
            return nil
        case .admin, .auditor, .partner:
            // Admins and auditors never see case content; partners see referrals, not cases.
            return nil
        }
    }

    /// How far a list, the audit trail or a report reaches for this actor: the store turns the
    /// answer into its filter, so no endpoint or store compares roles itself. An operation the
    /// policy refuses reaches nothing.
    public static func scope(_ actor: Actor, _ operation: AccessOperation) -> AccessScope {
        guard decideCollection(actor, operation).isAllowed else { return .nothing }
        switch (operation, actor.role) {
        case (.listOrganisations, _), (.matchOrganisations, _), (.listUsers, .admin),
             (.readAuditTrail, .auditor), (.verifyAuditTrail, .auditor), (.readReports, .auditor):
            return .national
        case (.listCases, .caseworker), (.listReferrals, .caseworker):
            // The caseworker's rule in `caseAccess`, as a query can apply it.
            return .ownCases(organisation: actor.organisationID, user: actor.userID)
        default:
            return .organisation(actor.organisationID)
        }
    }

    /// What closing a case means for this actor: a supervisor closes it, anyone else asks a
    /// supervisor to (the policy then decides on the case's facts).
    public static func closure(_ actor: Actor) -> AccessOperation {
        actor.role == .supervisor ? .closeCase : .requestCaseClosure
    }

    private static func decideCollection(_ actor: Actor, _ operation: AccessOperation) -> AccessDecision {
        switch (operation, actor.role) {
        case (.listOrganisations, _), (.matchOrganisations, _):
            return .allow(.administration)
        case (.createOrganisation, .admin), (.createUser, .admin):
            return .allow(.administration)
        case (.listUsers, .admin), (.listUsers, .supervisor):
            return .allow(.administration)
        case (.createCase, .caseworker), (.createCase, .supervisor), (.listCases, .caseworker), (.listCases, .supervisor):
            return .allow(.caseManagement)
        case (.listReferrals, .caseworker), (.listReferrals, .supervisor), (.listReferrals, .partner):
            return .allow(.referral)
        case (.listBreakGlassGrants, .supervisor), (.listClosureRequests, .supervisor):
            return .allow(.supervision)
        case (.listCaseTransfers, .supervisor), (.listCaseTransfers, .caseworker):
            return .allow(.caseManagement)
        case (.readAuditTrail, .supervisor), (.readAuditTrail, .auditor), (.verifyAuditTrail, .auditor):
            return .allow(.audit)
        case (.readReports, .supervisor), (.readReports, .auditor):
            return .allow(.statistics)
        case (.listCases, .partner), (.listCaseTransfers, .partner):
            // Partners never browse cases, not even to learn that the list exists.
            return .notFound
        default:
            return .forbidden
        }
    }

    private static func decideOrganisation(_ actor: Actor, _ operation: AccessOperation) -> AccessDecision {
        switch operation {
        case .readOrganisation:
            // The directory of organisations and mandates is what referrals are made from.
            return .allow(.administration)
        case .updateOrganisation, .manageWebhooks:
            return actor.role == .admin ? .allow(.administration) : .forbidden
        default:
            return .forbidden
        }
    }

    private static func decideUser(_ actor: Actor, _ operation: AccessOperation, _ user: UserFacts) -> AccessDecision {
        let visible = actor.role == .admin || user.userID == actor.userID
            || (actor.role == .supervisor && user.organisationID == actor.organisationID)
        guard visible else { return .notFound }
        switch operation {
        case .readUser: return .allow(.administration)
        case .updateUser: return actor.role == .admin ? .allow(.administration) : .forbidden
        default: return .forbidden
        }
    }

    private static func decideCase(_ actor: Actor, _ operation: AccessOperation, _ facts: CaseFacts) -> AccessDecision {
        if operation == .breakGlass {
            // Break-glass is for a supervisor and a case outside their scope; their own cases are
            // open to them. Anyone else learns nothing about whether the case exists.
            if actor.role == .supervisor {
                return facts.owningOrganisation == actor.organisationID ? .forbidden : .allow(.breakGlass)
            }
            return caseAccess(actor, facts) == nil ? .notFound : .forbidden
        }
        guard let purpose = caseAccess(actor, facts) else { return .notFound }
        switch operation {
        case .readCase, .readCaseDetails:
            return .allow(purpose)
        case .updateCase, .writeCaseDetails, .createReferral, .requestCaseClosure, .reopenCase, .requestCaseTransfer:
            // A break-glass grant opens a case for reading only.
            return purpose == .breakGlass ? .forbidden : .allow(purpose)
        case .assignCase, .closeCase, .approveCaseClosure, .exportCase, .eraseCase:
            return actor.role == .supervisor && purpose != .breakGlass ? .allow(purpose) : .forbidden
        default:
            return .forbidden
        }
    }

    /// The side of a referral the actor works it from; nil when they are on neither. On the
    /// sending side, caseworkers and supervisors work the referrals of cases they work. A
    /// partner user of the sending organisation works no case, so is on neither side: the
    /// consent behind the referral released nothing to them, and they see no more of it than a
    /// caseworker of that organisation who does not work the case (nothing).
    public static func referralSide(_ actor: Actor, _ facts: ReferralFacts) -> ReferralSide? {
        guard actor.role != .admin, actor.role != .auditor else { return nil }
        if facts.toOrganisation == actor.organisationID { return .recipient }
        // After a transfer the case's new owner follows up the referrals the old one sent.
        guard facts.fromOrganisation == actor.organisationID || facts.caseFacts.owningOrganisation == actor.organisationID else { return nil }
        return caseAccess(actor, facts.caseFacts).map { $0 != .breakGlass } == true ? .sender : nil
    }

    /// How far an actor's outbox reaches: the referrals `referralSide` puts them on the sending
    /// side of (a partner's reaches none).
    public static func outgoingReferralScope(_ actor: Actor) -> AccessScope {
        actor.role == .partner ? .nothing : scope(actor, .listReferrals)
    }

    private static func decideReferral(_ actor: Actor, _ operation: AccessOperation, _ facts: ReferralFacts) -> AccessDecision {
        guard let side = referralSide(actor, facts) else { return .notFound }
        switch operation {
        case .readReferral:
            return .allow(.referral)
        case .transitionReferralAsRecipient, .handleReferral:
            return side == .recipient ? .allow(.referral) : .forbidden
        case .transitionReferralAsSender:
            return side == .sender && actor.role != .partner ? .allow(.referral) : .forbidden
        case .recordReferralService:
            // Only the recipient, and only on a referral it accepted that is still open.
            return side == .recipient && facts.status?.isBeingWorked == true ? .allow(.referral) : .forbidden
        case .readReferralServices:
            // The recipient while it works the referral; the sender only within the consented `services`.
            switch side {
            case .recipient: return facts.status?.isBeingWorked == true ? .allow(.referral) : .forbidden
            case .sender: return facts.sharesServices ? .allow(.referral) : .forbidden
            }
        default:
            return .forbidden
        }
    }

    /// Who may handle a referral its organisation received: an active user of that organisation
    /// whose role works referrals (admins and auditors never do).
    public static func mayHandleReferral(role: Role, active: Bool, organisation: UUID, _ facts: ReferralFacts) -> Bool {
        active && organisation == facts.toOrganisation && [.partner, .caseworker, .supervisor].contains(role)
    }

    /// The side of a case transfer the actor stands on; nil when on neither. The sending side is
    /// the supervisors of the organisation that asked, the user who asked, and whoever works the
    /// case there while it is still theirs; after acceptance its supervisors keep the transfer
    /// itself (not the case) for their trail. The receiving side is the receiving organisation's
    /// supervisors only: its caseworkers learn of a case once it is assigned to them.
    public static func transferSide(_ actor: Actor, _ facts: TransferFacts) -> TransferSide? {
        if actor.organisationID == facts.toOrganisation && actor.role == .supervisor { return .receiving }
        guard actor.organisationID == facts.fromOrganisation, actor.role == .supervisor || actor.role == .caseworker else { return nil }
        if actor.role == .supervisor || actor.userID == facts.requestedBy { return .sending }
        return caseAccess(actor, facts.caseFacts).map { $0 != .breakGlass } == true ? .sending : nil
    }

    /// How far an actor's list of transfers reaches: incoming ones for the receiving
    /// organisation's supervisors, outgoing ones for the sender's supervisors (the organisation's)
    /// and caseworkers (those they asked for or on cases they work).
    public static func transferScope(_ actor: Actor, incoming: Bool) -> AccessScope {
        guard decideCollection(actor, .listCaseTransfers).isAllowed else { return .nothing }
        switch actor.role {
        case .supervisor: return .organisation(actor.organisationID)
        case .caseworker: return incoming ? .nothing : .ownCases(organisation: actor.organisationID, user: actor.userID)
        default: return .nothing
        }
    }

    private static func decideTransfer(_ actor: Actor, _ operation: AccessOperation, _ facts: TransferFacts) -> AccessDecision {
        guard let side = transferSide(actor, facts) else { return .notFound }
        switch operation {
        case .readCaseTransfer:
            return .allow(side == .receiving ? .supervision : .caseManagement)
        case .decideCaseTransfer:
            return side == .receiving ? .allow(.supervision) : .forbidden
        case .cancelCaseTransfer:
            return side == .sending ? .allow(.caseManagement) : .forbidden
        default:
            return .forbidden
        }
    }

    private static func decideGrant(_ actor: Actor, _ operation: AccessOperation, _ grant: GrantFacts) -> AccessDecision {
        if operation == .readBreakGlassGrant && grant.holder == actor.userID { return .allow(.breakGlass) }
        guard actor.role == .supervisor,
              grant.caseOrganisation == actor.organisationID || grant.holderOrganisation == actor.organisationID
        else { return .notFound }
        switch operation {
        case .readBreakGlassGrant:
            return .allow(.supervision)
        case .reviewBreakGlassGrant:
            // The owning organisation's supervisors review; never the holder themselves.
            return grant.caseOrganisation == actor.organisationID && grant.holder != actor.userID
                ? .allow(.supervision) : .forbidden
        default:
            return .forbidden
        }
    }
}

/// Which side of a case transfer an actor stands on (`AccessPolicy.transferSide`).
public enum TransferSide: Sendable, Equatable {
    case sending, receiving
}

/// How far the duplicate hint at intake reaches for a user.
public enum DuplicateHintReach: Sendable, Equatable {
    /// Their own organisation's cases only: they are told to ask their supervisor about others.
    case ownOrganisation
    /// Whether another organisation has the person too (rate-limited, audited as `duplicate.hint`).
    case everyOrganisation
}

extension AccessPolicy {
    /// Whether someone is registered in another organisation is asked by name and birth year,
    /// so typed freely it would tell anyone who is where: supervisors learn it, caseworkers ask
    /// a supervisor. Everyone who registers cases learns of their own organisation's.
    public static func duplicateHintReach(_ actor: Actor) -> DuplicateHintReach {
        actor.role == .supervisor ? .everyOrganisation : .ownOrganisation
    }
}
