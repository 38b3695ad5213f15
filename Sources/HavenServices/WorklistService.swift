import Foundation
import HavenCore
import HavenStore

/// "Action needed" for one user, read in one transaction, the same for the API and the console:
/// the referrals waiting for their organisation's answer, their overdue needs, services due,
/// closures waiting for their approval, break-glass grants to review, consents about to expire,
/// and their open cases.
public struct Worklist: Sendable {
    /// Incoming referrals still requested or received, soonest due first (empty when the role
    /// lists no referrals).
    public var awaitingAnswer: [Referral] = []
    /// Open needs past their priority's deadline in the user's cases, soonest due first, each with its case's reference.
    public var overdueNeeds: [(need: Need, reference: String)] = []
    /// Unfinished services due today or before, in the user's cases, with their case's reference.
    public var servicesDue: [(service: ServiceEpisode, reference: String)] = []
    /// Open cases whose closure waits for this supervisor (empty for other roles).
    public var closuresToApprove: [CaseFile] = []
    /// Emergency accesses to or by the organisation nobody has reviewed yet (supervisors).
    public var grantsToReview: [BreakGlassGrant] = []
    /// Running consents that end within `WorklistService.consentNotice`, soonest first, with their case's reference.
    public var consentsExpiring: [(consent: Consent, reference: String)] = []
    /// Open cases, most recently changed first: a caseworker's own, a supervisor's assigned ones.
    public var openCases: [CaseFile] = []
    /// Case transfers to the organisation waiting for this supervisor's answer, oldest first.
    public var transfersToDecide: [CaseTransfer] = []
    public var names = DirectoryService.Names()
    /// Which parts the user's role has (a part a role never has is left out, not shown empty).
    public var parts: Set<Part> = []

    public enum Part: String, Sendable, CaseIterable {
        case awaitingAnswer = "awaiting_answer", overdueNeeds = "overdue_needs", servicesDue = "services_due"
        case closuresToApprove = "closures_to_approve", grantsToReview = "grants_to_review", consentsExpiring = "consents_expiring"
        case openCases = "open_cases", transfersToDecide = "transfers_to_decide"
    }
}

public struct WorklistService: Sendable {
    let store: Store
    /// How many of each kind the worklist shows; the lists behind it page through the rest.
    public static let referralLimit = 50
    public static let caseLimit = 20
    /// A consent ending within this is on the worklist: a week to see the person and renew it.
    public static let consentNotice: TimeInterval = 7 * 86_400

    public init(store: Store) {
        self.store = store
    }

    /// Each part asked of the policy as its own list would be, audited once as `worklist.read`
    /// with what it counted.
    public func actionNeeded(context: AccessContext) async throws -> Worklist {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let keys = store.keys
        let can = Capabilities(actor)
        return try await store.transaction(context) { transaction in
            var worklist = Worklist()
            let connection = transaction.connection
            let now = Date()
            if can.listReferrals {
                try transaction.authorize(.listReferrals, .collection, entityKind: .referral)
                try transaction.endLapsedReferrals()
                worklist.awaitingAnswer = try ReferralStore.awaitingAnswer(organisation: actor.organisationID, limit: Self.referralLimit,
                                                                           keys: keys, on: connection)
                worklist.parts.insert(.awaitingAnswer)
            }
            if can.listCases {
                try transaction.authorize(.listCases, .collection, entityKind: .caseFile)
                worklist.overdueNeeds = try NeedStore.overdue(actor: actor, now: now, limit: Self.referralLimit, keys: keys, on: connection)
                    .map { (need: $0.0, reference: $0.1) }
                // Due by the end of today: overdue ones and those to finish today.
                let tomorrow = CalendarDate.of(now.addingTimeInterval(86_400))
                worklist.servicesDue = try ServiceStore.overdue(actor: actor, today: tomorrow, after: nil, limit: Self.referralLimit,
                                                                keys: keys, on: connection)
                    .items.map { (service: $0.0, reference: $0.1) }
                worklist.consentsExpiring = try ConsentStore.expiring(actor: actor, now: now, before: now.addingTimeInterval(Self.consentNotice),
                                                                      limit: Self.referralLimit, keys: keys, on: connection)
                    .map { (consent: $0.0, reference: $0.1) }
                worklist.parts.formUnion([.overdueNeeds, .servicesDue, .consentsExpiring, .openCases])
                if can.closesCasesDirectly {
                    worklist.closuresToApprove = try CaseStore.list(CaseFilter(status: .open, closureRequested: true, sort: .updatedAsc), actor: actor,
                                                                    after: nil, limit: Self.referralLimit, keys: keys, on: connection).items
                    worklist.parts.insert(.closuresToApprove)
                }
                let mine = CaseFilter(status: .open, assignee: actor.role == .caseworker ? nil : actor.userID, sort: .updatedDesc)
                worklist.openCases = try CaseStore.list(mine, actor: actor, after: nil, limit: Self.caseLimit, keys: keys, on: connection).items
            }
            if can.reviewBreakGlass {
                try transaction.authorize(.listBreakGlassGrants, .collection, entityKind: .breakGlassGrant)
                worklist.grantsToReview = try BreakGlassStore.list(actor: actor, reviewed: false, after: nil, limit: Self.referralLimit, keys: keys,
                                                                   on: connection).items
                worklist.parts.insert(.grantsToReview)
            }
            if AccessPolicy.transferScope(actor, incoming: true) != .nothing {
                try transaction.authorize(.listCaseTransfers, .collection, entityKind: .caseTransfer)
                worklist.transfersToDecide = try CaseTransferStore.awaitingDecision(actor: actor, limit: Self.referralLimit, on: connection)
                worklist.parts.insert(.transfersToDecide)
            }
            try transaction.audit(.read, .worklistRead, entityKind: .worklist, subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: ["referrals": .int(worklist.awaitingAnswer.count), "overdue_needs": .int(worklist.overdueNeeds.count),
                                           "services_due": .int(worklist.servicesDue.count), "closures": .int(worklist.closuresToApprove.count),
                                           "grants": .int(worklist.grantsToReview.count), "consents_expiring": .int(worklist.consentsExpiring.count),
                                           "cases": .int(worklist.openCases.count),
                                           "transfers": .int(worklist.transfersToDecide.count)])
            var organisations = Set(worklist.awaitingAnswer.flatMap { [$0.fromOrganisation, $0.toOrganisation] })
            organisations.formUnion(worklist.servicesDue.compactMap(\.service.providerOrganisation))
            organisations.formUnion(worklist.grantsToReview.map(\.holderOrganisation))
            organisations.formUnion(worklist.transfersToDecide.map(\.fromOrganisation))
            worklist.names = try DirectoryService.names(users: Set(worklist.grantsToReview.map(\.holder)), organisations: organisations,
                                                        viewer: actor, on: connection)
            return worklist
        }
    }
}
