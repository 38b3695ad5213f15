import Foundation
import HavenCore
import HavenStore

/// Users: administrators create and change them; supervisors list and read their
/// organisation's users (to assign cases); everyone reads themselves.
public struct UserService: Sendable {
    let store: Store
    let hasher: Credentials

    public init(store: Store, hasher: Credentials) {
        self.store = store
        self.hasher = hasher
    }

    /// Creates a user with the one-time password the administrator hands over. No second
    /// factor is made here: a user whose role needs one enrols their own authenticator at their
    /// first login, so the administrator never holds its secret.
    public func create(
        _ draft: UserDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (User) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        var draft = draft
        draft.username = draft.username.lowercased()
        try draft.validate()
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        // Only hash for someone who may create users: the KDF is the expensive part.
        if !AccessPolicy.decide(actor, .createUser, .collection).isAllowed {
            try await store.transaction(context) { try $0.authorize(.createUser, .collection, entityKind: .user) }
        }
        let hash = try await hasher.hash(draft.password)
        let checked = draft
        return try await Idempotent.run(request, store: store, context: context, collection: .createUser) { transaction in
            try transaction.authorize(.createUser, .collection, entityKind: .user, subjectOrganisation: checked.organisationId)
            guard try OrganisationStore.find(checked.organisationId, on: transaction.connection) != nil else {
                throw StoreError.invalid(ValidationFailure("organisation_id", "is not an organisation"))
            }
            let created = try UserStore.create(checked, passwordHash: hash, mustChangePassword: true, on: transaction.connection)
            try transaction.audit(.create, .userCreate, entityKind: .user, entityID: created.id.lowercasedString,
                                  subjectOrganisation: checked.organisationId, purpose: .administration, detail: ["role": .string(checked.role.rawValue)])
            return try answer(created)
        }
    }

    /// The policy's reach, narrowed by the filter: a supervisor asking for another organisation lists nobody.
    public func list(organisation requested: UUID?, role: Role?, page: PageRequest, context: AccessContext) async throws -> Page<User> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listUsers, .collection, entityKind: .user)
            let reach = try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .listUsers))
            if let reach, let requested, requested != reach { return Page<User>(items: [], nextCursor: nil) }
            return try UserStore.list(organisation: reach ?? requested, role: role, after: page.cursor, limit: page.limit, on: transaction.connection)
        }
    }

    public func read(_ id: UUID, context: AccessContext) async throws -> User {
        try await store.transaction(context) { transaction in
            guard let user = try UserStore.find(id, on: transaction.connection) else { throw StoreError.notFound("no such user") }
            try transaction.authorize(.readUser, .user(UserFacts(userID: id, organisationID: user.organisationID)),
                                      entityKind: .user, entityID: id.lowercasedString, subjectOrganisation: user.organisationID)
            return user
        }
    }

    /// Changes a user (role, activity, a password reset); the caller ends the user's cached sessions.
    public func update(_ id: UUID, _ patch: UserPatch, expectedVersion: Int?, context: AccessContext) async throws -> User {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        guard let target = try await store.withConnection({ try UserStore.find(id, on: $0) }) else { throw StoreError.notFound("no such user") }
        let facts = AccessTarget.user(UserFacts(userID: id, organisationID: target.organisationID))
        // The policy before the rules: a password rule that names the username would otherwise
        // tell an outsider that the user exists.
        let allowed = AccessPolicy.decide(actor, .updateUser, facts).isAllowed
        if !allowed {
            try await store.transaction(context) { transaction in
                try transaction.authorize(.updateUser, facts, entityKind: .user, entityID: id.lowercasedString, subjectOrganisation: target.organisationID)
            }
        }
        try patch.validate(username: target.username)
        var hash: String?
        if let password = patch.password, allowed { hash = try await hasher.hash(password) }
        let newHash = hash
        let updated = try await store.transaction(context) { transaction in
            try transaction.authorize(.updateUser, facts, entityKind: .user, entityID: id.lowercasedString, subjectOrganisation: target.organisationID)
            guard let updated = try UserStore.update(id, patch, passwordHash: newHash, expectedVersion: expectedVersion,
                                                     on: transaction.connection) else {
                throw StoreError.notFound("no such user")
            }
            try transaction.audit(.update, .userUpdate, entityKind: .user, entityID: id.lowercasedString,
                                  subjectOrganisation: target.organisationID, purpose: .administration, detail: ["fields": .strings(updated.changed)])
            return updated
        }
        return updated.user
    }

    /// An administrator clears a user's second factor (a lost phone): the secret and recovery
    /// codes go, the user's sessions end, and their next login enrols a new authenticator.
    /// The caller forgets the user's cached sessions.
    public func resetSecondFactor(_ id: UUID, context: AccessContext) async throws -> User {
        try await store.transaction(context) { transaction in
            guard let target = try UserStore.find(id, forUpdate: true, on: transaction.connection) else { throw StoreError.notFound("no such user") }
            try transaction.authorize(.updateUser, .user(UserFacts(userID: id, organisationID: target.organisationID)),
                                      entityKind: .user, entityID: id.lowercasedString, subjectOrganisation: target.organisationID)
            let had = try SecondFactorStore.reset(id, on: transaction.connection)
            try transaction.audit(.update, .userSecondFactorReset, entityKind: .user, entityID: id.lowercasedString,
                                  subjectOrganisation: target.organisationID, purpose: .administration, detail: ["had_second_factor": .bool(had)])
            guard let user = try UserStore.find(id, on: transaction.connection) else { throw StoreError.notFound("no such user") }
            return user
        }
    }
}
