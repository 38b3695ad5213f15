import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// The supervisors' review queue of break-glass grants (S19).
struct BreakGlassController: Sendable {
    let store: Store
    var grants: BreakGlassService { BreakGlassService(store: store) }

    struct ReviewRequest: Decodable { var note: String? }

    func register(_ routes: Routes) {
        routes.get("/v1/break-glass") { request, context in
            let query = try ListQuery(request)
            _ = try context.requireActor()
            var reviewed: Bool?
            if let text = request.uri.queryParameters.get("reviewed") {
                guard text == "true" || text == "false" else { throw APIError.badRequest("reviewed", "must be true or false") }
                reviewed = text == "true"
            }
            let page = try await grants.list(reviewed: reviewed, page: query.page, context: context.access)
            return JSONResponse(ListResponse(page, GrantDTO.init))
        }
        routes.get("/v1/break-glass/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let grant = try await grants.read(id, context: context.access)
            return JSONResponse(GrantDTO(grant))
        }
        routes.post("/v1/break-glass/:id/review") { request, context in
            let id = try request.uuidParameter("id", context)
            var request = request
            let body = try await request.decodeJSON(ReviewRequest.self, limit: context.maxUploadSize)
            let grant = try await grants.review(id, note: body.note, context: context.access)
            return JSONResponse(GrantDTO(grant))
        }
    }
}
