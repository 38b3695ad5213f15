import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// Organisations and their mandates. Admins create and change them; everyone who is logged in
/// reads the directory and asks which organisations cover a need.
struct OrganisationController: Sendable {
    let store: Store
    let bodyLimit: Int

    func register(_ routes: Routes) {
        routes.post("/v1/organisations") { request, context in
            var request = request
            let (draft, bytes) = try await request.decodeJSONWithBytes(OrganisationDraft.self, limit: bodyLimit)
            try draft.validate()
            return try await Idempotency.create(request, context: context, scope: "POST /v1/organisations", body: bytes, store: store,
                                               collection: .createOrganisation) { transaction in
                try transaction.authorize(.createOrganisation, .collection, entityKind: "organisation")
                let organisation = try OrganisationStore.create(draft, on: transaction.connection)
                try transaction.audit(.create, "organisation.create", entityKind: "organisation", entityID: organisation.id.lowercasedString,
                                      subjectOrganisation: organisation.id, purpose: .administration)
                return try CreatedResponse(organisation, location: "/v1/organisations/\(organisation.id.uuidString)", version: organisation.version)
            }
        }
        routes.get("/v1/organisations") { request, context in
            let query = try ListQuery(request)
            let page = try await store.transaction(context.access) { transaction in
                try transaction.authorize(.listOrganisations, .collection, entityKind: "organisation")
                return try OrganisationStore.list(after: query.cursor, limit: query.limit, on: transaction.connection)
            }
            return JSONResponse(ListResponse(page) { $0 })
        }
        routes.get("/v1/organisations/match") { request, context in
            guard let serviceType = try request.queryEnum("service_type", ServiceType.self) else {
                throw APIError.badRequest("service_type", "is required: one of \(ServiceType.allowedValues)")
            }
            let region = try request.queryString("region")
            let country = try request.queryString("country")
            if let country, !CountryCode.isValid(country) { throw APIError.badRequest("country", "must be an ISO 3166-1 alpha-2 code such as MD") }
            let query = try ListQuery(request)
            let page = try await store.transaction(context.access) { transaction in
                try transaction.authorize(.matchOrganisations, .collection, entityKind: "organisation")
                let own = try transaction.actor.flatMap { try OrganisationStore.find($0.organisationID, on: transaction.connection) }
                // A region is a region of a country: the one named, or the caller's own. The
                // caller's own organisation is not a referral's recipient.
                return try OrganisationStore.matching(serviceType: serviceType, country: country ?? (region == nil ? nil : own?.country), region: region,
                                                      excluding: own?.id, after: query.cursor, limit: query.limit, on: transaction.connection)
            }
            return JSONResponse(ListResponse(page) { $0 })
        }
        routes.get("/v1/organisations/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let organisation = try await store.transaction(context.access) { transaction in
                guard let organisation = try OrganisationStore.find(id, on: transaction.connection) else {
                    throw StoreError.notFound("no such organisation")
                }
                try transaction.authorize(.readOrganisation, .organisation(id), entityKind: "organisation", entityID: id.lowercasedString)
                return organisation
            }
            return JSONResponse(organisation, headers: [.eTag: ETag.make(organisation.version)])
        }
        routes.patch("/v1/organisations/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let expected = try ETag.optionalVersion(request)
            var request = request
            let patch = try await request.decodeJSON(OrganisationPatch.self, limit: bodyLimit)
            try patch.validate()
            let organisation = try await store.transaction(context.access) { transaction in
                // The policy first: only then is the row locked, so If-Match and the changes are
                // judged against the row the update replaces.
                try transaction.authorize(.updateOrganisation, .organisation(id), entityKind: "organisation", entityID: id.lowercasedString, subjectOrganisation: id)
                guard let current = try OrganisationStore.find(id, forUpdate: true, on: transaction.connection) else {
                    throw StoreError.notFound("no such organisation")
                }
                if let expected, expected != current.version { throw StoreError.preconditionFailed("the organisation changed since you read it") }
                // Deactivating ends its staff's sessions: done to one's own, it would lock out the
                // only administrators who could undo it.
                if patch.active == false, transaction.actor?.organisationID == id {
                    throw StoreError.conflict("you cannot deactivate your own organisation", field: "active")
                }
                guard let updated = try OrganisationStore.update(current, patch, on: transaction.connection) else {
                    throw StoreError.notFound("no such organisation")
                }
                try transaction.audit(.update, "organisation.update", entityKind: "organisation", entityID: id.lowercasedString,
                                      subjectOrganisation: id, purpose: .administration, detail: ["fields": .strings(updated.changed)])
                return updated.organisation
            }
            return JSONResponse(organisation, headers: [.eTag: ETag.make(organisation.version)])
        }
    }
}

/// Versions as weak ETags: `W/"7"`.
enum ETag {
    static func make(_ version: Int) -> String { "W/\"\(version)\"" }

    static func parse(_ header: String) -> Int? {
        var text = header.trimmingCharacters(in: .whitespaces)
        if text.hasPrefix("W/") { text.removeFirst(2) }
        guard text.hasPrefix("\""), text.hasSuffix("\""), text.count >= 3 else { return nil }
        return Int(text.dropFirst().dropLast())
    }

    /// The version an `If-Match` names; nil when there is none.
    static func optionalVersion(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch] else { return nil }
        guard let version = parse(header) else { throw APIError.badRequest("If-Match", "must be an ETag this API returned, e.g. W/\"3\"") }
        return version
    }

    /// 428 without `If-Match`: a change to a case must say which version it changes.
    static func requiredVersion(_ request: Request) throws -> Int {
        guard let version = try optionalVersion(request) else {
            throw APIError(.preconditionRequired, kind: "if-match-required", detail: "send If-Match with the ETag of the version you read",
                           errors: [FieldError("If-Match", "is required")])
        }
        return version
    }
}
