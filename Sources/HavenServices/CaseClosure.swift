import Foundation
import HavenCore
import HavenStore

/// Closure as a supervisor works it: the queue of requests, what is still open on a case, and
/// closing with an explicit decision for every open referral, service and need (nothing is
/// cancelled silently), or declining the request with a reason.
extension CaseService {
    /// A case about to close and what is still open on it: the items its closure must decide.
    public struct ClosureReview: Sendable {
        public var file: CaseFile
        public var referrals: [Referral]
        public var services: [ServiceEpisode]
        public var needs: [Need]
        public var work: OpenWork
    }

    /// The organisation's cases whose closure waits for a supervisor, oldest request first.
    public func pendingClosures(page: PageRequest, context: AccessContext) async throws -> Page<CaseFile> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listClosureRequests, .collection, entityKind: .caseFile)
            try transaction.audit(.read, .caseList, entityKind: .caseFile, subjectOrganisation: actor.organisationID, purpose: .supervision,
                                  detail: page.auditDetail(filters: ["closure_requested"], sort: CaseSort.updatedAsc.rawValue))
            return try CaseStore.list(CaseFilter(status: .open, closureRequested: true, sort: .updatedAsc), actor: actor, after: page.cursor,
                                      limit: page.limit, keys: keys, on: transaction.connection)
        }
    }

    /// What a supervisor decides on before closing: the case and its open referrals, service
    /// episodes and needs. Audited as `case.closure-review`.
    public func closureReview(_ id: UUID, context: AccessContext) async throws -> ClosureReview {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeAndLoadCase(id, .approveCaseClosure, open: true)
            let review = try CaseService.openWork(of: access.file, on: transaction)
            try transaction.audit(.read, .caseClosureReview, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["referrals": .int(review.work.referrals.count), "services": .int(review.work.services.count),
                                           "needs": .int(review.work.needs.count)])
            return review
        }
    }

    static func openWork(of file: CaseFile, on transaction: StoreTransaction) throws -> ClosureReview {
        let keys = transaction.keys
        let connection = transaction.connection
        let referrals = try ReferralStore.list(caseID: file.id, keys: keys, on: connection)
        let services = try ServiceStore.list(caseID: file.id, keys: keys, openNotes: false, on: connection)
        let needs = try NeedStore.list(caseID: file.id, keys: keys, open: false, on: connection)
        let work = OpenWork.of(referrals: referrals, services: services, needs: needs)
        return ClosureReview(file: file, referrals: referrals.filter { work.referrals.contains($0.id) },
                             services: services.filter { work.services.contains($0.id) }, needs: needs.filter { work.needs.contains($0.id) },
                             work: work)
    }

    /// Sends a closure request back to the caseworker, with the reason their case's history shows.
    public func declineClosure(_ id: UUID, reason: ClosureDeclineReason, expectedVersion: Int?, context: AccessContext) async throws -> CaseFile {
        try await lifecycle(id, expectedVersion: expectedVersion, operation: .approveCaseClosure, subtype: .caseCloseDecline,
                            context: context) { file, _, transaction in
            try transaction.requireOpen(file.status)
            guard file.closureRequestedAt != nil else { throw StoreError.conflict("no closure request is waiting for approval", field: nil) }
            var detail: [String: AuditDetail] = ["reason": .string(reason.rawValue)]
            if let requestedBy = file.closureRequestedBy { detail["requested_by"] = .string(requestedBy.lowercasedString) }
            if let requested = file.closureReason { detail["requested_reason"] = .string(requested) }
            transaction.notify(NotificationMessage(kind: .closureDeclined, recipientOrganisation: file.organisationID,
                                                   recipientUser: file.closureRequestedBy, caseReference: file.reference,
                                                   link: NotificationLink.caseFile(file.id)))
            file.closureRequestedAt = nil
            file.closureRequestedBy = nil
            file.closureReason = nil
            return detail
        }
    }

    /// Applies a closure's decisions, refusing (422, every item named) unless each open
    /// referral, service episode and need has exactly one; then closes the case.
    static func closeNow(_ file: inout CaseFile, reason: String, decisions: ClosureDecisions, actor: Actor, purpose: Purpose,
                         on transaction: StoreTransaction) throws {
        let connection = transaction.connection
        let open = try openWork(of: file, on: transaction)
        if let failure = open.work.refusal(decisions) { throw ClosureUndecided(failure: failure, undecided: open.work.undecided(decisions)) }
        let caseID = file.id
        for item in decisions.needs {
            guard let need = open.needs.first(where: { $0.id == item.id }),
                  try NeedStore.close(need, NeedClosure(outcome: item.decision.outcome, reason: "case closed: \(reason)"), actor: actor,
                                      keys: transaction.keys, on: connection) != nil
            else { throw StoreError.preconditionFailed("the need changed since you read it") }
            try transaction.audit(.update, .needClose, entityKind: .need, entityID: item.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: file.organisationID, purpose: purpose,
                                  detail: ["outcome": .string(item.decision.outcome.rawValue), "case_closure": true])
        }
        for item in decisions.services {
            guard try ClosureStore.endService(item.id, caseID: caseID, as: item.decision.status, on: connection) else {
                throw StoreError.preconditionFailed("the service changed since you read it")
            }
            try transaction.audit(.update, .serviceUpdate, entityKind: .service, entityID: item.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: file.organisationID, purpose: purpose,
                                  detail: ["fields": .strings(["status"]), "status": .string(item.decision.status.rawValue), "case_closure": true])
        }
        for item in decisions.referrals {
            guard try ClosureStore.cancelReferral(item.id, reason: item.reason, actor: actor, on: connection) else {
                throw StoreError.preconditionFailed("the referral changed since you read it")
            }
            try transaction.audit(.update, .referralTransition, entityKind: .referral, entityID: item.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: file.organisationID, purpose: purpose,
                                  detail: ["to": "cancelled", "reason": .string(item.reason.rawValue), "case_closure": true])
        }
        let years = try OrganisationStore.retentionYears(file.organisationID, on: connection)
        file.close(reason: reason, by: actor.userID, at: Date(), retentionYears: years)
    }
}

/// A closure refused because open work was left undecided (or decided twice, or a decision
/// named something not open on the case): 422 naming every item.
public struct ClosureUndecided: Error, Sendable {
    public var failure: ValidationFailure
    public var undecided: [(kind: String, id: UUID)]
}
