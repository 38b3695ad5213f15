import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// The supervisors' review queue of break-glass grants (S19).
struct BreakGlassController: Sendable {
    let store: Store
    let bodyLimit: Int

    struct ReviewRequest: Decodable { var note: String? }

    func register(_ routes: Routes) {
        routes.get("/v1/break-glass") { request, context in
            let query = try ListQuery(request)
            let actor = try context.requireActor()
            var reviewed: Bool?
            if let text = request.uri.queryParameters.get("reviewed") {
                guard text == "true" || text == "false" else { throw APIError.badRequest("reviewed", "must be true or false") }
                reviewed = text == "true"
            }
            let filter = reviewed
            let keys = store.keys
            let page = try await store.transaction(context.access) { transaction in
                try transaction.authorize(.listBreakGlassGrants, .collection, entityKind: "break-glass-grant")
                try transaction.audit(.read, "breakglass.list", entityKind: "break-glass-grant", subjectOrganisation: actor.organisationID,
                                      purpose: .supervision, detail: query.auditDetail(filters: filter == nil ? [] : ["reviewed"]))
                transaction.commitWithNextStatement()
                return try BreakGlassStore.list(actor: actor, reviewed: filter, after: query.cursor, limit: query.limit, keys: keys, on: transaction.connection)
            }
            return JSONResponse(ListResponse(page, GrantDTO.init))
        }
        routes.get("/v1/break-glass/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let grant = try await store.transaction(context.access) { transaction in
                let (grant, purpose) = try transaction.authorizeAndLoadGrant(id, .readBreakGlassGrant)
                try transaction.audit(.read, "breakglass.read", entityKind: "break-glass-grant", entityID: id.lowercasedString,
                                      caseID: grant.caseID, subjectOrganisation: grant.caseOrganisation, purpose: purpose)
                return grant
            }
            return JSONResponse(GrantDTO(grant))
        }
        routes.post("/v1/break-glass/:id/review") { request, context in
            let id = try request.uuidParameter("id", context)
            var request = request
            let body = try await request.decodeJSON(ReviewRequest.self, limit: bodyLimit)
            var check = Validator()
            check.text(body.note, "note", max: 2_000, multiline: true)
            try check.finish()
            let keys = store.keys
            let grant = try await store.transaction(context.access) { transaction in
                let (grant, _) = try transaction.authorizeAndLoadGrant(id, .reviewBreakGlassGrant)
                guard let actor = transaction.actor else { throw StoreError.notFound("no such break-glass-grant") }
                let reviewed = try BreakGlassStore.review(grant, note: body.note, actor: actor, keys: keys, on: transaction.connection)
                try transaction.audit(.update, "breakglass.review", entityKind: "break-glass-grant", entityID: id.lowercasedString,
                                      caseID: grant.caseID, subjectOrganisation: grant.caseOrganisation, purpose: .supervision)
                return reviewed
            }
            return JSONResponse(GrantDTO(grant))
        }
    }
}
