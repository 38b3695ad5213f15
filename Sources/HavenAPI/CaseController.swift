import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Cases: intake, lists, reading (audited), changes under `If-Match`, assignment, closure and
/// reopening, history, and break-glass.
struct CaseController: Sendable {
    let store: Store
    let breakGlassDuration: Duration
    var cases: CaseService { CaseService(store: store) }
    var directory: DirectoryService { DirectoryService(store: store) }

    struct AssignRequest: Decodable { var assignee: UUID }
    /// The reason, and (closing at once) a decision for every open referral, service and need.
    struct CloseRequest: Decodable {
        var reason: ClosureReason
        var referrals: [ClosureDecisions.ReferralItem]?
        var services: [ClosureDecisions.ServiceItem]?
        var needs: [ClosureDecisions.NeedItem]?

        var decisions: ClosureDecisions { ClosureDecisions(referrals: referrals ?? [], services: services ?? [], needs: needs ?? []) }
    }
    struct ReopenRequest: Decodable { var reason: ReopenReason }
    struct BreakGlassRequest: Decodable { var reason: String }

    func register(_ routes: Routes) {
        routes.post("/v1/cases") { request, context in try await intake(request, context) }
        routes.get("/v1/cases") { request, context in try await list(request, context) }
        routes.post("/v1/cases/search") { request, context in try await search(request, context) }
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
        let (draft, bytes) = try await request.decodeJSONWithBytes(CaseDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.intake(draft, request: key, context: context.access) { file, duplicates in
                var dto = CaseDTO(file)
                dto.duplicates = duplicates.isEmpty ? nil : duplicates
                return try CreatedResponse(dto, location: "/v1/cases/\(file.id.uuidString)", caseID: file.id, version: file.version).answer
            }
        }
    }

    /// Filters, order and a search by reference or identification dates in the query string. A
    /// name identifies a person, so it is searched only through `POST /v1/cases/search` and is
    /// refused here rather than read from a URL (S12). Every bad parameter is named (400).
    func list(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<CaseDTO>> {
        _ = try context.requireActor()
        let query = request.uri.queryParameters
        let bodyOnly = ["name", "birth_year"]
        let misplaced = bodyOnly.filter { query.get($0) != nil }.map { FieldError($0, "is searched through the body of POST /v1/cases/search, never a URL") }
        let input = CaseListInput({ bodyOnly.contains($0) ? nil : query.get($0).map { String($0) } }, unreadable: misplaced)
        do {
            let page = try await cases.search(input.terms, filter: input.filter, page: input.page, context: context.access)
            return JSONResponse(ListResponse(page, CaseDTO.init))
        } catch let failure as ValidationFailure {
            throw APIError(.badRequest, kind: .badRequest, detail: failure.errors.map { "\($0.field) \($0.reason)" }.joined(separator: "; "),
                           errors: failure.errors)
        }
    }

    /// The same list, searched from a JSON body: by a person's exact name and birth year (through
    /// the blind index), besides every filter of the query string. Every bad member is named (422).
    func search(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<CaseDTO>> {
        _ = try context.requireActor()
        var request = request
        let body = try await request.decodeJSON([String: JSONValue].self, limit: context.maxUploadSize)
        let (values, unreadable) = CaseListInput.members(body)
        let input = CaseListInput({ values[$0] }, unreadable: unreadable)
        let page = try await cases.search(input.terms, filter: input.filter, page: input.page, context: context.access)
        return JSONResponse(ListResponse(page, CaseDTO.init))
    }

    func read(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let file = try await cases.read(id, context: context.access)
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }

    func update(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.requiredVersion(request)
        var request = request
        let patch = try await request.decodeJSON(CasePatch.self, limit: context.maxUploadSize)
        let updated = try await cases.update(id, patch, expectedVersion: expected, context: context.access)
        var dto = CaseDTO(updated.file)
        dto.duplicates = updated.duplicates
        return JSONResponse(dto, headers: [.eTag: ETag.make(updated.file.version)])
    }

    func assign(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let body = try await request.decodeJSON(AssignRequest.self, limit: context.maxUploadSize)
        return answer(try await cases.assign(id, to: body.assignee, expectedVersion: expected, context: context.access))
    }

    /// A supervisor closes at once; a caseworker's request waits for a supervisor's approval (202).
    func close(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let body = try await request.decodeJSON(CloseRequest.self, limit: context.maxUploadSize)
        do {
            let (file, closed) = try await cases.close(id, reason: body.reason, decisions: body.decisions, expectedVersion: expected,
                                                       context: context.access)
            return answer(file, status: closed ? .ok : .accepted)
        } catch let refusal as ClosureUndecided {
            throw ClosureController.problem(refusal)
        }
    }

    /// The decisions for every open referral, service and need (`ClosureDecisions`); a case with
    /// nothing open may be approved without a body.
    func approveClosure(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let decisions = request.headers[.contentType] == nil && request.headers[.contentLength].map({ $0 == "0" }) != false
            ? ClosureDecisions() : try await request.decodeJSON(ClosureDecisions.self, limit: context.maxUploadSize)
        do {
            return answer(try await cases.approveClosure(id, decisions: decisions, expectedVersion: expected, context: context.access))
        } catch let refusal as ClosureUndecided {
            throw ClosureController.problem(refusal)
        }
    }

    func reopen(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let body = try await request.decodeJSON(ReopenRequest.self, limit: context.maxUploadSize)
        return answer(try await cases.reopen(id, reason: body.reason, expectedVersion: expected, context: context.access))
    }

    private func answer(_ file: CaseFile, status: HTTPResponse.Status = .ok) -> JSONResponse<CaseDTO> {
        JSONResponse(CaseDTO(file), status: status, headers: [.eTag: ETag.make(file.version)])
    }

    struct HistoryEntry: Encodable, Sendable {
        var at: Date
        var event: String
        var action: String
        var actor: UUID?
        /// The actor's name, to their colleagues only (as the console names them).
        var actorName: String? = nil
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
        let names = try await directory.names(users: Set(page.items.compactMap(\.actorUser)), organisations: [],
                                              viewer: try context.requireActor())
        return JSONResponse(ListResponse(page) { record in
            HistoryEntry(at: record.recorded, event: record.subtype, action: record.action, actor: record.actorUser,
                         actorName: record.actorUser.flatMap { names.users[$0] },
                         actorOrganisation: record.actorOrganisation, actorRole: record.actorRole, purpose: record.purpose,
                         detail: JSONText(record.detailJSON))
        })
    }

    func breakGlass(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let id = try request.uuidParameter("id", context)
        var request = request
        let (body, bytes) = try await request.decodeJSONWithBytes(BreakGlassRequest.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(id)/break-glass", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await BreakGlassService(store: store, duration: breakGlassDuration).start(on: id, reason: body.reason, request: key,
                                                                                          context: context.access) { grant in
                try CreatedResponse(GrantDTO(grant), location: "/v1/break-glass/\(grant.id.uuidString)", caseID: id).answer
            }
        }
    }
}
