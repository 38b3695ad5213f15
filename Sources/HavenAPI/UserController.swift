import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Users: admins create and change them; supervisors list and read their organisation's users
/// (to assign cases); everyone reads themselves.
struct UserController: Sendable {
    let store: Store
    let hasher: Credentials
    let sessions: SessionCache
    var users: UserService { UserService(store: store, hasher: hasher) }

    func register(_ routes: Routes) {
        routes.post("/v1/users") { request, context in
            var request = request
            let (draft, bytes) = try await request.decodeJSONWithBytes(UserDraft.self, limit: context.maxUploadSize)
            let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/users", body: bytes)
            return try await Idempotency.respond(request, key: key) {
                try await users.create(draft, request: key, context: context.access) { user in
                    try CreatedResponse(UserCreatedDTO(user: UserDTO(user)), location: "/v1/users/\(user.id.uuidString)", version: user.version).answer
                }
            }
        }
        routes.get("/v1/users") { request, context in
            let query = try ListQuery(request)
            _ = try context.requireActor()
            let page = try await users.list(organisation: try request.queryUUID("organisation_id"), role: try request.queryEnum("role", Role.self),
                                            page: query.page, context: context.access)
            return JSONResponse(ListResponse(page, UserDTO.init))
        }
        routes.get("/v1/users/:id") { request, context in
            let user = try await users.read(try request.uuidParameter("id", context), context: context.access)
            return JSONResponse(UserDTO(user), headers: [.eTag: ETag.make(user.version)])
        }
        routes.patch("/v1/users/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let expected = try ETag.optionalVersion(request)
            var request = request
            let patch = try await request.decodeJSON(UserPatch.self, limit: context.maxUploadSize)
            let updated = try await users.update(id, patch, expectedVersion: expected, context: context.access)
            sessions.forget(user: id)
            return JSONResponse(UserCreatedDTO(user: UserDTO(updated)), headers: [.eTag: ETag.make(updated.version)])
        }
        routes.post("/v1/users/:id/second-factor/reset") { request, context in
            let id = try request.uuidParameter("id", context)
            let user = try await users.resetSecondFactor(id, context: context.access)
            sessions.forget(user: id)
            return JSONResponse(UserDTO(user), headers: [.eTag: ETag.make(user.version)])
        }
    }
}
