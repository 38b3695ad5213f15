import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// What hangs off a case: needs, service episodes (and the overdue worklist), consents.
struct CaseDetailsController: Sendable {
    let store: Store
    let bodyLimit: Int
    var cases: CaseService { CaseService(store: store) }

    func register(_ routes: Routes) {
        routes.post("/v1/cases/:id/needs") { request, context in try await createNeed(request, context) }
        routes.get("/v1/cases/:id/needs") { request, context in try await listNeeds(request, context) }
        routes.get("/v1/cases/:id/needs/:nid") { request, context in try await readNeed(request, context) }
        routes.post("/v1/cases/:id/services") { request, context in try await createService(request, context) }
        routes.get("/v1/cases/:id/services") { request, context in try await listServices(request, context) }
        routes.get("/v1/cases/:id/services/:sid") { request, context in try await readService(request, context) }
        routes.patch("/v1/cases/:id/services/:sid") { request, context in try await updateService(request, context) }
        routes.get("/v1/services/overdue") { request, context in try await overdue(request, context) }
        routes.post("/v1/cases/:id/consents") { request, context in try await createConsent(request, context) }
        routes.get("/v1/cases/:id/consents") { request, context in try await listConsents(request, context) }
        routes.get("/v1/cases/:id/consents/:cid") { request, context in try await readConsent(request, context) }
        routes.post("/v1/cases/:id/consents/:cid/withdraw") { request, context in try await withdrawConsent(request, context) }
    }

    // MARK: Needs

    func createNeed(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(NeedDraft.self, limit: bodyLimit)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/needs", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.addNeed(to: caseID, draft, request: key, context: context.access) { need in
                try CreatedResponse(NeedDTO(need), location: "/v1/cases/\(caseID.uuidString)/needs/\(need.id.uuidString)", caseID: caseID).answer
            }
        }
    }

    func listNeeds(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<NeedDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let needs = try await cases.needs(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: needs.map { NeedDTO($0) }, nextCursor: nil))
    }

    /// One record of a case, read and audited like the case itself.
    private func readOne<Record: Sendable>(
        _ request: Request, _ context: HavenRequestContext, parameter: String, kind: String,
        _ load: @escaping @Sendable (UUID, UUID, StoreTransaction) throws -> Record?
    ) async throws -> Record {
        let caseID = try request.uuidParameter("id", context)
        let id = try request.uuidParameter(parameter, context)
        return try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(caseID, .readCaseDetails)
            guard let record = try load(id, caseID, transaction) else { throw StoreError.notFound("no such \(kind)") }
            try transaction.audit(.read, kind + ".read", entityKind: kind, entityID: id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose)
            return record
        }
    }

    func readNeed(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<NeedDTO> {
        let need = try await readOne(request, context, parameter: "nid", kind: "need") { id, caseID, transaction in
            try NeedStore.find(id, caseID: caseID, keys: transaction.keys, on: transaction.connection)
        }
        return JSONResponse(NeedDTO(need))
    }

    // MARK: Services

    func readService(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let episode = try await readOne(request, context, parameter: "sid", kind: "service") { id, caseID, transaction in
            try ServiceStore.find(id, caseID: caseID, keys: transaction.keys, on: transaction.connection)
        }
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    func createService(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ServiceDraft.self, limit: bodyLimit)
        try draft.validate()
        let keys = store.keys
        return try await Idempotency.create(request, context: context, scope: "POST /v1/cases/\(caseID)/services", body: bytes, store: store) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            try transaction.requireOpen(access.status)
            guard let actor = transaction.actor else { throw StoreError.notFound("no such case") }
            try CaseDetailsController.checkReferences(draft.providerOrganisation, needID: draft.needId, caseID: caseID, detail: draft.detail, on: transaction)
            let episode = try ServiceStore.create(caseID: caseID, draft, actor: actor, keys: keys, on: transaction.connection)
            try transaction.audit(.create, "service.create", entityKind: "service", entityID: episode.id.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose,
                                  detail: ["type": .string(draft.type.rawValue), "status": .string(episode.status.rawValue)])
            return try CreatedResponse(ServiceDTO(episode), location: "/v1/cases/\(caseID.uuidString)/services/\(episode.id.uuidString)", caseID: caseID,
                                      version: episode.version)
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

    func listServices(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ServiceDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let episodes = try await cases.services(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: episodes.map { ServiceDTO($0) }, nextCursor: nil))
    }

    func updateService(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ServiceDTO> {
        let caseID = try request.uuidParameter("id", context)
        let serviceID = try request.uuidParameter("sid", context)
        let expected = try ETag.optionalVersion(request)
        var request = request
        let patch = try await request.decodeJSON(ServicePatch.self, limit: bodyLimit)
        let keys = store.keys
        let episode = try await store.transaction(context.access) { transaction in
            let access = try transaction.authorizeCase(caseID, .writeCaseDetails)
            try transaction.requireOpen(access.status)
            guard let current = try ServiceStore.find(serviceID, caseID: caseID, keys: keys, forUpdate: true, on: transaction.connection) else {
                throw StoreError.notFound("no such service")
            }
            if let expected, expected != current.version { throw StoreError.preconditionFailed("the service changed since you read it") }
            do { try patch.validate(against: current) } catch let failure as ValidationFailure { throw StoreError.invalid(failure) }
            try CaseDetailsController.checkReferences(patch.providerOrganisation, needID: nil, caseID: caseID, detail: patch.detail, on: transaction)
            let changed = patch.changes(to: current)
            // Nothing to change is no new version; the event still records the attempt.
            let updated = changed.isEmpty ? current : try ServiceStore.update(current, patch, keys: keys, on: transaction.connection)
            var detail: [String: AuditDetail] = ["fields": .strings(changed)]
            if updated.status != current.status { detail["from"] = .string(current.status.rawValue); detail["to"] = .string(updated.status.rawValue) }
            try transaction.audit(.update, "service.update", entityKind: "service", entityID: serviceID.lowercasedString, caseID: caseID,
                                  subjectOrganisation: access.facts.owningOrganisation, purpose: access.purpose, detail: detail)
            return updated
        }
        return JSONResponse(ServiceDTO(episode), headers: [.eTag: ETag.make(episode.version)])
    }

    /// The worklist: unfinished services past due, in the caseworker's cases or (for a
    /// supervisor) the organisation's.
    func overdue(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ServiceDTO>> {
        let query = try ListQuery(request)
        let actor = try context.requireActor()
        let page = try await store.transaction(context.access) { transaction in
            try transaction.authorize(.listCases, .collection, entityKind: "service")
            let page = try ServiceStore.overdue(actor: actor, today: CalendarDate.of(Date()), after: query.cursor, limit: query.limit, on: transaction.connection)
            try transaction.audit(.read, "service.overdue", entityKind: "service", subjectOrganisation: actor.organisationID, purpose: .caseManagement,
                                  detail: ["count": .int(page.items.count)])
            return page
        }
        return JSONResponse(ListResponse(page) { ServiceDTO($0.0, reference: $0.1, withNotes: false) })
    }

    // MARK: Consents

    func createConsent(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let caseID = try request.uuidParameter("id", context)
        var request = request
        let (draft, bytes) = try await request.decodeJSONWithBytes(ConsentDraft.self, limit: bodyLimit)
        let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/cases/\(caseID)/consents", body: bytes)
        return try await Idempotency.respond(request, key: key) {
            try await cases.recordConsent(on: caseID, draft, request: key, context: context.access) { consent in
                try CreatedResponse(ConsentDTO(consent), location: "/v1/cases/\(caseID.uuidString)/consents/\(consent.id.uuidString)", caseID: caseID).answer
            }
        }
    }

    func listConsents(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ListResponse<ConsentDTO>> {
        let caseID = try request.uuidParameter("id", context)
        let consents = try await cases.consents(of: caseID, context: context.access)
        return JSONResponse(ListResponse(items: consents.map(ConsentDTO.init), nextCursor: nil))
    }

    func readConsent(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<ConsentDTO> {
        let consent = try await readOne(request, context, parameter: "cid", kind: "consent") { id, caseID, transaction in
            try ConsentStore.find(id, caseID: caseID, on: transaction.connection)
        }
        return JSONResponse(ConsentDTO(consent))
    }

    struct WithdrawalDTO: Encodable, Sendable {
        var consent: ConsentDTO
        var cancelledReferrals: [UUID]
    }

    /// Withdrawal cancels every open referral relying on the consent, in the same transaction.
    func withdrawConsent(_ request: Request, _ context: HavenRequestContext) async throws -> JSONResponse<WithdrawalDTO> {
        let caseID = try request.uuidParameter("id", context)
        let consentID = try request.uuidParameter("cid", context)
        let (consent, cancelled) = try await cases.withdrawConsent(consentID, of: caseID, context: context.access)
        return JSONResponse(WithdrawalDTO(consent: ConsentDTO(consent), cancelledReferrals: cancelled))
    }
}
