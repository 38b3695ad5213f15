import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// The receiving organisation's own service episodes on a referral it accepted, and their
/// counselling sessions one by one; the sender reads them within the consented `services`.
struct ReferralEpisodeController: Sendable {
    let store: Store
    var referrals: ReferralService { ReferralService(store: store) }

    func register(_ routes: Routes) {
        routes.get("/v1/referrals/:id/episodes") { request, context in try await list(request, context) }
        routes.post("/v1/referrals/:id/episodes") { request, context in try await create(request, context) }
        routes.get("/v1/referrals/:id/episodes/:eid") { request, context in try await read(request, context) }
        routes.patch("/v1/referrals/:id/episodes/:eid") { request, context in try await update(request, context) }
        routes.post("/v1/referrals/:id/episodes/:eid/extensions") { request, context in try await extend(request, context) }
        routes.post("/v1/referrals/:id/episodes/:eid/sessions") { request, context in try await addSession(request, context) }
        routes.patch("/v1/referrals/:id/episodes/:eid/sessions/:index") { request, context in try await correctSession(request, context) }
    }

    static func location(_ referral: UUID, _ episode: UUID) -> String {
        "/v1/referrals/\(referral.uuidString)/episodes/\(episode.uuidString)"
    }

    func list(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ServiceDTO>> {
        let id = try request.uuidParameter("id", context)
        let found = try await referrals.episodes(of: id, context: context.access)
        return JSONResponse(ListResponse(items: found.episodes.map { ServiceDTO($0) }, nextCursor: nil))
    }

    func read(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let id = try request.uuidParameter("id", context)
        let episode = try await referrals.episode(try request.uuidParameter("eid", context), of: id, context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    /// Once per `Idempotency-Key`: a retry gets the first answer and records nothing more.
    func create(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let id = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ReferralEpisodeDraft.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/referrals/\(id)/episodes", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await referrals.addEpisode(to: id, draft, request: key, context: context.access) { episode in
                try CreatedResponse(ServiceDTO(episode), location: Self.location(id, episode.id), caseID: episode.caseID,
                                    version: episode.version).answer
            }
        }
    }

    func update(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let id = try request.uuidParameter("id", context)
        let episodeID = try request.uuidParameter("eid", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let patch = try await request.decodeJSON(ServicePatch.self, limit: context.maxUploadSize)
        let episode = try await referrals.updateEpisode(episodeID, of: id, patch, expectedVersion: expected, context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    func extend(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let id = try request.uuidParameter("id", context)
        let episodeID = try request.uuidParameter("eid", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let body = try await request.decodeJSON(StayExtension.self, limit: context.maxUploadSize)
        let episode = try await referrals.extendStay(episodeID, of: id, body, expectedVersion: expected, context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    /// Once per `Idempotency-Key`: a retry gets the first answer and adds no second session.
    func addSession(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let id = try request.uuidParameter("id", context)
        let episodeID = try request.uuidParameter("eid", context)
        var request = request
        let (session, bytes) = try await request.decodeJSONWithBytes(ServiceDetail.CounsellingSession.self, limit: context.maxUploadSize)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/referrals/\(id)/episodes/\(episodeID)/sessions",
                                     body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await referrals.addSession(session, to: episodeID, of: id, request: key, context: context.access) { episode, index in
                try CreatedResponse(ServiceDTO(episode), location: Self.location(id, episodeID) + "/sessions/\(index)", caseID: episode.caseID,
                                    version: episode.version).answer
            }
        }
    }

    func correctSession(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let id = try request.uuidParameter("id", context)
        let episodeID = try request.uuidParameter("eid", context)
        guard let text = context.parameters.get("index"), let index = Int(text), index >= 0 else { throw APIError.notFound() }
        let expected = try ETag.optionalVersion(request)
        var request = request
        let patch = try await request.decodeJSON(SessionPatch.self, limit: context.maxUploadSize)
        let episode = try await referrals.correctSession(index, of: episodeID, referral: id, patch, expectedVersion: expected,
                                                         context: context.access)
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }
}
