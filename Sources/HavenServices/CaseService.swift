import Foundation
import HavenCore
import HavenStore

/// Reading cases and what hangs off them, for the API and the console alike: each call asks
/// the access policy, reads, and writes its audit event in the same transaction (S1, S10).
public struct CaseService: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    /// The cases the actor may list, filtered and sorted; the event names the filters, never their values.
    public func list(_ filter: CaseFilter, page: PageRequest, context: AccessContext) async throws -> Page<CaseFile> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listCases, .collection, entityKind: .caseFile)
            try transaction.audit(.read, .caseList, entityKind: .caseFile, subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: page.auditDetail(filters: filter.names, sort: filter.sort.rawValue))
            transaction.commitWithNextStatement()
            return try CaseStore.list(filter, actor: actor, after: page.cursor, limit: page.limit, keys: keys, on: transaction.connection)
        }
    }

    /// One case, opened (identifying fields decrypted) and audited as `case.read`.
    public func read(_ id: UUID, context: AccessContext) async throws -> CaseFile {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeAndLoadCase(id, .readCase, open: true)
            try transaction.audit(.read, .caseRead, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose)
            return access.file
        }
    }

    /// Who changed what and when, newest last.
    public func history(_ id: UUID, page: PageRequest, context: AccessContext) async throws -> Page<AuditRecord> {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(id, .readCaseDetails)
            let records = try AuditQuery.caseHistory(id, after: page.cursor, limit: page.limit, on: transaction.connection)
            try transaction.audit(.read, .caseHistory, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose)
            return records
        }
    }

    /// The case's needs, audited as `need.list`.
    public func needs(of caseID: UUID, context: AccessContext) async throws -> [Need] {
        try await details(of: caseID, kind: .need, context: context) { transaction in
            try NeedStore.list(caseID: caseID, keys: transaction.keys, on: transaction.connection)
        }
    }

    /// The case's service episodes, audited as `service.list`.
    public func services(of caseID: UUID, context: AccessContext) async throws -> [ServiceEpisode] {
        try await details(of: caseID, kind: .service, context: context) { transaction in
            try ServiceStore.list(caseID: caseID, keys: transaction.keys, on: transaction.connection)
        }
    }

    /// The case's consents, audited as `consent.list`.
    public func consents(of caseID: UUID, context: AccessContext) async throws -> [Consent] {
        try await details(of: caseID, kind: .consent, context: context) { transaction in
            try ConsentStore.list(caseID: caseID, keys: transaction.keys, on: transaction.connection)
        }
    }

    /// Records hanging off a case, read under `readCaseDetails` and audited as `<kind>.list` with their count.
    private func details<Record: Sendable>(
        of caseID: UUID, kind: CaseDetailKind, context: AccessContext, _ load: @escaping @Sendable (StoreTransaction) throws -> [Record]
    ) async throws -> [Record] {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .readCaseDetails)
            let records = try load(transaction)
            try transaction.audit(.read, kind.listed, entityKind: kind.entity, caseID: caseID, subjectOrganisation: access.facts.owningOrganisation,
                                  purpose: access.purpose, detail: ["count": .int(records.count)])
            return records
        }
    }
}
