import Foundation
import HavenCore
import HavenStore

/// Organisations and their mandates: administrators create and change them; everyone logged in
/// reads the directory and asks which organisations cover a need.
public struct OrganisationService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public func create(
        _ draft: OrganisationDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (Organisation) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate()
        return try await Idempotent.run(request, store: store, context: context, collection: .createOrganisation) { transaction in
            try transaction.authorize(.createOrganisation, .collection, entityKind: .organisation)
            let organisation = try OrganisationStore.create(draft, on: transaction.connection)
            try transaction.audit(.create, .organisationCreate, entityKind: .organisation, entityID: organisation.id.lowercasedString,
                                  subjectOrganisation: organisation.id, purpose: .administration)
            return try answer(organisation)
        }
    }

    public func list(page: PageRequest, context: AccessContext) async throws -> Page<Organisation> {
        try await store.transaction(context) { transaction in
            try transaction.authorize(.listOrganisations, .collection, entityKind: .organisation)
            return try OrganisationStore.list(after: page.cursor, limit: page.limit, on: transaction.connection)
        }
    }

    /// Organisations whose mandate covers `serviceType`, the caller's own left out. A region is a
    /// region of a country: the one named, or the caller's own.
    public func matching(_ serviceType: ServiceType, country: String?, region: String?, population: [Population] = [], page: PageRequest,
                         context: AccessContext) async throws -> Page<Organisation> {
        try await store.transaction(context) { transaction in
            try transaction.authorize(.matchOrganisations, .collection, entityKind: .organisation)
            let own = try transaction.actor.flatMap { try OrganisationStore.find($0.organisationID, on: transaction.connection) }
            return try OrganisationStore.matching(serviceType: serviceType, country: country ?? (region == nil ? nil : own?.country), region: region,
                                                  excluding: own?.id, population: population, after: page.cursor, limit: page.limit,
                                                  on: transaction.connection)
        }
    }

    public func read(_ id: UUID, context: AccessContext) async throws -> Organisation {
        try await store.transaction(context) { transaction in
            guard let organisation = try OrganisationStore.find(id, on: transaction.connection) else { throw StoreError.notFound("no such organisation") }
            try transaction.authorize(.readOrganisation, .organisation(id), entityKind: .organisation, entityID: id.lowercasedString)
            return organisation
        }
    }

    public func update(_ id: UUID, _ patch: OrganisationPatch, expectedVersion: Int?, context: AccessContext) async throws -> Organisation {
        try patch.validate()
        return try await store.transaction(context) { transaction in
            // The policy first: only then is the row locked, so If-Match and the changes are
            // judged against the row the update replaces.
            try transaction.authorize(.updateOrganisation, .organisation(id), entityKind: .organisation, entityID: id.lowercasedString, subjectOrganisation: id)
            guard let current = try OrganisationStore.find(id, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such organisation")
            }
            if let expectedVersion, expectedVersion != current.version { throw StoreError.preconditionFailed("the organisation changed since you read it") }
            // Deactivating ends its staff's sessions: done to one's own, it would lock out the
            // only administrators who could undo it.
            if patch.active == false, transaction.actor?.organisationID == id {
                throw StoreError.conflict("you cannot deactivate your own organisation", field: "active")
            }
            guard let updated = try OrganisationStore.update(current, patch, on: transaction.connection) else {
                throw StoreError.notFound("no such organisation")
            }
            try transaction.audit(.update, .organisationUpdate, entityKind: .organisation, entityID: id.lowercasedString,
                                  subjectOrganisation: id, purpose: .administration, detail: ["fields": .strings(updated.changed)])
            return updated.organisation
        }
    }
}
