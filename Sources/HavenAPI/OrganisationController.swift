import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// Organisations and their mandates. Admins create and change them; everyone who is logged in
/// reads the directory and asks which organisations cover a need.
struct OrganisationController: Sendable {
    let store: Store
    var organisations: OrganisationService { OrganisationService(store: store) }

    func register(_ routes: Routes) {
        routes.post("/v1/organisations") { request, context in
            var request = request
            let (draft, bytes) = try await request.decodeJSONWithBytes(OrganisationDraft.self, limit: context.maxUploadSize)
            let key = Idempotent.Request(key: request.headers[.idempotencyKey], scope: "POST /v1/organisations", body: bytes)
            return try await Idempotency.respond(request, key: key) {
                try await organisations.create(draft, request: key, context: context.access) { organisation in
                    try CreatedResponse(organisation, location: "/v1/organisations/\(organisation.id.uuidString)", version: organisation.version).answer
                }
            }
        }
        routes.get("/v1/organisations") { request, context in
            let page = try await organisations.list(page: try ListQuery(request).page, context: context.access)
            return JSONResponse(ListResponse(page) { $0 })
        }
        routes.get("/v1/organisations/match") { request, context in
            guard let serviceType = try request.queryEnum("service_type", ServiceType.self) else {
                throw APIError.badRequest("service_type", "is required: one of \(ServiceType.allowedValues)")
            }
            let region = try request.queryString("region")
            let country = try request.queryString("country")
            if let country, !CountryCode.isValid(country) { throw APIError.badRequest("country", "must be an ISO 3166-1 alpha-2 code such as MD") }
            // Who the person is, as far as known (e.g. child,male): only mandates serving them match.
            let named = try request.queryString("population")?.split(separator: ",").map { String($0) } ?? []
            let population = named.compactMap(Population.init(rawValue:))
            if population.count != named.count || Set(population).isSuperset(of: [.adult, .child]) || Set(population).isSuperset(of: [.female, .male]) {
                throw APIError.badRequest("population", "must list at most one of adult, child and one of female, male, comma-separated")
            }
            let page = try await organisations.matching(serviceType, country: country, region: region, population: population,
                                                        page: try ListQuery(request).page, context: context.access)
            return JSONResponse(ListResponse(page) { $0 })
        }
        routes.get("/v1/organisations/:id") { request, context in
            let organisation = try await organisations.read(try request.uuidParameter("id", context), context: context.access)
            return JSONResponse(organisation, headers: [.eTag: ETag.make(organisation.version)])
        }
        routes.patch("/v1/organisations/:id") { request, context in
            let id = try request.uuidParameter("id", context)
            let expected = try ETag.optionalVersion(request)
            var request = request
            let patch = try await request.decodeJSON(OrganisationPatch.self, limit: context.maxUploadSize)
            let organisation = try await organisations.update(id, patch, expectedVersion: expected, context: context.access)
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
            throw APIError(.preconditionRequired, kind: .ifMatchRequired, detail: "send If-Match with the ETag of the version you read",
                           errors: [FieldError("If-Match", "is required")])
        }
        return version
    }
}
