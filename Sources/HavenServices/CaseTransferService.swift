import Foundation
import HavenCore
import HavenStore

/// Handing a case to another organisation, for the API and the console: the owning organisation
/// asks with a consent that covers it (`CaseTransfer.consentRefusal`), a supervisor of the
/// receiving organisation accepts or declines, the sender may cancel while it waits. Each step
/// asks the policy, writes and audits in one transaction (`AuditSubtype.transfer`).
///
/// On acceptance the case belongs to the receiving organisation: its assignee and any closure
/// request are cleared (the receiving supervisor assigns), open referrals stay with their
/// recipients (the new owner follows them up as their sender), and the whole history (the audit
/// trail's events of the case, referrals, needs, services, consents) is read by the new owner.
/// The old organisation's people lose the case (404); its supervisors keep the transfer and
/// their own organisation's audit events, which name the case by id only.
public struct CaseTransferService: Sendable {
    let store: Store
    /// How many waiting transfers the worklist shows.
    public static let worklistLimit = 50

    public init(store: Store) {
        self.store = store
    }

    /// A transfer with the names the viewer may see.
    public struct Seen: Sendable {
        public var transfer: CaseTransfer
        public var side: TransferSide
        public var names: DirectoryService.Names
    }

    public func request(_ caseID: UUID, _ draft: CaseTransferDraft, context: AccessContext) async throws -> CaseTransfer {
        try await store.transaction(context) { transaction in try Self.request(caseID, draft, on: transaction) }
    }

    /// The same under an `Idempotency-Key`: a retry with the key gets the first answer again
    /// instead of a 409 for the transfer its first try already asked for.
    public func request(
        _ caseID: UUID, _ draft: CaseTransferDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (CaseTransfer) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try await Idempotent.run(request, store: store, context: context) { transaction in
            try answer(try Self.request(caseID, draft, on: transaction))
        }
    }

    static func request(_ caseID: UUID, _ draft: CaseTransferDraft, on transaction: StoreTransaction) throws -> CaseTransfer {
        let keys = transaction.keys
        let access = try transaction.authorizeCase(caseID, .requestCaseTransfer)
        try transaction.requireOpen(access.status)
        let connection = transaction.connection
        guard let actor = transaction.actor, let file = try CaseStore.find(caseID, keys: keys, open: false, forUpdate: true, on: connection) else {
            throw StoreError.notFound("no such case")
        }
        var check = Validator()
        var receiving: Organisation?
        if draft.organisation == file.organisationID {
            check.check(false, "organisation", "must be another organisation")
        } else if let found = try OrganisationStore.find(draft.organisation, on: connection) {
            check.check(found.active, "organisation", "is deactivated and takes no cases")
            receiving = found
        } else {
            check.check(false, "organisation", "is not an organisation")
        }
        // Locked until the transfer commits, as for a referral: a withdrawal waits, or went first and is seen.
        if let consent = try ConsentStore.find(draft.consent, caseID: caseID, keys: keys, forUpdate: true, on: connection) {
            // Checked against the organisation asked for even when that one is wrong too: every bad field at once.
            if draft.organisation != file.organisationID,
               let refusal = CaseTransfer.consentRefusal(consent, receiving: receiving?.id ?? draft.organisation, at: Date()) {
                check.check(false, "consent", refusal)
            }
        } else {
            check.check(false, "consent", "is not a consent of this case")
        }
        try check.finish()
        if try CaseTransferStore.pending(caseID: caseID, on: connection) != nil {
            throw StoreError.conflict("a transfer of this case is already waiting for an answer", field: nil)
        }
        let transfer = try CaseTransferStore.create(draft, caseID: caseID, reference: file.reference, actor: actor, on: connection)
        try Self.audit(transfer, .requested, purpose: access.purpose, on: transaction)
        // The receiving organisation's supervisors decide: they hear of it with the request.
        transaction.notify(NotificationMessage(kind: .caseTransferred, recipientOrganisation: transfer.toOrganisation,
                                               caseReference: transfer.caseReference, link: NotificationLink.transfers))
        return transfer
    }

    /// The receiving supervisor takes the case over. Refused (409) when the consent no longer
    /// covers the transfer or the case closed meanwhile; nothing moves then.
    public func accept(_ id: UUID, context: AccessContext) async throws -> CaseTransfer {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let (transfer, purpose) = try transaction.authorizeTransfer(id, .decideCaseTransfer)
            let connection = transaction.connection
            guard transfer.status.allows(.accepted) else { throw StoreError.conflict("the transfer is already \(transfer.status.rawValue)", field: nil) }
            guard try CaseTransferStore.accept(id, on: connection) else {
                throw StoreError.conflict("the case can no longer be transferred (closed or moved)", field: nil)
            }
            // The case is the actor's organisation's now, so its consent is in sight: checked
            // again, as it may have been withdrawn or narrowed since the request.
            guard let consent = try ConsentStore.find(transfer.consentID, caseID: transfer.caseID, keys: keys, on: connection) else {
                throw StoreError.conflict("the consent behind the transfer is gone", field: nil)
            }
            if let refusal = CaseTransfer.consentRefusal(consent, receiving: transfer.toOrganisation, at: Date()) {
                throw StoreError.conflict("the consent " + refusal + "; the sender must record a new one", field: "consent")
            }
            guard let accepted = try CaseTransferStore.find(id, on: connection) else { throw StoreError.notFound("no such case transfer") }
            try Self.audit(accepted, .accepted, purpose: purpose, on: transaction)
            return accepted
        }
    }

    public func decline(_ id: UUID, reason: CaseTransferDeclineReason, context: AccessContext) async throws -> CaseTransfer {
        try await end(id, as: .declined, operation: .decideCaseTransfer, declineReason: reason, context: context)
    }

    public func cancel(_ id: UUID, context: AccessContext) async throws -> CaseTransfer {
        try await end(id, as: .cancelled, operation: .cancelCaseTransfer, declineReason: nil, context: context)
    }

    private func end(_ id: UUID, as status: CaseTransferStatus, operation: AccessOperation, declineReason: CaseTransferDeclineReason?,
                     context: AccessContext) async throws -> CaseTransfer {
        try await store.transaction(context) { transaction in
            let (transfer, purpose) = try transaction.authorizeTransfer(id, operation)
            guard transfer.status.allows(status), let actor = transaction.actor,
                  let ended = try CaseTransferStore.end(id, as: status, declineReason: declineReason, actor: actor, on: transaction.connection)
            else { throw StoreError.conflict("the transfer is already \(transfer.status.rawValue)", field: nil) }
            try Self.audit(ended, status, purpose: purpose, on: transaction)
            return ended
        }
    }

    /// One transfer as its viewer may see it, audited as `case.transfer-read`.
    public func read(_ id: UUID, context: AccessContext) async throws -> Seen {
        try await store.transaction(context) { transaction in
            let (transfer, purpose) = try transaction.authorizeTransfer(id, .readCaseTransfer)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such case transfer") }
            try transaction.audit(.read, .caseTransferRead, entityKind: .caseTransfer, entityID: id.lowercasedString, caseID: transfer.caseID,
                                  subjectOrganisation: transfer.fromOrganisation, purpose: purpose)
            let side: TransferSide = actor.organisationID == transfer.toOrganisation ? .receiving : .sending
            let names = try DirectoryService.names(users: Set([transfer.requestedBy] + [transfer.decidedBy].compactMap { $0 }),
                                                   organisations: [transfer.fromOrganisation, transfer.toOrganisation], viewer: actor,
                                                   on: transaction.connection)
            return Seen(transfer: transfer, side: side, names: names)
        }
    }

    /// Incoming transfers (for the receiving supervisors) or outgoing ones (for the sender), as
    /// far as `AccessPolicy.transferScope` reaches.
    public func list(incoming: Bool, status: CaseTransferStatus?, page: PageRequest, context: AccessContext) async throws
        -> (page: Page<CaseTransfer>, names: DirectoryService.Names) {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listCaseTransfers, .collection, entityKind: .caseTransfer)
            var filters = [incoming ? "incoming" : "outgoing"]
            if status != nil { filters.append("status") }
            try transaction.audit(.read, .caseTransferList, entityKind: .caseTransfer, subjectOrganisation: actor.organisationID,
                                  purpose: .caseManagement, detail: page.auditDetail(filters: filters, sort: "requested_desc"))
            let found = try CaseTransferStore.list(incoming: incoming, status: status, actor: actor, after: page.cursor, limit: page.limit,
                                                   on: transaction.connection)
            let names = try DirectoryService.names(users: Set(found.items.map(\.requestedBy)),
                                                   organisations: Set(found.items.flatMap { [$0.fromOrganisation, $0.toOrganisation] }),
                                                   viewer: actor, on: transaction.connection)
            return (found, names)
        }
    }

    /// The transfer of a case waiting for an answer, for whoever reads the case (nil when none),
    /// audited as `case.transfer-read` when there is one.
    public func pending(of caseID: UUID, context: AccessContext) async throws -> CaseTransfer? {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .readCaseDetails)
            guard let transfer = try CaseTransferStore.pending(caseID: caseID, on: transaction.connection) else { return nil }
            try transaction.audit(.read, .caseTransferRead, entityKind: .caseTransfer, entityID: transfer.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose)
            return transfer
        }
    }

    /// The event of a step, named by `AuditSubtype.transfer`: about the case, in the sending
    /// organisation's trail (the receiving one's by its actor), with both organisations and the
    /// reasons as codes.
    static func audit(_ transfer: CaseTransfer, _ status: CaseTransferStatus, purpose: Purpose, on transaction: StoreTransaction) throws {
        var detail: [String: AuditDetail] = [
            "transfer": .string(transfer.id.lowercasedString), "status": .string(status.rawValue),
            "from_organisation": .string(transfer.fromOrganisation.lowercasedString),
            "to_organisation": .string(transfer.toOrganisation.lowercasedString), "reason": .string(transfer.reason.rawValue),
        ]
        if status == .requested { detail["consent"] = .string(transfer.consentID.lowercasedString) }
        if let decline = transfer.declineReason { detail["decline_reason"] = .string(decline.rawValue) }
        if status == .accepted { detail["assignee_cleared"] = true }
        try transaction.audit(status == .requested ? .create : .update, AuditSubtype.transfer(status), entityKind: .caseFile,
                              entityID: transfer.caseID.lowercasedString, caseID: transfer.caseID, subjectOrganisation: transfer.fromOrganisation,
                              purpose: purpose, detail: detail)
    }
}
