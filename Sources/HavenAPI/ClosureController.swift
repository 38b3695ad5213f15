import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Closure as a supervisor works it: the queue of requests, the open work a closure must decide,
/// and declining a request. Closing itself (`POST /v1/cases/{id}/close` and `/close/approve`)
/// is in `CaseController` and carries the decisions.
struct ClosureController: Sendable {
    let store: Store
    var cases: CaseService { CaseService(store: store) }

    struct DeclineRequest: Decodable { var reason: ClosureDeclineReason }

    struct ReviewDTO: Encodable, Sendable {
        var `case`: CaseDTO
        var referrals: [ReferralDTO]
        var services: [ServiceDTO]
        var needs: [NeedDTO]
    }

    func register(_ routes: Routes) {
        routes.get("/v1/closures") { request, context in try await queue(request, context) }
        routes.get("/v1/cases/:id/closure") { request, context in try await review(request, context) }
        routes.post("/v1/cases/:id/close/decline") { request, context in try await decline(request, context) }
    }

    func queue(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<CaseDTO>> {
        let query = try ListQuery(request)
        _ = try context.requireActor()
        let page = try await cases.pendingClosures(page: query.page, context: context.access)
        return JSONResponse(ListResponse(page, CaseDTO.init))
    }

    func review(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ReviewDTO> {
        let id = try request.uuidParameter("id", context)
        let review = try await cases.closureReview(id, context: context.access)
        return JSONResponse(ReviewDTO(case: CaseDTO(review.file), referrals: review.referrals.map { ReferralDTO($0, side: .sender) },
                                      services: review.services.map { ServiceDTO($0, withNotes: false) }, needs: review.needs.map { NeedDTO($0) }),
                            headers: [.eTag: ETag.make(review.file.version)])
    }

    func decline(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<CaseDTO> {
        let id = try request.uuidParameter("id", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let body = try await request.decodeJSON(DeclineRequest.self, limit: context.maxUploadSize)
        let file = try await cases.declineClosure(id, reason: body.reason, expectedVersion: expected, context: context.access)
        return JSONResponse(CaseDTO(file), headers: [.eTag: ETag.make(file.version)])
    }

    /// 422 naming every item left undecided (or wrongly decided), with `undecided` listing them.
    static func problem(_ refusal: ClosureUndecided) -> APIError {
        let detail = refusal.failure.errors.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        return APIError(.unprocessableContent, kind: .closureUndecided, detail: detail, errors: refusal.failure.errors,
                        extensions: ["undecided": .array(refusal.undecided.map {
                            .object(["kind": .string($0.kind), "id": .string($0.id.uuidString.lowercased())])
                        })])
    }
}
