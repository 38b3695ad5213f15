import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// What hangs off a case: needs, service episodes (and the overdue worklist), consents.
struct CaseDetailsController: Sendable {
    let store: Store
    var cases: CaseService { CaseService(store: store) }

    func register(_ routes: Routes) {
        routes.post("/v1/cases/:id/needs") { request, context in try await createNeed(request, context) }
        routes.get("/v1/cases/:id/needs") { request, context in try await listNeeds(request, context) }
        routes.get("/v1/cases/:id/needs/:nid") { request, context in try await readNeed(request, context) }
        routes.post("/v1/cases/:id/needs/:nid/close") { request, context in try await closeNeed(request, context) }
        routes.post("/v1/cases/:id/services") { request, context in try await createService(request, context) }
        routes.get("/v1/cases/:id/services") { request, context in try await listServices(request, context) }
        routes.get("/v1/cases/:id/services/:sid") { request, context in try await readService(request, context) }
        routes.patch("/v1/cases/:id/services/:sid") { request, context in try await updateService(request, context) }
        routes.get("/v1/services/overdue") { request, context in try await overdue(request, context) }
        routes.get("/v1/worklist") { request, context in try await worklist(request, context) }
        routes.post("/v1/cases/:id/consents") { request, context in try await createConsent(request, context) }
        routes.get("/v1/cases/:id/consents") { request, context in try await listConsents(request, context) }
        routes.get("/v1/cases/:id/consents/:cid") { request, context in try await readConsent(request, context) }
        routes.post("/v1/cases/:id/consents/:cid/withdraw") { request, context in try await withdrawConsent(request, context) }
        routes.post("/v1/cases/:id/consents/:cid/versions") { request, context in try await amendConsent(request, context) }
    }

    // MARK: Needs

    func createNeed(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(NeedDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/needs", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.addNeed(to: caseID, draft, request: key, context: context.access) { need in
                try CreatedResponse(NeedDTO(need), location: "/v1/cases/\(caseID.uuidString)/needs/\(need.id.uuidString)", caseID: caseID).answer
            }
        }
    }

    func listNeeds(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<NeedDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let needs = try await cases.needs(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: needs.map { NeedDTO($0) }, nextCursor: nil))
    }

    func readNeed(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<NeedDTO> {
        let need = try await cases.need(try request.uuidParameter("nid", context), of: try request.uuidParameter("id", context), context: context.access)
        return JSONResponse(NeedDTO(need), headers: [.eTag: ETag.make(need.version)])
    }

    /// Ends a need (met, cancelled, superseded) with a reason, under `If-Match` when given.
    func closeNeed(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<NeedDTO> {
        let caseID = try request.uuidParameter("id", context)
        let needID = try request.uuidParameter("nid", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let closure = try await request.decodeJSON(NeedClosure.self, limit: context.maxUploadSize)
        let need = try await cases.closeNeed(needID, of: caseID, closure, expectedVersion: expected, context: context.access)
        return JSONResponse(NeedDTO(need), headers: [.eTag: ETag.make(need.version)])
    }

    // MARK: Services

    func readService(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let caseID = try request.uuidParameter("id", context)
        let episode = try await cases.service(try request.uuidParameter("sid", context), of: caseID, context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    func createService(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ServiceDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/services", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.addService(to: caseID, draft, request: key, context: context.access) { episode in
                try CreatedResponse(ServiceDTO(episode), location: "/v1/cases/\(caseID.uuidString)/services/\(episode.id.uuidString)", caseID: caseID,
                                    version: episode.version).answer
            }
        }
    }

    func listServices(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ServiceDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let episodes = try await cases.services(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: episodes.map { ServiceDTO($0) }, nextCursor: nil))
    }

    func updateService(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let caseID = try request.uuidParameter("id", context)
        let serviceID = try request.uuidParameter("sid", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let patch = try await request.decodeJSON(ServicePatch.self, limit: context.maxUploadSize)
        let episode = try await cases.updateService(serviceID, of: caseID, patch, expectedVersion: expected, context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    /// The worklist: unfinished services past due, in the caseworker's cases or (for a
    /// supervisor) the organisation's.
    func overdue(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ServiceDTO>> {
        let query = try ListQuery(request)
        _ = try context.requireActor()
        let page = try await cases.overdueServices(page: query.page, context: context.access)
        return JSONResponse(ListResponse(page) { ServiceDTO($0.0, reference: $0.1, withNotes: false) })
    }

    // MARK: Consents

    func createConsent(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ConsentDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/consents", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.recordConsent(on: caseID, draft, request: key, context: context.access) { consent in
                try CreatedResponse(ConsentDTO(consent), location: "/v1/cases/\(caseID.uuidString)/consents/\(consent.id.uuidString)", caseID: caseID).answer
            }
        }
    }

    func listConsents(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ConsentDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let consents = try await cases.consents(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: consents.map(ConsentDTO.init), nextCursor: nil))
    }

    func readConsent(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ConsentDTO> {
        let consent = try await cases.consent(try request.uuidParameter("cid", context), of: try request.uuidParameter("id", context), context: context.access)
        return JSONResponse(ConsentDTO(consent))
    }

    struct WithdrawalDTO: Encodable, Sendable {
        var consent: ConsentDTO
        var cancelledReferrals: [UUID]
    }

    /// Withdrawal cancels every open referral relying on the consent, in the same transaction;
    /// with a body naming `recipient_organisation`, only that recipient's, and the consent holds
    /// for the others.
    func withdrawConsent(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<WithdrawalDTO> {
        let caseID = try request.uuidParameter("id", context)
        let consentID = try request.uuidParameter("cid", context)
        var request = request
        let bytes: [UInt8]
        do {
            bytes = [UInt8]((try await request.collectBody(upTo: context.maxUploadSize)).readableBytesView)
        } catch {
            throw APIError(.contentTooLarge, kind: .bodyTooLarge, detail: "the request body is larger than \(context.maxUploadSize) bytes")
        }
        var recipient: UUID?
        if !bytes.isEmpty {
            guard RequestGuard.isJSON(request.headers[.contentType]) else {
                throw APIError(.unsupportedMediaType, kind: .unsupportedMediaType, detail: "send the body as application/json",
                               errors: [FieldError("Content-Type", "must be application/json")])
            }
            recipient = try APIError.decodingBody(RecipientWithdrawalRequest.self, from: bytes).recipientOrganisation
        }
        let (consent, cancelled) = if let recipient {
            try await cases.withdrawConsent(consentID, of: caseID, for: recipient, context: context.access)
        } else {
            try await cases.withdrawConsent(consentID, of: caseID, context: context.access)
        }
        return JSONResponse(WithdrawalDTO(consent: ConsentDTO(consent), cancelledReferrals: cancelled))
    }

    struct RecipientWithdrawalRequest: Decodable, Sendable {
        var recipientOrganisation: UUID?
    }

    struct AmendmentDTO: Encodable, Sendable {
        var consent: ConsentDTO
        var movedReferrals: [UUID]
        var cancelledReferrals: [UUID]
    }

    /// A new version of a consent, superseding it: its open referrals move to the new version or
    /// end, as `Consent.carried` decides.
    func amendConsent(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        let consentID = try request.uuidParameter("cid", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ConsentDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/consents/\(consentID)/versions",
                                     body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.amendConsent(consentID, of: caseID, draft, request: key, context: context.access) { consent, moved, cancelled in
                try CreatedResponse(AmendmentDTO(consent: ConsentDTO(consent), movedReferrals: moved, cancelledReferrals: cancelled),
                                    location: "/v1/cases/\(caseID.uuidString)/consents/\(consent.id.uuidString)", caseID: caseID).answer
            }
        }
    }
}
