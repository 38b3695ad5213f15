import Foundation
import HavenCore
import Testing

/// The whole access matrix: every role × every operation × every kind of record, as an explicit
/// table of what the domain brief requires. Each row says, for one role and one kind of target,
/// whether the record is in the actor's scope at all and which operations are allowed (with the
/// purpose recorded in the audit trail). Unlisted operations are `.forbidden` on a record the
/// actor can see and `.notFound` on one outside their scope (S2: never leak existence).
@Suite struct AccessPolicyMatrixTests {
    // MARK: The cast

    /// The actor (whatever their role) and the people and organisations around them.
    enum Cast {
        static let me = UUID(uuidString: "00000000-0000-0000-0000-00000000000a")!
        static let colleague = UUID(uuidString: "00000000-0000-0000-0000-00000000000b")!
        static let stranger = UUID(uuidString: "00000000-0000-0000-0000-00000000000c")!
        static let ownOrg = UUID(uuidString: "00000000-0000-0000-0000-0000000000a1")!
        static let otherOrg = UUID(uuidString: "00000000-0000-0000-0000-0000000000b2")!
        static let thirdOrg = UUID(uuidString: "00000000-0000-0000-0000-0000000000c3")!

        static func actor(_ role: Role) -> Actor { Actor(userID: me, organisationID: ownOrg, role: role) }
    }

    /// Every kind of record the matrix covers, described from the actor's point of view.
    enum Target: String, CaseIterable, CustomTestStringConvertible, Sendable {
        case collection
        case organisationOwn, organisationOther
        case userSelf, userSameOrg, userOtherOrg
        /// Own organisation's case assigned to the actor (created by a colleague).
        case caseAssignedToMe
        /// Own organisation's case created by the actor, now assigned to a colleague.
        case caseCreatedByMe
        /// Own organisation's case with no assignee, created by a colleague.
        case caseUnassigned
        /// Own organisation's case assigned to and created by a colleague.
        case caseOfColleague
        /// Another organisation's case.
        case caseOtherOrg
        /// Another organisation's case on which the actor holds a live break-glass grant.
        case caseOtherOrgWithMyGrant
        /// A referral sent by the actor's organisation on a case assigned to the actor.
        case referralSentOnMyCase
        /// A referral sent by the actor's organisation on a colleague's case.
        case referralSentOnColleagueCase
        /// A referral addressed to the actor's organisation.
        case referralReceived
        /// A referral addressed to the actor's organisation, accepted and being worked.
        case referralReceivedAccepted
        /// A referral sent by the actor's organisation on a case assigned to the actor, accepted,
        /// sharing `services`.
        case referralSentSharingServices
        /// A referral between two other organisations.
        case referralNeither
        /// A break-glass grant on a case of the actor's organisation, held by an outsider.
        case grantOnOwnOrgCase
        /// The actor's own grant on another organisation's case.
        case grantHeldByMe
        /// A colleague's grant on another organisation's case.
        case grantHeldByColleague
        /// A grant between two other organisations.
        case grantElsewhere
        /// A transfer the actor's organisation asked for, of a case assigned to the actor (a colleague asked).
        case transferOutgoingOnMyCase
        /// A transfer a colleague asked for, of a colleague's case.
        case transferOutgoingOfColleague
        /// A transfer of another organisation's case to the actor's organisation.
        case transferIncoming
        /// A transfer between two other organisations.
        case transferElsewhere

        var testDescription: String { rawValue }

        var value: AccessTarget {
            let me = Cast.me, colleague = Cast.colleague, stranger = Cast.stranger
            let own = Cast.ownOrg, other = Cast.otherOrg, third = Cast.thirdOrg
            switch self {
            case .collection: return .collection
            case .organisationOwn: return .organisation(own)
            case .organisationOther: return .organisation(other)
            case .userSelf: return .user(UserFacts(userID: me, organisationID: own))
            case .userSameOrg: return .user(UserFacts(userID: colleague, organisationID: own))
            case .userOtherOrg: return .user(UserFacts(userID: stranger, organisationID: other))
            case .caseAssignedToMe: return .caseRecord(CaseFacts(owningOrganisation: own, assignee: me, createdBy: colleague))
            case .caseCreatedByMe: return .caseRecord(CaseFacts(owningOrganisation: own, assignee: colleague, createdBy: me))
            case .caseUnassigned: return .caseRecord(CaseFacts(owningOrganisation: own, assignee: nil, createdBy: colleague))
            case .caseOfColleague: return .caseRecord(CaseFacts(owningOrganisation: own, assignee: colleague, createdBy: colleague))
            case .caseOtherOrg: return .caseRecord(CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger))
            case .caseOtherOrgWithMyGrant:
                return .caseRecord(CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger, breakGlassHolders: [me]))
            case .referralSentOnMyCase:
                return .referral(ReferralFacts(fromOrganisation: own, toOrganisation: other,
                    caseFacts: CaseFacts(owningOrganisation: own, assignee: me, createdBy: colleague)))
            case .referralSentOnColleagueCase:
                return .referral(ReferralFacts(fromOrganisation: own, toOrganisation: other,
                    caseFacts: CaseFacts(owningOrganisation: own, assignee: colleague, createdBy: colleague)))
            case .referralReceived:
                return .referral(ReferralFacts(fromOrganisation: other, toOrganisation: own,
                    caseFacts: CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger)))
            case .referralReceivedAccepted:
                return .referral(ReferralFacts(fromOrganisation: other, toOrganisation: own,
                    caseFacts: CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger), status: .inProgress))
            case .referralSentSharingServices:
                return .referral(ReferralFacts(fromOrganisation: own, toOrganisation: other,
                    caseFacts: CaseFacts(owningOrganisation: own, assignee: me, createdBy: colleague), status: .accepted, sharesServices: true))
            case .referralNeither:
                return .referral(ReferralFacts(fromOrganisation: other, toOrganisation: third,
                    caseFacts: CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger)))
            case .grantOnOwnOrgCase: return .grant(GrantFacts(holder: stranger, holderOrganisation: other, caseOrganisation: own))
            case .grantHeldByMe: return .grant(GrantFacts(holder: me, holderOrganisation: own, caseOrganisation: other))
            case .grantHeldByColleague: return .grant(GrantFacts(holder: colleague, holderOrganisation: own, caseOrganisation: other))
            case .grantElsewhere: return .grant(GrantFacts(holder: stranger, holderOrganisation: other, caseOrganisation: third))
            case .transferOutgoingOnMyCase:
                return .transfer(TransferFacts(fromOrganisation: own, toOrganisation: other, requestedBy: colleague,
                                               caseFacts: CaseFacts(owningOrganisation: own, assignee: me, createdBy: colleague)))
            case .transferOutgoingOfColleague:
                return .transfer(TransferFacts(fromOrganisation: own, toOrganisation: other, requestedBy: colleague,
                                               caseFacts: CaseFacts(owningOrganisation: own, assignee: colleague, createdBy: colleague)))
            case .transferIncoming:
                return .transfer(TransferFacts(fromOrganisation: other, toOrganisation: own, requestedBy: stranger,
                                               caseFacts: CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger)))
            case .transferElsewhere:
                return .transfer(TransferFacts(fromOrganisation: other, toOrganisation: third, requestedBy: stranger,
                                               caseFacts: CaseFacts(owningOrganisation: other, assignee: stranger, createdBy: stranger)))
            }
        }
    }

    // MARK: The table

    enum Scope { case visible, hidden }

    struct Row {
        var role: Role
        var target: Target
        var scope: Scope
        var allowed: [AccessOperation: Purpose]
        /// Cells where the code is known to contradict the brief: the operations (nil: the whole
        /// row) and why. They run under `withKnownIssue`, so a fix shows up as a failure to remove it.
        var knownIssue: (operations: Set<AccessOperation>?, reason: String)?
        /// Refusals that differ from the row's default (a partner asking for the case list gets
        /// 404: partners never learn that cases are listed).
        var hidden: Set<AccessOperation> = []

        var otherwise: AccessDecision { scope == .visible ? .forbidden : .notFound }

        func expected(_ operation: AccessOperation) -> AccessDecision {
            if hidden.contains(operation) { return .notFound }
            return allowed[operation].map(AccessDecision.allow) ?? otherwise
        }
    }

    static func allow(_ operations: [AccessOperation], as purpose: Purpose) -> [AccessOperation: Purpose] {
        Dictionary(uniqueKeysWithValues: operations.map { ($0, purpose) })
    }

    static func row(_ role: Role, _ target: Target, _ scope: Scope, _ allowed: [AccessOperation: Purpose] = [:],
                    knownIssue: (operations: Set<AccessOperation>?, reason: String)? = nil) -> Row {
        Row(role: role, target: target, scope: scope, allowed: allowed, knownIssue: knownIssue)
    }

    /// What a caseworker may do on a case they work; supervisors may do it on every case of their
    /// organisation.
    static let caseWork: [AccessOperation] = [
        .readCase, .readCaseDetails, .updateCase, .writeCaseDetails, .createReferral, .requestCaseClosure, .reopenCase,
        .requestCaseTransfer,
    ]
    /// What only a supervisor may do on a case of their organisation.
    static let supervision: [AccessOperation] = [.assignCase, .closeCase, .approveCaseClosure, .exportCase, .eraseCase]
    static let everyoneOnCollections: [AccessOperation: Purpose] = allow([.listOrganisations, .matchOrganisations], as: .administration)

    static let breakGlassLeak = (
        operations: Optional(Set<AccessOperation>([.breakGlass])),
        reason: "breakGlass on a case answers .forbidden before checking scope, so an actor who may not see the case learns that it exists (S2)")
    static let caseworkerGrant = (
        operations: Optional<Set<AccessOperation>>.none,
        reason: "caseAccess honours a break-glass grant held by a caseworker, so a caseworker reads another organisation's case; only supervisors may break glass")

    static let table: [Row] = [
        // ── Collections (lists and creation) ────────────────────────────────────────────────
        row(.admin, .collection, .visible, everyoneOnCollections
            .merging(allow([.createOrganisation, .createUser, .listUsers], as: .administration)) { a, _ in a }),
        row(.supervisor, .collection, .visible, everyoneOnCollections
            .merging(allow([.listUsers], as: .administration)) { a, _ in a }
            .merging(allow([.createCase, .listCases, .listCaseTransfers], as: .caseManagement)) { a, _ in a }
            .merging(allow([.listReferrals], as: .referral)) { a, _ in a }
            .merging(allow([.listBreakGlassGrants, .listClosureRequests], as: .supervision)) { a, _ in a }
            .merging(allow([.readAuditTrail], as: .audit)) { a, _ in a }
            .merging(allow([.readReports], as: .statistics)) { a, _ in a }),
        row(.caseworker, .collection, .visible, everyoneOnCollections
            .merging(allow([.createCase, .listCases, .listCaseTransfers], as: .caseManagement)) { a, _ in a }
            .merging(allow([.listReferrals], as: .referral)) { a, _ in a }),
        { var partner = row(.partner, .collection, .visible, everyoneOnCollections
            .merging(allow([.listReferrals], as: .referral)) { a, _ in a })
          partner.hidden = [.listCases, .listCaseTransfers]
          return partner }(),
        row(.auditor, .collection, .visible, everyoneOnCollections
            .merging(allow([.readAuditTrail, .verifyAuditTrail], as: .audit)) { a, _ in a }
            .merging(allow([.readReports], as: .statistics)) { a, _ in a }),

        // ── Organisations: the directory referrals are made from; only admins change it ─────
        row(.admin, .organisationOwn, .visible, allow([.readOrganisation, .updateOrganisation, .manageWebhooks], as: .administration)),
        row(.admin, .organisationOther, .visible, allow([.readOrganisation, .updateOrganisation, .manageWebhooks], as: .administration)),
        row(.supervisor, .organisationOwn, .visible, allow([.readOrganisation], as: .administration)),
        row(.supervisor, .organisationOther, .visible, allow([.readOrganisation], as: .administration)),
        row(.caseworker, .organisationOwn, .visible, allow([.readOrganisation], as: .administration)),
        row(.caseworker, .organisationOther, .visible, allow([.readOrganisation], as: .administration)),
        row(.partner, .organisationOwn, .visible, allow([.readOrganisation], as: .administration)),
        row(.partner, .organisationOther, .visible, allow([.readOrganisation], as: .administration)),
        row(.auditor, .organisationOwn, .visible, allow([.readOrganisation], as: .administration)),
        row(.auditor, .organisationOther, .visible, allow([.readOrganisation], as: .administration)),

        // ── Users: admins manage all; supervisors see their organisation's; everyone sees self ─
        row(.admin, .userSelf, .visible, allow([.readUser, .updateUser], as: .administration)),
        row(.admin, .userSameOrg, .visible, allow([.readUser, .updateUser], as: .administration)),
        row(.admin, .userOtherOrg, .visible, allow([.readUser, .updateUser], as: .administration)),
        row(.supervisor, .userSelf, .visible, allow([.readUser], as: .administration)),
        row(.supervisor, .userSameOrg, .visible, allow([.readUser], as: .administration)),
        row(.supervisor, .userOtherOrg, .hidden),
        row(.caseworker, .userSelf, .visible, allow([.readUser], as: .administration)),
        row(.caseworker, .userSameOrg, .hidden),
        row(.caseworker, .userOtherOrg, .hidden),
        row(.partner, .userSelf, .visible, allow([.readUser], as: .administration)),
        row(.partner, .userSameOrg, .hidden),
        row(.partner, .userOtherOrg, .hidden),
        row(.auditor, .userSelf, .visible, allow([.readUser], as: .administration)),
        row(.auditor, .userSameOrg, .hidden),
        row(.auditor, .userOtherOrg, .hidden),

        // ── Cases: admins and auditors never see case content; partners never see cases ─────
        row(.admin, .caseAssignedToMe, .hidden),
        row(.admin, .caseCreatedByMe, .hidden),
        row(.admin, .caseUnassigned, .hidden),
        row(.admin, .caseOfColleague, .hidden),
        row(.admin, .caseOtherOrg, .hidden),
        row(.admin, .caseOtherOrgWithMyGrant, .hidden),
        row(.auditor, .caseAssignedToMe, .hidden),
        row(.auditor, .caseCreatedByMe, .hidden),
        row(.auditor, .caseUnassigned, .hidden),
        row(.auditor, .caseOfColleague, .hidden),
        row(.auditor, .caseOtherOrg, .hidden),
        row(.auditor, .caseOtherOrgWithMyGrant, .hidden),
        row(.partner, .caseAssignedToMe, .hidden),
        row(.partner, .caseCreatedByMe, .hidden),
        row(.partner, .caseUnassigned, .hidden),
        row(.partner, .caseOfColleague, .hidden),
        row(.partner, .caseOtherOrg, .hidden),
        row(.partner, .caseOtherOrgWithMyGrant, .hidden),

        // Caseworkers: only cases assigned to or created by them.
        row(.caseworker, .caseAssignedToMe, .visible, allow(caseWork, as: .caseManagement)),
        row(.caseworker, .caseCreatedByMe, .visible, allow(caseWork, as: .caseManagement)),
        row(.caseworker, .caseUnassigned, .hidden),
        row(.caseworker, .caseOfColleague, .hidden),
        row(.caseworker, .caseOtherOrg, .hidden),
        row(.caseworker, .caseOtherOrgWithMyGrant, .hidden),

        // Supervisors: every case of their organisation, with assign/close/approve; their own
        // cases as case management, the others as supervision. Break-glass opens another
        // organisation's case read-only; their own organisation's cases need no break-glass.
        row(.supervisor, .caseAssignedToMe, .visible, allow(caseWork + supervision, as: .caseManagement)),
        row(.supervisor, .caseCreatedByMe, .visible, allow(caseWork + supervision, as: .supervision)),
        row(.supervisor, .caseUnassigned, .visible, allow(caseWork + supervision, as: .supervision)),
        row(.supervisor, .caseOfColleague, .visible, allow(caseWork + supervision, as: .supervision)),
        row(.supervisor, .caseOtherOrg, .hidden, allow([.breakGlass], as: .breakGlass)),
        row(.supervisor, .caseOtherOrgWithMyGrant, .visible, allow([.readCase, .readCaseDetails, .breakGlass], as: .breakGlass)),

        // ── Referrals: either side sees them; only the recipient moves them as recipient ─────
        row(.admin, .referralSentOnMyCase, .hidden),
        row(.admin, .referralSentOnColleagueCase, .hidden),
        row(.admin, .referralReceived, .hidden),
        row(.admin, .referralNeither, .hidden),
        row(.auditor, .referralSentOnMyCase, .hidden),
        row(.auditor, .referralSentOnColleagueCase, .hidden),
        row(.auditor, .referralReceived, .hidden),
        row(.auditor, .referralNeither, .hidden),
        // Partners: addressed to or sent by their organisation; move only what is addressed to them.
        // A partner user of the sending organisation works no case: nothing of its outgoing referrals.
        row(.partner, .referralSentOnMyCase, .hidden),
        row(.partner, .referralSentOnColleagueCase, .hidden),
        row(.partner, .referralReceived, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral], as: .referral)),
        row(.partner, .referralNeither, .hidden),
        // Caseworkers: on the sending side only referrals of cases they work.
        row(.caseworker, .referralSentOnMyCase, .visible, allow([.readReferral, .transitionReferralAsSender], as: .referral)),
        row(.caseworker, .referralSentOnColleagueCase, .hidden),
        row(.caseworker, .referralReceived, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral], as: .referral)),
        row(.caseworker, .referralNeither, .hidden),
        // Supervisors: every referral their organisation sent ("sender or its supervisor").
        row(.supervisor, .referralSentOnMyCase, .visible, allow([.readReferral, .transitionReferralAsSender], as: .referral)),
        row(.supervisor, .referralSentOnColleagueCase, .visible, allow([.readReferral, .transitionReferralAsSender], as: .referral)),
        row(.supervisor, .referralReceived, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral], as: .referral)),
        row(.supervisor, .referralNeither, .hidden),
        // The recipient's own episodes: recorded by the recipient while it works the referral;
        // read by the sender only within the consented `services`.
        row(.admin, .referralReceivedAccepted, .hidden),
        row(.admin, .referralSentSharingServices, .hidden),
        row(.auditor, .referralReceivedAccepted, .hidden),
        row(.auditor, .referralSentSharingServices, .hidden),
        row(.partner, .referralReceivedAccepted, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral,
                                                                 .recordReferralService, .readReferralServices], as: .referral)),
        row(.partner, .referralSentSharingServices, .hidden),
        row(.caseworker, .referralReceivedAccepted, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral,
                                                                    .recordReferralService, .readReferralServices], as: .referral)),
        row(.caseworker, .referralSentSharingServices, .visible, allow([.readReferral, .transitionReferralAsSender, .readReferralServices],
                                                                       as: .referral)),
        row(.supervisor, .referralReceivedAccepted, .visible, allow([.readReferral, .transitionReferralAsRecipient, .handleReferral,
                                                                    .recordReferralService, .readReferralServices], as: .referral)),
        row(.supervisor, .referralSentSharingServices, .visible, allow([.readReferral, .transitionReferralAsSender, .readReferralServices],
                                                                       as: .referral)),

        // ── Break-glass grants: the case's organisation's supervisors review, never the holder ─
        row(.supervisor, .grantOnOwnOrgCase, .visible, allow([.reviewBreakGlassGrant, .readBreakGlassGrant], as: .supervision)),
        row(.supervisor, .grantHeldByMe, .visible, allow([.readBreakGlassGrant], as: .breakGlass)),
        row(.supervisor, .grantHeldByColleague, .visible, allow([.readBreakGlassGrant], as: .supervision)),
        row(.supervisor, .grantElsewhere, .hidden),
    ] + [Role.admin, .caseworker, .partner, .auditor].flatMap { role in
        // Whoever holds a grant may read it; only supervisors ever hold one.
        [row(role, .grantOnOwnOrgCase, .hidden), row(role, .grantHeldByMe, .hidden, allow([.readBreakGlassGrant], as: .breakGlass)),
         row(role, .grantHeldByColleague, .hidden), row(role, .grantElsewhere, .hidden)]
    } + [
        // ── Case transfers: the sender's people who work the case (and its supervisors) see and
        // cancel it; the receiving organisation's supervisors see and decide it; nobody else learns of it.
        row(.caseworker, .transferOutgoingOnMyCase, .visible, allow([.readCaseTransfer, .cancelCaseTransfer], as: .caseManagement)),
        row(.caseworker, .transferOutgoingOfColleague, .hidden),
        row(.caseworker, .transferIncoming, .hidden),
        row(.caseworker, .transferElsewhere, .hidden),
        row(.supervisor, .transferOutgoingOnMyCase, .visible, allow([.readCaseTransfer, .cancelCaseTransfer], as: .caseManagement)),
        row(.supervisor, .transferOutgoingOfColleague, .visible, allow([.readCaseTransfer, .cancelCaseTransfer], as: .caseManagement)),
        row(.supervisor, .transferIncoming, .visible, allow([.readCaseTransfer, .decideCaseTransfer], as: .supervision)),
        row(.supervisor, .transferElsewhere, .hidden),
    ] + [Role.admin, .partner, .auditor].flatMap { role in
        [Target.transferOutgoingOnMyCase, .transferOutgoingOfColleague, .transferIncoming, .transferElsewhere].map { row(role, $0, .hidden) }
    }

    static func row(for role: Role, _ target: Target) -> Row? {
        table.first { $0.role == role && $0.target == target }
    }

    // MARK: Tests

    @Test func tableCoversEveryRoleAndTargetExactlyOnce() {
        for role in Role.allCases {
            for target in Target.allCases {
                let rows = Self.table.filter { $0.role == role && $0.target == target }
                #expect(rows.count == 1, "\(role) × \(target)")
            }
        }
        #expect(Self.table.count == Role.allCases.count * Target.allCases.count)
    }

    @Test(arguments: Role.allCases, Target.allCases)
    func decisionMatchesTheBrief(_ role: Role, _ target: Target) throws {
        let row = try #require(Self.row(for: role, target))
        let actor = Cast.actor(role)
        var deviations: [(AccessOperation, AccessDecision, AccessDecision)] = []
        for operation in AccessOperation.allCases {
            let decision = AccessPolicy.decide(actor, operation, target.value)
            let expected = row.expected(operation)
            if let known = row.knownIssue, known.operations?.contains(operation) ?? true {
                deviations.append((operation, decision, expected))
            } else {
                #expect(decision == expected, "\(role) \(operation) on \(target)")
            }
        }
        if let known = row.knownIssue {
            withKnownIssue(Comment(rawValue: known.reason)) {
                for (operation, decision, expected) in deviations {
                    #expect(decision == expected, "\(role) \(operation) on \(target)")
                }
            }
        }
    }

    // MARK: Rules stated directly, independent of the table

    static let everyCase: [Target] = [.caseAssignedToMe, .caseCreatedByMe, .caseUnassigned, .caseOfColleague, .caseOtherOrg, .caseOtherOrgWithMyGrant]
    static let caseContent: [AccessOperation] = [.readCase, .readCaseDetails, .updateCase, .writeCaseDetails, .exportCase]

    @Test(arguments: [Role.partner, .admin, .auditor])
    func rolesWithoutCaseAccessNeverReachCaseContent(_ role: Role) {
        for target in Self.everyCase {
            for operation in Self.caseContent {
                #expect(AccessPolicy.decide(Cast.actor(role), operation, target.value) == .notFound, "\(role) \(operation) \(target)")
            }
            if case .caseRecord(let facts) = target.value {
                #expect(AccessPolicy.caseAccess(Cast.actor(role), facts) == nil)
            }
        }
    }

    @Test func breakGlassIsReadOnly() {
        let actor = Cast.actor(.supervisor)
        let target = Target.caseOtherOrgWithMyGrant.value
        #expect(AccessPolicy.decide(actor, .readCase, target) == .allow(.breakGlass))
        #expect(AccessPolicy.decide(actor, .readCaseDetails, target) == .allow(.breakGlass))
        for operation in [AccessOperation.updateCase, .writeCaseDetails, .createReferral, .requestCaseClosure, .reopenCase,
                          .assignCase, .closeCase, .approveCaseClosure, .exportCase, .eraseCase] {
            #expect(AccessPolicy.decide(actor, operation, target) == .forbidden, "\(operation)")
        }
        // A grant for someone else opens nothing.
        let someoneElses = AccessTarget.caseRecord(CaseFacts(
            owningOrganisation: Cast.otherOrg, assignee: Cast.stranger, createdBy: Cast.stranger, breakGlassHolders: [Cast.colleague]))
        #expect(AccessPolicy.decide(actor, .readCase, someoneElses) == .notFound)
    }

    @Test func breakGlassGrantGivesNothingOnTheSendingSideOfAReferral() {
        // A supervisor holding a grant on another organisation's case does not become its sender.
        let facts = CaseFacts(owningOrganisation: Cast.otherOrg, assignee: Cast.stranger, createdBy: Cast.stranger, breakGlassHolders: [Cast.me])
        let referral = AccessTarget.referral(ReferralFacts(fromOrganisation: Cast.otherOrg, toOrganisation: Cast.thirdOrg, caseFacts: facts))
        #expect(AccessPolicy.decide(Cast.actor(.supervisor), .readReferral, referral) == .notFound)
    }

    @Test func caseAccessPurposes() {
        let supervisor = Cast.actor(.supervisor)
        let caseworker = Cast.actor(.caseworker)
        func facts(_ target: Target) -> CaseFacts {
            guard case .caseRecord(let facts) = target.value else { fatalError("not a case target") }
            return facts
        }
        #expect(AccessPolicy.caseAccess(supervisor, facts(.caseAssignedToMe)) == .caseManagement)
        #expect(AccessPolicy.caseAccess(supervisor, facts(.caseOfColleague)) == .supervision)
        #expect(AccessPolicy.caseAccess(supervisor, facts(.caseOtherOrg)) == nil)
        #expect(AccessPolicy.caseAccess(supervisor, facts(.caseOtherOrgWithMyGrant)) == .breakGlass)
        #expect(AccessPolicy.caseAccess(caseworker, facts(.caseAssignedToMe)) == .caseManagement)
        #expect(AccessPolicy.caseAccess(caseworker, facts(.caseCreatedByMe)) == .caseManagement)
        #expect(AccessPolicy.caseAccess(caseworker, facts(.caseUnassigned)) == nil)
        #expect(AccessPolicy.caseAccess(caseworker, facts(.caseOfColleague)) == nil)
        // Assignment in another organisation's case does not count (e.g. stale facts).
        let foreignAssigned = CaseFacts(owningOrganisation: Cast.otherOrg, assignee: Cast.me, createdBy: Cast.me)
        #expect(AccessPolicy.caseAccess(caseworker, foreignAssigned) == nil)
        #expect(AccessPolicy.caseAccess(supervisor, foreignAssigned) == nil)
    }

    @Test func holderNeverReviewsTheirOwnGrant() {
        // Even a supervisor of the case's organisation holding a grant on it (a stale grant after
        // moving organisation) may not review it.
        let grant = AccessTarget.grant(GrantFacts(holder: Cast.me, holderOrganisation: Cast.otherOrg, caseOrganisation: Cast.ownOrg))
        #expect(AccessPolicy.decide(Cast.actor(.supervisor), .reviewBreakGlassGrant, grant) == .forbidden)
    }

    /// How far each role's lists, trail and reports reach: the table the stores' filters follow.
    static let scopes: [Role: [AccessOperation: AccessScope]] = {
        let own = AccessScope.organisation(Cast.ownOrg)
        let mine = AccessScope.ownCases(organisation: Cast.ownOrg, user: Cast.me)
        return [
            .admin: [.listUsers: .national, .listCases: .nothing, .listReferrals: .nothing, .listBreakGlassGrants: .nothing,
                     .readAuditTrail: .nothing, .readReports: .nothing],
            .supervisor: [.listUsers: own, .listCases: own, .listReferrals: own, .listBreakGlassGrants: own,
                          .readAuditTrail: own, .readReports: own],
            .caseworker: [.listUsers: .nothing, .listCases: mine, .listReferrals: mine, .listBreakGlassGrants: .nothing,
                          .readAuditTrail: .nothing, .readReports: .nothing],
            .partner: [.listUsers: .nothing, .listCases: .nothing, .listReferrals: own, .listBreakGlassGrants: .nothing,
                       .readAuditTrail: .nothing, .readReports: .nothing],
            .auditor: [.listUsers: .nothing, .listCases: .nothing, .listReferrals: .nothing, .listBreakGlassGrants: .nothing,
                       .readAuditTrail: .national, .readReports: .national],
        ]
    }()

    @Test(arguments: Role.allCases)
    func scopeOfListsTrailAndReports(_ role: Role) throws {
        let expected = try #require(Self.scopes[role])
        for (operation, scope) in expected {
            #expect(AccessPolicy.scope(Cast.actor(role), operation) == scope, "\(role) \(operation)")
        }
        // Whatever the policy refuses on a collection reaches nothing, and the reverse.
        for operation in AccessOperation.allCases {
            let allowed = AccessPolicy.decide(Cast.actor(role), operation, .collection).isAllowed
            #expect((AccessPolicy.scope(Cast.actor(role), operation) != .nothing) == allowed, "\(role) \(operation)")
        }
    }

    @Test func decisionHelpers() {
        #expect(AccessDecision.allow(.audit).isAllowed)
        #expect(!AccessDecision.forbidden.isAllowed)
        #expect(!AccessDecision.notFound.isAllowed)
    }
}
