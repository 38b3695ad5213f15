import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Referrals between organisations, the FHIR-Task state machine enforced here, and the
/// recipient's view of the case: exactly the consented categories, and only while the referral
/// is open (S15, S16).
struct ReferralController: Sendable {
    let store: Store
    var referrals: ReferralService { ReferralService(store: store) }
    var directory: DirectoryService { DirectoryService(store: store) }

    /// `items` with the names their viewer may see beside the ids.
    func named(_ items: [ReferralDTO], _ context: HavenRequestContext) async throws -> [ReferralDTO] {
        let wanted = ReferralDTO.wanted(items)
        let names = try await directory.names(users: wanted.users, organisations: wanted.organisations, viewer: try context.requireActor())
        return items.map { $0.named(names) }
    }
    static let suggestions = ReferralService.suggestions

    func register(_ routes: Routes) {
        routes.post("/v1/cases/:id/referrals") { request, context in try await create(request, context) }
        routes.get("/v1/cases/:id/referrals") { request, context in try await listForCase(request, context) }
        routes.get("/v1/referrals") { request, context in try await list(request, context) }
        routes.get("/v1/referrals/:id") { request, context in try await read(request, context) }
        routes.post("/v1/referrals/:id/transitions") { request, context in try await transition(request, context) }
        routes.get("/v1/referrals/:id/history") { request, context in try await history(request, context) }
        routes.post("/v1/referrals/:id/handler") { request, context in try await setHandler(request, context) }
    }

    struct HandlerRequest: Decodable { var user: UUID? }

    /// Takes the referral (no `user`) or hands it to a colleague of the receiving organisation.
    func setHandler(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReferralDTO> {
        let id = try request.uuidParameter("id", context)
        var request = request
        let body = try await request.decodeJSON(HandlerRequest.self, limit: context.maxUploadSize)
        let view = try await referrals.setHandler(id, to: body.user, context: context.access)
        let dto = ReferralDTO(view.referral, side: view.side)
        return JSONResponse(dto, headers: [.eTag: ETag.make(dto.version)])
    }

    func create(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ReferralDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/referrals", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await referrals.create(on: caseID, draft, request: key, context: context.access) { referral in
                try CreatedResponse(ReferralDTO(referral, side: .sender), location: "/v1/referrals/\(referral.id.uuidString)", caseID: caseID,
                                    version: referral.version).answer
            }
        }
    }

    /// The answers to a referral the consent or the mandate does not allow.
    static func problem(_ refusal: ReferralService.NotCovered) -> APIError {
        let detail = refusal.consentStatus == .active
            ? "the consent does not cover \(refusal.recipient) for: \(refusal.missing.map(\.rawValue).joined(separator: ", "))"
            : "the consent is \(refusal.consentStatus.rawValue)"
        return APIError(.conflict, kind: .consentDoesNotCover, detail: detail, errors: [FieldError("shared_categories", detail)],
                        extensions: ["missing_categories": .strings(refusal.missing.map(\.rawValue)), "consent_status": .string(refusal.consentStatus.rawValue)])
    }

    static func problem(_ refusal: ReferralService.OutsideMandate) -> APIError {
        if !refusal.unserved.isEmpty {
            let who = refusal.unserved.map(\.rawValue).joined(separator: ", ")
            return APIError(.conflict, kind: .populationNotServed,
                            detail: "\(refusal.recipient) does not serve this person (\(who)); the organisations listed do",
                            errors: [FieldError("to_organisation", "does not serve this person: \(who)")],
                            extensions: ["organisations": .array(refusal.covering.map(OrganisationSummary.init).map(\.json)),
                                         "unserved_populations": .strings(refusal.unserved.map(\.rawValue))])
        }
        return APIError(.unprocessableContent, kind: .outsideMandate,
                 detail: "\(refusal.recipient) does not take referrals for \(refusal.serviceType.rawValue)",
                 errors: [FieldError("to_organisation", "does not provide \(refusal.serviceType.rawValue)")],
                 extensions: ["organisations": .array(refusal.covering.map(OrganisationSummary.init).map(\.json))])
    }

    func listForCase(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ReferralDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let found = try await referrals.list(caseID: caseID, context: context.access)
        return JSONResponse(ListResponse(items: try await named(found.map { ReferralDTO($0, side: .sender) }, context), nextCursor: nil))
    }

    func list(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ReferralDTO>> {
        let query = try ListQuery(request)
        _ = try context.requireActor()
        let direction = try request.queryEnum("direction", ReferralDirection.self) ?? .incoming
        let status = try request.queryEnum("status", ReferralStatus.self)
        let page = try await referrals.list(direction: direction, status: status, page: query.page, context: context.access)
        let items = try await named(page.items.map { ReferralDTO($0, side: direction == .incoming ? .recipient : .sender) }, context)
        return JSONResponse(ListResponse(items: items, nextCursor: page.nextCursor))
    }

    func read(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReferralDTO> {
        let id = try request.uuidParameter("id", context)
        let view = try await referrals.read(id, context: context.access)
        var dto = ReferralDTO(view.referral, side: view.side)
        dto.case = view.shared.map(SharedCase.init)
        dto.coveringOrganisations = view.coveringOrganisations?.map(OrganisationSummary.init)
        dto = try await named([dto], context).first ?? dto
        return JSONResponse(dto, headers: [.eTag: ETag.make(dto.version)])
    }

    func transition(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReferralDTO> {
        let id = try request.uuidParameter("id", context)
        var request = request
        let move = try await request.decodeJSON(TransitionRequest.self, limit: context.maxUploadSize)
        let view = try await referrals.transition(id, move, context: context.access)
        var dto = ReferralDTO(view.referral, side: view.side)
        dto.coveringOrganisations = view.coveringOrganisations?.map(OrganisationSummary.init)
        return JSONResponse(dto, headers: [.eTag: ETag.make(dto.version)])
    }

    static func problem(_ refusal: ReferralStateMachine.Refusal, from: ReferralStatus, side: ReferralSide) -> APIError {
        switch refusal {
        case .notAllowed(let allowed):
            let list = allowed.map(\.rawValue)
            let detail = list.isEmpty
                ? "the referral is \(from.rawValue), which is final"
                : "from \(from.rawValue) the \(side.rawValue) may move it to: \(list.joined(separator: ", "))"
            return APIError(.conflict, kind: .transitionNotAllowed, detail: detail, errors: [FieldError("to", detail)],
                            extensions: ["allowed": .strings(list), "current_status": .string(from.rawValue)])
        case .reasonRequired:
            return .invalid("reason", "is required to reject: one of \(RejectionReason.allowedValues)")
        case .outcomeRequired:
            return .invalid("outcome", "is required to complete or fail a referral")
        }
    }

    struct TransitionDTO: Encodable, Sendable {
        var from: ReferralStatus?
        var to: ReferralStatus
        var actorUser: UUID?
        /// The actor's name, to their colleagues only (as the console names them).
        var actorName: String? = nil
        var actorOrganisation: UUID?
        var reason: String?
        var businessStatus: String?
        var outcome: String?
        var note: String?
        var at: Date
    }

    func history(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<TransitionDTO>> {
        let id = try request.uuidParameter("id", context)
        let transitions = try await referrals.history(id, context: context.access)
        let names = try await directory.names(users: Set(transitions.compactMap(\.actorUser)), organisations: [],
                                              viewer: try context.requireActor())
        return JSONResponse(ListResponse(items: transitions.map {
            TransitionDTO(from: $0.from, to: $0.to, actorUser: $0.actorUser, actorName: $0.actorUser.flatMap { names.users[$0] },
                          actorOrganisation: $0.actorOrganisation, reason: $0.reason,
                          businessStatus: $0.businessStatus, outcome: $0.outcome, note: $0.note, at: $0.at)
        }, nextCursor: nil))
    }
}

struct OrganisationSummary: Encodable, Sendable {
    var id: UUID
    var name: String
    var type: OrganisationType
    var region: String?

    init(_ organisation: Organisation) {
        id = organisation.id
        name = organisation.name
        type = organisation.type
        region = organisation.region
    }

    var json: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id.uuidString), "name": .string(name), "type": .string(type.rawValue)]
        if let region { object["region"] = .string(region) }
        return .object(object)
    }
}
