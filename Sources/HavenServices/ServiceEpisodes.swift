import Foundation
import HavenCore
import HavenStore

/// Service episodes on a case (what was done: a stay, counselling sessions, a repatriation),
/// the overdue list, and reading one record of a case.
extension CaseService {
    public func addService(
        to caseID: UUID, _ draft: ServiceDraft, request: Idempotent.Request, context: AccessContext,
        answer: @escaping @Sendable (ServiceEpisode) throws -> Idempotent.Answer
    ) async throws -> Idempotent.Outcome {
        try draft.validate()
        let keys = store.keys
        return try await recordOnOpenCase(caseID, request: request, context: context) { transaction, access, actor in
            try CaseService.checkReferences(draft.providerOrganisation, needID: draft.needId, caseID: caseID, detail: draft.detail, on: transaction)
            let episode = try ServiceStore.create(caseID: caseID, draft, actor: actor, keys: keys, on: transaction.connection)
            try transaction.audit(.create, .serviceCreate, entityKind: .service, entityID: episode.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["type": .string(draft.type.rawValue), "status": .string(episode.status.rawValue)])
            return try answer(episode)
        }
    }

    /// Organisations named in a service exist; a need named belongs to this case.
    static func checkReferences(_ provider: UUID?, needID: UUID?, caseID: UUID, detail: ServiceDetail?, on transaction: StoreTransaction) throws {
        var check = Validator()
        let named: [(String, UUID?)] = [
            ("provider_organisation", provider), ("detail.repatriation.receiving_organisation", detail?.repatriation?.receivingOrganisation),
            ("detail.accommodation.shelter", detail?.accommodation?.shelter),
        ]
        for (field, organisation) in named {
            if let organisation, try OrganisationStore.find(organisation, on: transaction.connection) == nil {
                check.add(field, "is not an organisation")
            }
        }
        if let needID, try NeedStore.find(needID, caseID: caseID, keys: transaction.keys, on: transaction.connection) == nil {
            check.add("need_id", "is not a need of this case")
        }
        do { try check.finish() } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
    }

    public func updateService(_ serviceID: UUID, of caseID: UUID, _ patch: ServicePatch, expectedVersion: Int?,
                              context: AccessContext) async throws -> ServiceEpisode {
        let keys = store.keys
        return try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            try transaction.requireOpen(access.status)
            guard let current = try ServiceStore.find(serviceID, caseID: caseID, keys: keys, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such service")
            }
            if let expectedVersion, expectedVersion != current.version { throw StoreError.preconditionFailed("the service changed since you read it") }
            do { try patch.validate(against: current) } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
            try CaseService.checkReferences(patch.providerOrganisation, needID: nil, caseID: caseID, detail: patch.detail, on: transaction)
            let changed = patch.changes(to: current)
            // Nothing to change is no new version; the event still records the attempt.
            let updated = changed.isEmpty ? current : try ServiceStore.update(current, patch, keys: keys, on: transaction.connection)
            var detail: [String: AuditDetail] = ["fields": .strings(changed)]
            if updated.status != current.status { detail["from"] = .string(current.status.rawValue); detail["to"] = .string(updated.status.rawValue) }
            try transaction.audit(.update, .serviceUpdate, entityKind: .service, entityID: serviceID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: detail)
            return updated
        }
    }

    /// Unfinished services past due, in the caseworker's cases or (for a supervisor) the organisation's, with their case's reference.
    public func overdueServices(page: PageRequest, context: AccessContext) async throws -> Page<(ServiceEpisode, String)> {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        return try await store.transaction(context) { transaction in
            try transaction.authorize(.listCases, .collection, entityKind: .service)
            let found = try ServiceStore.overdue(actor: actor, today: CalendarDate.of(Date()), after: page.cursor, limit: page.limit,
                                                 keys: transaction.keys, on: transaction.connection)
            try transaction.audit(.read, .serviceOverdue, entityKind: .service, subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: ["count": .int(found.items.count)])
            return found
        }
    }

    public func need(_ id: UUID, of caseID: UUID, context: AccessContext) async throws -> Need {
        try await readOne(id, of: caseID, kind: .need, context: context) { try NeedStore.find(id, caseID: caseID, keys: $0.keys, on: $0.connection) }
    }

    public func service(_ id: UUID, of caseID: UUID, context: AccessContext) async throws -> ServiceEpisode {
        try await readOne(id, of: caseID, kind: .service, context: context) { try ServiceStore.find(id, caseID: caseID, keys: $0.keys, on: $0.connection) }
    }

    public func consent(_ id: UUID, of caseID: UUID, context: AccessContext) async throws -> Consent {
        try await readOne(id, of: caseID, kind: .consent, context: context) { try ConsentStore.find(id, caseID: caseID, keys: $0.keys, on: $0.connection) }
    }

    /// One record of a case, read and audited like the case itself.
    func readOne<Record: Sendable>(
        _ id: UUID, of caseID: UUID, kind: CaseDetailKind, context: AccessContext, _ load: @escaping @Sendable (StoreTransaction) throws -> Record?
    ) async throws -> Record {
        try await store.transaction(context) { transaction in
            let access = try transaction.authorizeCase(caseID, .readCaseDetails)
            guard let record = try load(transaction) else { throw StoreError.notFound("no such \(kind.rawValue)") }
            try transaction.audit(.read, kind.read, entityKind: kind.entity, entityID: id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose)
            return record
        }
    }
}
