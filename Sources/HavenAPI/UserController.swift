import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// Users: admins create and change them; supervisors list and read their organisation's users
/// (to assign cases); everyone reads themselves.
struct UserController: Sendable {
    let store: Store
    let hasher: Credentials
    let sessions: SessionCache
    let bodyLimit: Int

    func register(_ routes: Routes) {
        routes.post("/v1/users") { request, context in
            var request = request
            var (decoded, bytes) = try await request.decodeJSONWithBytes(UserDraft.self, limit: bodyLimit)
            decoded.username = decoded.username.lowercased()
            try decoded.validate()
            let draft = decoded
            let actor = try context.requireActor()
            // Only hash for someone who may create users: the KDF is the expensive part.
            if !AccessPolicy.decide(actor, .createUser, .collection).isAllowed {
                try await store.transaction(context.access) { try $0.authorize(.createUser, .collection, entityKind: "user") }
            }
            let hash = try await hasher.hash(draft.password)
            let keys = store.keys
            let hasher = self.hasher
            let body = bytes
            return try await Idempotency.create(request, context: context, scope: "POST /v1/users", body: body, store: store, collection: .createUser) { transaction in
                try transaction.authorize(.createUser, .collection, entityKind: "user", subjectOrganisation: draft.organisationId)
                guard try OrganisationStore.find(draft.organisationId, on: transaction.connection) != nil else {
                    throw StoreError.invalid(ValidationFailure("organisation_id", "is not an organisation"))
                }
                let created = try UserStore.create(draft, passwordHash: hash, mustChangePassword: true, keys: keys, on: transaction.connection)
                try transaction.audit(.create, "user.create", entityKind: "user", entityID: created.user.id.lowercasedString,
                                      subjectOrganisation: draft.organisationId, purpose: .administration,
                                      detail: ["role": .string(draft.role.rawValue)])
                let uri = created.totpSecret.map { hasher.provisioningURI(secret: $0, account: created.user.username) }
                return try CreatedResponse(UserCreatedDTO(user: UserDTO(created.user), totpUri: uri), location: "/v1/users/\(created.user.id.uuidString)",
                                          version: created.user.version)
            }
        }
        routes.get("/v1/users") { request, context in
            let query = try ListQuery(request)
            let actor = try context.requireActor()
            let requested = try request.queryUUID("organisation_id")
            let role = try request.queryEnum("role", Role.self)
            let page = try await store.transaction(context.access) { transaction in
                try transaction.authorize(.listUsers, .collection, entityKind: "user")
                // The policy's reach, narrowed by the filter: a supervisor asking for another
                // organisation lists nobody.
                let reach = try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .listUsers))
                if let reach, let requested, requested != reach { return Page<User>(items: [], nextCursor: nil) }
                return try UserStore.list(organisation: reach ?? requested, role: role, after: query.cursor, limit: query.limit,
                                          on: transaction.connection)
            }
            return JSONResponse(ListResponse(page, UserDTO.init))
        }
        routes.get("/v1/users/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let user = try await store.transaction(context.access) { transaction in
                guard let user = try UserStore.find(id, on: transaction.connection) else { throw StoreError.notFound("no such user") }
                try transaction.authorize(.readUser, .user(UserFacts(userID: id, organisationID: user.organisationID)),
                                          entityKind: "user", entityID: id.lowercasedString, subjectOrganisation: user.organisationID)
                return user
            }
            return JSONResponse(UserDTO(user), headers: [.eTag: ETag.make(user.version)])
        }
        routes.patch("/v1/users/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let expected = try ETag.optionalVersion(request)
            var request = request
            let patch = try await request.decodeJSON(UserPatch.self, limit: bodyLimit)
            let target = try await store.withConnection { try UserStore.find(id, on: $0) }
            guard let target else { throw APIError.notFound("no such user") }
            let actor = try context.requireActor()
            let facts = AccessTarget.user(UserFacts(userID: id, organisationID: target.organisationID))
            // The policy before the rules: a password rule that names the username would otherwise
            // tell an outsider that the user exists.
            if !AccessPolicy.decide(actor, .updateUser, facts).isAllowed {
                try await store.transaction(context.access) { transaction in
                    try transaction.authorize(.updateUser, facts, entityKind: "user", entityID: id.lowercasedString, subjectOrganisation: target.organisationID)
                }
            }
            try patch.validate(username: target.username)
            var hash: String?
            if let password = patch.password, AccessPolicy.decide(actor, .updateUser, facts).isAllowed {
                hash = try await hasher.hash(password)
            }
            let newHash = hash
            let keys = store.keys
            let updated = try await store.transaction(context.access) { transaction in
                try transaction.authorize(.updateUser, facts, entityKind: "user", entityID: id.lowercasedString, subjectOrganisation: target.organisationID)
                guard let updated = try UserStore.update(id, patch, passwordHash: newHash, expectedVersion: expected, keys: keys,
                                                         on: transaction.connection) else {
                    throw StoreError.notFound("no such user")
                }
                try transaction.audit(.update, "user.update", entityKind: "user", entityID: id.lowercasedString,
                                      subjectOrganisation: target.organisationID, purpose: .administration,
                                      detail: ["fields": .strings(updated.changed)])
                return updated
            }
            sessions.forget(user: id)
            let uri = updated.totpSecret.map { hasher.provisioningURI(secret: $0, account: updated.user.username) }
            return JSONResponse(UserCreatedDTO(user: UserDTO(updated.user), totpUri: uri), headers: [.eTag: ETag.make(updated.user.version)])
        }
    }
}
