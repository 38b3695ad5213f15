import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Cases: intake, lists, reading (audited), changes under `If-Match`, assignment, closure and
/// reopening, history, and break-glass.
struct CaseController: Sendable {
    let store: Store
    let bodyLimit: Int
    let breakGlassDuration: Duration
    var cases: CaseService { CaseService(store: store) }

    struct AssignRequest: Decodable { var assignee: UUID }
    struct CloseRequest: Decodable { var reason: ClosureReason }
    struct ReopenRequest: Decodable { var reason: ReopenReason }
    struct BreakGlassRequest: Decodable { var reason: String }

    func register(_ routes: Routes) {
        routes.post("/v1/cases") { request, context in try await intake(request, context) }
        routes.get("/v1/cases") { request, context in try await list(request, context) }
        routes.get("/v1/cases/:id") { request, context in try await read(request, context) }
        routes.patch("/v1/cases/:id") { request, context in try await update(request, context) }
        routes.post("/v1/cases/:id/assign") { request, context in try await assign(request, context) }
        routes.post("/v1/cases/:id/close") { request, context in try await close(request, context) }
        routes.post("/v1/cases/:id/close/approve") { request, context in try await approveClosure(request, context) }
        routes.post("/v1/cases/:id/reopen") { request, context in try await reopen(request, context) }
        routes.get("/v1/cases/:id/history") { request, context in try await history(request, context) }
        routes.post("/v1/cases/:id/break-glass") { request, context in try await breakGlass(request, context) }
    }

    func intake(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(CaseDraft.self, limit: bodyLimit)
        let today = CalendarDate.of(Date())
        try draft.validate(today: today)
        let actor = try context.requireActor()
        guard AccessPolicy.decide(actor, .createCase, .collection).isAllowed else {
            try await store.transaction(context.access) { try $0.authorize(.createCase, .collection, entityKind: "case") }
            throw APIError.forbidden()
        }
        let reference = try await store.withConnection { connection in
            try CaseStore.allocateReference(organisation: actor.organisationID, year: today.year, on: connection)
        }
        let keys = store.keys
        return try await Idempotency.create(request, context: context, scope: "POST /v1/cases", body: bytes, store: store) { transaction in
            try transaction.authorize(.createCase, .collection, entityKind: "case")
            let draft = draft.assigningDefault(for: actor)
            if let assignee = draft.assignee { try CaseController.checkAssignee(assignee, organisation: actor.organisationID, on: transaction) }
            let file = try CaseStore.create(draft, reference: reference, actor: actor, keys: keys, today: today, on: transaction.connection)
            let duplicates = try DuplicateCheck.record(caseID: file.id, identity: file.identity, birthYear: file.profile.birthYear, keys: keys,
                                                       on: transaction.connection)
            try transaction.audit(.create, "case.create", entityKind: "case", entityID: file.id.lowercasedString, caseID: file.id,
                                  subjectOrganisation: file.organisationID, purpose: .caseManagement,
                                  detail: ["fields": .strings(CaseController.providedFields(draft)), "possible_duplicate": .bool(!duplicates.isEmpty)])
            var dto = CaseDTO(file)
            dto.duplicates = duplicates.isEmpty ? nil : duplicates
            return try CreatedResponse(dto, location: "/v1/cases/\(file.id.uuidString)", caseID: file.id, version: file.version)
        }
    }

    /// Assignees are active caseworkers or supervisors of the case's organisation.
    static func checkAssignee(_ id: UUID, organisation: UUID, on transaction: StoreTransaction) throws {
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

    func list(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<CaseDTO>> {
        let query = try ListQuery(request)
        _ = try context.requireActor()
        let sort = try request.queryEnum("sort", CaseSort.self) ?? .updatedDesc
        let filter = CaseFilter(
            status: try request.queryEnum("status", CaseStatus.self), caseType: try request.queryEnum("case_type", CaseType.self),
            riskLevel: try request.queryEnum("risk_level", RiskLevel.self), assignee: try request.queryUUID("assignee"),
            identificationStatus: try request.queryEnum("identification_status", IdentificationStatus.self),
            updatedSince: try request.queryDate("updated_since"), sort: sort)
        let page = try await cases.list(filter, page: query.page, context: context.access)
        return JSONResponse(ListResponse(page, CaseDTO.init))
    }

    func read(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let file = try await cases.read(id, context: context.access)
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }

    func update(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        struct Updated: Sendable {
            var file: CaseFile
            var duplicates: DuplicateHint?
        }
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.requiredVersion(request)
        var request = request
        let patch = try await request.decodeJSON(CasePatch.self, limit: bodyLimit)
        let today = CalendarDate.of(Date())
        try patch.validate(today: today)
        let keys = store.keys
        let file = try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(id, .updateCase)
            guard let current = try CaseStore.find(id, keys: keys, open: true, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such case")
            }
            guard current.version == expected else { throw StoreError.preconditionFailed("the case changed since you read it (now version \(current.version))") }
            try transaction.requireOpen(current.status)
            let next = current.applying(patch, today: today)
            if let failure = next.inconsistency(today: today) { throw StoreError.invalid(failure) }
            let changes = current.changes(to: next)
            guard !changes.isEmpty else {
                // No new version; the event still records the attempt, and the answer shows the case.
                try transaction.audit(.update, "case.update", entityKind: "case", entityID: id.lowercasedString, caseID: id,
                                      subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: ["changes": .array([])])
                return Updated(file: current)
            }
            guard let saved = try CaseStore.save(next, expectedVersion: expected, keys: keys, on: transaction.connection) else {
                throw StoreError.preconditionFailed("the case changed since you read it")
            }
            var duplicates: DuplicateHint?
            if saved.identity != current.identity || saved.profile.birthYear != current.profile.birthYear {
                let hint = try DuplicateCheck.record(caseID: id, identity: saved.identity, birthYear: saved.profile.birthYear, keys: keys,
                                                     on: transaction.connection)
                duplicates = hint.isEmpty ? nil : hint
            }
            try transaction.audit(.update, "case.update", entityKind: "case", entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["changes": .array(changes.map(\.auditDetail))])
            return Updated(file: saved, duplicates: duplicates)
        }
        var dto = CaseDTO(file.file)
        dto.duplicates = file.duplicates
        return JSONResponse(dto, headers: [.eTag: ETag.make(file.file.version)])
    }

    /// Loads the case for a lifecycle change, applies `change`, saves and audits it.
    private func lifecycle(
        _ request: Request, _ context: HavenRequestContext, operation: AccessOperation, subtype: String,
        _ change: @escaping @Sendable (inout CaseFile, Actor, StoreTransaction) throws -> [String: AuditDetail]
    ) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        let keys = store.keys
        let file = try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(id, operation)
            guard let actor = transaction.actor, var file = try CaseStore.find(id, keys: keys, open: true, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such case")
            }
            if let expected, expected != file.version { throw StoreError.preconditionFailed("the case changed since you read it") }
            let before = file
            let detail = try change(&file, actor, transaction)
            guard let saved = try CaseStore.save(file, expectedVersion: before.version, keys: keys, on: transaction.connection) else {
                throw StoreError.preconditionFailed("the case changed since you read it")
            }
            var auditDetail = detail
            auditDetail["changes"] = .array(before.changes(to: saved).map(\.auditDetail))
            try transaction.audit(.update, subtype, entityKind: "case", entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: auditDetail)
            return saved
        }
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }

    func assign(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        var request = request
        let body = try await request.decodeJSON(AssignRequest.self, limit: bodyLimit)
        return try await lifecycle(request, context, operation: .assignCase, subtype: "case.assign") { file, _, transaction in
            try CaseController.checkAssignee(body.assignee, organisation: file.organisationID, on: transaction)
            file.assignee = body.assignee
            return [:]
        }
    }

    /// A supervisor closes at once; a caseworker's request waits for a supervisor's approval.
    func close(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        var request = request
        let body = try await request.decodeJSON(CloseRequest.self, limit: bodyLimit)
        let actor = try context.requireActor()
        let operation = AccessPolicy.closure(actor)
        let direct = operation == .closeCase
        let response = try await lifecycle(request, context, operation: operation,
                                           subtype: direct ? "case.close" : "case.close-request") { file, actor, transaction in
            try transaction.requireOpen(file.status)
            if direct {
                try CaseController.closeNow(&file, reason: body.reason.rawValue, actor: actor, on: transaction)
            } else {
                guard file.closureRequestedAt == nil else { throw StoreError.conflict("closure is already requested", field: nil) }
                file.closureRequestedAt = Date()
                file.closureRequestedBy = actor.userID
                file.closureReason = body.reason.rawValue
            }
            return ["reason": .string(body.reason.rawValue)]
        }
        return direct ? response : JSONResponse(response.body, status: .accepted, headers: response.headers)
    }

    func approveClosure(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        try await lifecycle(request, context, operation: .approveCaseClosure, subtype: "case.close") { file, actor, transaction in
            try transaction.requireOpen(file.status)
            guard let reason = file.closureReason, file.closureRequestedAt != nil else {
                throw StoreError.conflict("no closure request is waiting for approval", field: nil)
            }
            try CaseController.closeNow(&file, reason: reason, actor: actor, on: transaction)
            return ["reason": .string(reason), "approved": true]
        }
    }

    static func closeNow(_ file: inout CaseFile, reason: String, actor: Actor, on transaction: StoreTransaction) throws {
        let years = try OrganisationStore.retentionYears(file.organisationID, on: transaction.connection)
        file.close(reason: reason, by: actor.userID, at: Date(), retentionYears: years)
        // A closed case's referrals end with it: the recipient's access to the case ends too.
        for referral in try ReferralStore.cancelOpen(.ofCase(file.id), reason: .caseClosed, actor: actor, on: transaction.connection) {
            try transaction.audit(.update, "referral.transition", entityKind: "referral", entityID: referral.lowercasedString, caseID: file.id,
                                  subjectOrganisation: file.organisationID, purpose: .caseManagement,
                                  detail: ["to": "cancelled", "reason": .string(CancellationReason.caseClosed.rawValue)])
        }
    }

    func reopen(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        var request = request
        let body = try await request.decodeJSON(ReopenRequest.self, limit: bodyLimit)
        return try await lifecycle(request, context, operation: .reopenCase, subtype: "case.reopen") { file, _, _ in
            guard file.status == .closed else { throw StoreError.conflict("the case is open", field: nil) }
            guard file.anonymisedAt == nil else { throw StoreError.conflict("the case was anonymised and cannot be reopened; open a new case", field: nil) }
            file.status = .open
            file.reopenedCount += 1
            file.closedAt = nil
            file.closedBy = nil
            file.closureReason = nil
            file.closureRequestedAt = nil
            file.closureRequestedBy = nil
            file.retentionDue = nil
            return ["reason": .string(body.reason.rawValue)]
        }
    }

    struct HistoryEntry: Encodable, Sendable {
        var at: Date
        var event: String
        var action: String
        var actor: UUID?
        var actorOrganisation: UUID?
        var actorRole: String?
        var purpose: String
        var detail: JSONText
    }

    /// Who changed what and when: field names for everything, old and new values only for
    /// fields that identify no one (the audit detail never holds more).
    func history(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<HistoryEntry>> {
        let id = try request.uuidParameter("id", context)
        let query = try ListQuery(request, defaultLimit: 100, maxLimit: 500)
        let page = try await cases.history(id, page: query.page, context: context.access)
        return JSONResponse(ListResponse(page) { record in
            HistoryEntry(at: record.recorded, event: record.subtype, action: record.action, actor: record.actorUser,
                         actorOrganisation: record.actorOrganisation, actorRole: record.actorRole, purpose: record.purpose,
                         detail: JSONText(record.detailJSON))
        })
    }

    func breakGlass(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let id = try request.uuidParameter("id", context)
        var request = request
        let (body, bytes) = try await request.decodeJSONWithBytes(BreakGlassRequest.self, limit: bodyLimit)
        var check = Validator()
        check.text(body.reason, "reason", required: true, max: 2_000, multiline: true)
        check.check(body.reason.trimmingCharacters(in: .whitespacesAndNewlines).count >= 10, "reason", "must explain the emergency (at least 10 characters)")
        try check.finish()
        let keys = store.keys
        let duration = breakGlassDuration
        return try await Idempotency.create(request, context: context, scope: "POST /v1/cases/\(id)/break-glass", body: bytes, store: store) { transaction in
            let access = try transaction.authorizeCase(id, .breakGlass)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such case") }
            let grant = try BreakGlassStore.create(caseID: id, caseOrganisation: access.facts.owningOrganisation, reason: body.reason,
                                                   actor: actor, duration: duration, keys: keys, on: transaction.connection)
            try transaction.audit(.execute, "breakglass.start", entityKind: "break-glass-grant", entityID: grant.id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: .breakGlass,
                                  detail: ["expires_in_seconds": .int(Int(duration.components.seconds))])
            return try CreatedResponse(GrantDTO(grant), location: "/v1/break-glass/\(grant.id.uuidString)", caseID: id)
        }
    }
}
