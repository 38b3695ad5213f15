import Foundation
import HavenCore
import HavenStore

/// "Action needed" for one user, read in one transaction: the referrals waiting for their
/// organisation's answer, the closures waiting for their approval, and their open cases.
public struct Worklist: Sendable {
    /// Incoming referrals still requested or received, soonest due first (empty when the role
    /// lists no referrals).
    public var awaitingAnswer: [Referral] = []
    /// Open cases whose closure waits for this supervisor (empty for other roles).
    public var closuresToApprove: [CaseFile] = []
    /// Open cases, most recently changed first: a caseworker's own, a supervisor's assigned ones.
    public var openCases: [CaseFile] = []
    public var names = DirectoryService.Names()
}

public struct WorklistService: Sendable {
    let store: Store
    /// How many of each kind the worklist shows; the lists behind it page through the rest.
    public static let referralLimit = 50
    public static let caseLimit = 20

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
            if can.listReferrals {
                try transaction.authorize(.listReferrals, .collection, entityKind: "referral")
                try transaction.endLapsedReferrals()
                worklist.awaitingAnswer = try ReferralStore.awaitingAnswer(organisation: actor.organisationID, limit: Self.referralLimit,
                                                                           keys: keys, on: connection)
            }
            if can.listCases {
                try transaction.authorize(.listCases, .collection, entityKind: "case")
                if can.closesCasesDirectly {
                    worklist.closuresToApprove = try CaseStore.list(CaseFilter(status: .open, closureRequested: true, sort: .updatedAsc), actor: actor,
                                                                    after: nil, limit: Self.referralLimit, keys: keys, on: connection).items
                }
                let mine = CaseFilter(status: .open, assignee: actor.role == .caseworker ? nil : actor.userID, sort: .updatedDesc)
                worklist.openCases = try CaseStore.list(mine, actor: actor, after: nil, limit: Self.caseLimit, keys: keys, on: connection).items
            }
            try transaction.audit(.read, "worklist.read", entityKind: "worklist", subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: ["referrals": .int(worklist.awaitingAnswer.count), "closures": .int(worklist.closuresToApprove.count),
                                           "cases": .int(worklist.openCases.count)])
            let organisations = Set(worklist.awaitingAnswer.flatMap { [$0.fromOrganisation, $0.toOrganisation] })
            worklist.names = try DirectoryService.names(users: [], organisations: organisations, viewer: actor, on: connection)
            return worklist
        }
    }
}
