import Foundation
import HavenCore
import HavenStore

/// Changing cases: intake, assignment, closure (direct for a supervisor, a request for a
/// caseworker, then its approval) and reopening. Each asks the policy, applies the HavenCore
/// rule, saves and writes its event in one transaction.
extension CaseService {
    /// Registers a case. `answer` shapes what a retry with the same key gets back.
    public func intake(
        _ draft: CaseDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (CaseFile, DuplicateHint) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        let today = CalendarDate.of(Date())
        try draft.validate(today: today)
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        guard AccessPolicy.decide(actor, .createCase, .collection).isAllowed else {
            // Recorded as a denial, then refused without allocating a reference.
            try await store.transaction(context) { try $0.authorize(.createCase, .collection, entityKind: .caseFile) }
            throw StoreError.forbidden("your role does not allow this on this record")
        }
        let reference = try await store.withConnection { connection in
            try CaseStore.allocateReference(organisation: actor.organisationID, year: today.year, on: connection)
        }
        let keys = store.keys
        return try await Idempotent.run(request, store: store, context: context) { transaction in
            try transaction.authorize(.createCase, .collection, entityKind: .caseFile)
            let draft = draft.assigningDefault(for: actor)
            if let assignee = draft.assignee { try CaseService.checkAssignee(assignee, organisation: actor.organisationID, on: transaction) }
            let file = try CaseStore.create(draft, reference: reference, actor: actor, keys: keys, today: today, on: transaction.connection)
            let duplicates = try CaseService.duplicateHint(caseID: file.id, identity: file.identity, birthYear: file.profile.birthYear,
                                                           on: transaction)
            // Whoever reads the case's history may read this: only its own organisation's matches count here.
            try transaction.audit(.create, .caseCreate, entityKind: .caseFile, entityID: file.id.lowercasedString, caseID: file.id,
                                  subjectOrganisation: file.organisationID, purpose: .caseManagement,
                                  detail: ["fields": .strings(CaseService.providedFields(draft)),
                                           "possible_duplicate": .bool(!duplicates.sameOrganisation.isEmpty)])
            return try answer(file, duplicates)
        }
    }

    /// Assignees are active caseworkers or supervisors of the case's organisation.
    public static func checkAssignee(_ id: UUID, organisation: UUID, on transaction: StoreTransaction) throws {
        guard let user = try UserStore.find(id, on: transaction.connection), user.organisationID == organisation, user.active,
              user.role.worksCases
        else { throw StoreError.invalid(ValidationFailure("assignee", "must be an active caseworker or supervisor of the case's organisation")) }
    }

    static func providedFields(_ draft: CaseDraft) -> [String] {
        var fields = ["case_type", "identification_status", "identified_by", "identified_on", "risk_level"]
        if draft.assignee != nil { fields.append("assignee") }
        if draft.person.identity != nil { fields.append("person.identity") }
        if draft.trafficking != nil { fields.append("trafficking") }
        if draft.violence != nil { fields.append("violence") }
        if draft.note != nil { fields.append("note") }
        return fields
    }

    /// Loads the case for a lifecycle change, applies `change`, saves and audits it.
    func lifecycle(
        _ id: UUID, expectedVersion: Int?, operation: AccessOperation, subtype: AuditSubtype, context: AccessContext,
        _ change: @escaping @Sendable (inout CaseFile, Actor, StoreTransaction) throws -> [String: AuditDetail]
    ) async throws -> CaseFile {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(id, operation)
            guard let actor = transaction.actor, var file = try CaseStore.find(id, keys: keys, open: true, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such case")
            }
            if let expectedVersion, expectedVersion != file.version { throw StoreError.preconditionFailed("the case changed since you read it") }
            let before = file
            let detail = try change(&file, actor, transaction)
            guard let saved = try CaseStore.save(file, expectedVersion: before.version, keys: keys, on: transaction.connection) else {
                throw StoreError.preconditionFailed("the case changed since you read it")
            }
            var auditDetail = detail
            auditDetail["changes"] = .array(before.changes(to: saved).map(\.auditDetail))
            try transaction.audit(.update, subtype, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: auditDetail)
            return saved
        }
    }

    public func assign(_ id: UUID, to assignee: UUID, expectedVersion: Int?, context: AccessContext) async throws -> CaseFile {
        try await lifecycle(id, expectedVersion: expectedVersion, operation: .assignCase, subtype: .caseAssign, context: context) { file, _, transaction in
            try CaseService.checkAssignee(assignee, organisation: file.organisationID, on: transaction)
            file.assignee = assignee
            return [:]
        }
    }

    /// A supervisor closes at once (`closed` true), deciding every open referral, service and
    /// need; a caseworker's request waits for a supervisor's approval (and its decisions).
    public func close(_ id: UUID, reason: ClosureReason, decisions: ClosureDecisions = ClosureDecisions(), expectedVersion: Int?,
                      context: AccessContext) async throws -> (file: CaseFile, closed: Bool) {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let operation = AccessPolicy.closure(actor)
        let direct = operation == .closeCase
        let file = try await lifecycle(id, expectedVersion: expectedVersion, operation: operation, subtype: direct ? .caseClose : .caseCloseRequest,
                                       context: context) { file, actor, transaction in
            try transaction.requireOpen(file.status)
            if direct {
                try CaseService.closeNow(&file, reason: reason.rawValue, decisions: decisions, actor: actor,
                                         purpose: actor.userID == file.assignee ? .caseManagement : .supervision, on: transaction)
            } else {
                guard file.closureRequestedAt == nil else { throw StoreError.conflict("closure is already requested", field: nil) }
                file.closureRequestedAt = Date()
                file.closureRequestedBy = actor.userID
                file.closureReason = reason.rawValue
                transaction.notify(NotificationMessage(kind: .closureRequested, recipientOrganisation: file.organisationID,
                                                       caseReference: file.reference, link: NotificationLink.closure(file.id)))
            }
            return ["reason": .string(reason.rawValue)]
        }
        return (file, direct)
    }

    /// Approves a requested closure with a decision for every open referral, service and need.
    public func approveClosure(_ id: UUID, decisions: ClosureDecisions = ClosureDecisions(), expectedVersion: Int?,
                               context: AccessContext) async throws -> CaseFile {
        try await lifecycle(id, expectedVersion: expectedVersion, operation: .approveCaseClosure, subtype: .caseClose, context: context) { file, actor, transaction in
            try transaction.requireOpen(file.status)
            guard let reason = file.closureReason, file.closureRequestedAt != nil else {
                throw StoreError.conflict("no closure request is waiting for approval", field: nil)
            }
            transaction.notify(NotificationMessage(kind: .closureApproved, recipientOrganisation: file.organisationID,
                                                   recipientUser: file.closureRequestedBy, caseReference: file.reference,
                                                   link: NotificationLink.caseFile(file.id)))
            try CaseService.closeNow(&file, reason: reason, decisions: decisions, actor: actor,
                                     purpose: actor.userID == file.assignee ? .caseManagement : .supervision, on: transaction)
            return ["reason": .string(reason), "approved": true]
        }
    }

    public func reopen(_ id: UUID, reason: ReopenReason, expectedVersion: Int?, context: AccessContext) async throws -> CaseFile {
        try await lifecycle(id, expectedVersion: expectedVersion, operation: .reopenCase, subtype: .caseReopen, context: context) { file, _, _ in
            guard file.status == .closed else { throw StoreError.conflict("the case is open", field: nil) }
            guard file.anonymisedAt == nil else { throw StoreError.conflict("the case was anonymised and cannot be reopened; open a new case", field: nil) }
            file.reopen()
            return ["reason": .string(reason.rawValue)]
        }
    }
}

extension CaseService {
    /// A case changed under `If-Match`; `duplicates` is the hint when the identity or birth year changed.
    public struct Updated: Sendable {
        public var file: CaseFile
        public var duplicates: DuplicateHint?
    }

    /// Applies a patch to the case as merged (profiles must fit the case type), at the version the
    /// caller read. A patch that changes nothing writes no version, but its event still records the attempt.
    public func update(_ id: UUID, _ patch: CasePatch, expectedVersion: Int, context: AccessContext) async throws -> Updated {
        let today = CalendarDate.of(Date())
        try patch.validate(today: today)
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(id, .updateCase)
            guard let current = try CaseStore.find(id, keys: keys, open: true, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such case")
            }
            guard current.version == expectedVersion else {
                throw StoreError.preconditionFailed("the case changed since you read it (now version \(current.version))")
            }
            try transaction.requireOpen(current.status)
            let next = current.applying(patch, today: today)
            if let failure = next.inconsistency(today: today) { throw StoreError.invalid(failure) }
            let changes = current.changes(to: next)
            guard !changes.isEmpty else {
                try transaction.audit(.update, .caseUpdate, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                      subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: ["changes": .array([])])
                return Updated(file: current)
            }
            guard let saved = try CaseStore.save(next, expectedVersion: expectedVersion, keys: keys, on: transaction.connection) else {
                throw StoreError.preconditionFailed("the case changed since you read it")
            }
            var duplicates: DuplicateHint?
            if saved.identity != current.identity || saved.profile.birthYear != current.profile.birthYear {
                let hint = try CaseService.duplicateHint(caseID: id, identity: saved.identity, birthYear: saved.profile.birthYear,
                                                         on: transaction)
                duplicates = hint.isEmpty ? nil : hint
            }
            try transaction.audit(.update, .caseUpdate, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["changes": .array(changes.map(\.auditDetail))])
            return Updated(file: saved, duplicates: duplicates)
        }
    }
}
