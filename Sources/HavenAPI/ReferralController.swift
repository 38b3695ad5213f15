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
    let bodyLimit: Int
    var referrals: ReferralService { ReferralService(store: store) }
    static let suggestions = ReferralService.suggestions

    func register(_ routes: Routes) {
        routes.post("/v1/cases/:id/referrals") { request, context in try await create(request, context) }
        routes.get("/v1/cases/:id/referrals") { request, context in try await listForCase(request, context) }
        routes.get("/v1/referrals") { request, context in try await list(request, context) }
        routes.get("/v1/referrals/:id") { request, context in try await read(request, context) }
        routes.post("/v1/referrals/:id/transitions") { request, context in try await transition(request, context) }
        routes.get("/v1/referrals/:id/history") { request, context in try await history(request, context) }
    }

    func create(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ReferralDraft.self, limit: bodyLimit)
        try draft.validate()
        let keys = store.keys
        return try await Idempotency.create(request, context: context, scope: "POST /v1/cases/\(caseID)/referrals", body: bytes, store: store) { transaction in
            let access = try transaction.authorizeCase(caseID, .createReferral)
            try transaction.requireOpen(access.status)
            guard let actor = transaction.actor,
                  let file = try CaseStore.find(caseID, keys: keys, open: false, on: transaction.connection)
            else { throw StoreError.notFound("no such case") }
            let new = try ReferralController.resolve(draft, file: file, actor: actor, on: transaction)
            let referral = try ReferralStore.create(new, actor: actor, keys: keys, now: Date(), on: transaction.connection)
            try transaction.audit(.create, "referral.create", entityKind: "referral", entityID: referral.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: file.organisationID, purpose: access.purpose,
                                  detail: ["to_organisation": .string(draft.toOrganisation.lowercasedString),
                                           "service_type": .string(new.serviceType.rawValue),
                                           "shared_categories": .strings(new.sharedCategories.sorted().map(\.rawValue))])
            return try CreatedResponse(ReferralDTO(referral, side: .sender), location: "/v1/referrals/\(referral.id.uuidString)", caseID: caseID,
                                      version: referral.version)
        }
    }

    /// Checks a new referral against the case, its need, the consent and the recipient's
    /// mandate: 409 naming the categories the consent does not cover; 422 with the
    /// organisations that do cover the need when the recipient's mandate does not.
    static func resolve(_ draft: ReferralDraft, file: CaseFile, actor: Actor, on transaction: StoreTransaction) throws -> ReferralStore.NewReferral {
        let connection = transaction.connection
        let keys = transaction.keys
        guard draft.toOrganisation != actor.organisationID else {
            throw APIError.invalid("to_organisation", "must be another organisation")
        }
        guard let recipient = try OrganisationStore.find(draft.toOrganisation, on: connection) else {
            throw APIError.invalid("to_organisation", "is not an organisation")
        }
        guard recipient.active else { throw APIError.invalid("to_organisation", "is deactivated and takes no referrals") }
        var serviceType = draft.serviceType
        var priority = draft.priority ?? .normal
        if let needID = draft.needId {
            guard let need = try NeedStore.find(needID, caseID: file.id, keys: keys, on: connection) else {
                throw APIError.invalid("need_id", "is not a need of this case")
            }
            if let given = serviceType, given != need.serviceType {
                throw APIError.invalid("service_type", "differs from the need's service type (\(need.serviceType.rawValue))")
            }
            serviceType = need.serviceType
            if draft.priority == nil { priority = need.priority }
        }
        guard let serviceType else { throw APIError.invalid("service_type", "is required when need_id is not given") }
        // Locked until the referral commits: a withdrawal waits for it and then cancels it, or
        // went first and is seen here.
        guard let consent = try ConsentStore.find(draft.consentId, caseID: file.id, forUpdate: true, on: connection) else {
            throw APIError.invalid("consent_id", "is not a consent of this case")
        }
        let requested = Set(draft.sharedCategories)
        let missing = consent.missingCategories(requested, for: recipient.id, at: Date())
        if !missing.isEmpty {
            let state = consent.status(at: Date())
            let detail = state == .active
                ? "the consent does not cover \(recipient.name) for: \(missing.map(\.rawValue).joined(separator: ", "))"
                : "the consent is \(state.rawValue)"
            throw APIError(.conflict, kind: "consent-does-not-cover", detail: detail, errors: [FieldError("shared_categories", detail)],
                           extensions: ["missing_categories": .strings(missing.map(\.rawValue)), "consent_status": .string(state.rawValue)])
        }
        guard recipient.mandate.covers(serviceType: serviceType, region: nil) else {
            let covering = try OrganisationStore.matching(serviceType: serviceType, country: nil, region: nil, excluding: actor.organisationID,
                                                          after: nil, limit: ReferralController.suggestions, on: connection).items
            throw APIError(.unprocessableContent, kind: "outside-mandate",
                           detail: "\(recipient.name) does not take referrals for \(serviceType.rawValue)",
                           errors: [FieldError("to_organisation", "does not provide \(serviceType.rawValue)")],
                           extensions: ["organisations": .array(covering.map(OrganisationSummary.init).map(\.json))])
        }
        if let previous = draft.previousReferralId {
            guard let old = try ReferralStore.find(previous, keys: keys, openNote: false, on: connection), old.caseID == file.id, old.status.isTerminal else {
                throw APIError.invalid("previous_referral_id", "must be an ended referral of this case")
            }
        }
        return ReferralStore.NewReferral(
            caseID: file.id, caseOrganisation: file.organisationID, caseReference: file.reference, needID: draft.needId,
            serviceType: serviceType, toOrganisation: recipient.id, consentID: consent.id, sharedCategories: draft.sharedCategories,
            priority: priority, note: draft.note, previousReferralID: draft.previousReferralId)
    }

    func listForCase(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ReferralDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let found = try await referrals.list(caseID: caseID, context: context.access)
        return JSONResponse(ListResponse(items: found.map { ReferralDTO($0, side: .sender) }, nextCursor: nil))
    }

    func list(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ReferralDTO>> {
        let query = try ListQuery(request)
        _ = try context.requireActor()
        let direction = try request.queryEnum("direction", ReferralDirection.self) ?? .incoming
        let status = try request.queryEnum("status", ReferralStatus.self)
        let page = try await referrals.list(direction: direction, status: status, page: query.page, context: context.access)
        return JSONResponse(ListResponse(page) { ReferralDTO($0, side: direction == .incoming ? .recipient : .sender) })
    }

    func read(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReferralDTO> {
        let id = try request.uuidParameter("id", context)
        let view = try await referrals.read(id, context: context.access)
        var dto = ReferralDTO(view.referral, side: view.side)
        dto.case = view.shared.map(SharedCase.init)
        return JSONResponse(dto, headers: [.eTag: ETag.make(dto.version)])
    }

    func transition(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReferralDTO> {
        let id = try request.uuidParameter("id", context)
        var request = request
        let move = try await request.decodeJSON(TransitionRequest.self, limit: bodyLimit)
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
            return APIError(.conflict, kind: "transition-not-allowed", detail: detail, errors: [FieldError("to", detail)],
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
        return JSONResponse(ListResponse(items: transitions.map {
            TransitionDTO(from: $0.from, to: $0.to, actorUser: $0.actorUser, actorOrganisation: $0.actorOrganisation, reason: $0.reason,
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
