import Foundation
import HavenCore
import HavenStore
import Postgres

/// Names for the ids a page shows, so people read "Ana (caseworker)" and "Synthetic Shelter",
/// never a UUID. Staff of the viewer's own organisation are named; staff of another
/// organisation are shown by their organisation only.
public struct DirectoryService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public struct Names: Sendable {
        public var users: [UUID: String] = [:]
        public var organisations: [UUID: String] = [:]
        /// Each named user's organisation, for telling the viewer's colleagues from others.
        public var userOrganisations: [UUID: UUID] = [:]

        public init() {}
    }

    public func names(users: Set<UUID>, organisations: Set<UUID>, viewer: Actor) async throws -> Names {
        guard !users.isEmpty || !organisations.isEmpty else { return Names() }
        return try await store.withConnection { connection in
            try Self.names(users: users, organisations: organisations, viewer: viewer, on: connection)
        }
    }

    /// The same inside another read's transaction, saving a round trip to the pool.
    static func names(users: Set<UUID>, organisations: Set<UUID>, viewer: Actor, on connection: PGConnection) throws -> Names {
        guard !users.isEmpty || !organisations.isEmpty else { return Names() }
        var names = Names()
        for (id, organisation, label) in try UserStore.labels(Array(users), on: connection) {
            names.userOrganisations[id] = organisation
            if organisation == viewer.organisationID { names.users[id] = label }
        }
        let wanted = organisations.union(names.userOrganisations.values)
        for (id, name) in try OrganisationStore.names(Array(wanted), on: connection) { names.organisations[id] = name }
        return names
    }

    /// All active organisations by name, for choosing a referral's recipient.
    public func organisations() async throws -> [Organisation] {
        try await store.withConnection { connection in
            try OrganisationStore.list(after: nil, limit: 500, on: connection).items.filter(\.active)
        }
    }
}

extension DirectoryService.Names {
    /// A user as the viewer may see them: their name if a colleague, else their organisation.
    public func user(_ id: UUID?) -> String? {
        guard let id else { return nil }
        if let name = users[id] { return name }
        return userOrganisations[id].flatMap { organisations[$0] }
    }
}

extension DirectoryService {
    /// Active organisations whose mandate covers `serviceType` and serves `population`, the
    /// viewer's own left out: whom a need can be referred to.
    public func covering(_ serviceType: ServiceType, population: [Population] = [], viewer: Actor) async throws -> [Organisation] {
        try await store.withConnection { connection in
            try OrganisationStore.matching(serviceType: serviceType, country: nil, region: nil, excluding: viewer.organisationID,
                                           population: population, after: nil, limit: ReferralService.suggestions, on: connection).items
        }
    }
}
