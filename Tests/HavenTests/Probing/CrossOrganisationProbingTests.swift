import Foundation
import HavenAPI
import HavenStore
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Authorisation probing (issue 6): for every route the application registers × every role of
/// one organisation × GET/POST/PATCH/PUT/DELETE, with another organisation's ids in the path
/// parameters (and in list filters and bodies), nothing of that other organisation may appear
/// anywhere in the answer — body, error body, headers, decoded pagination cursors — a list
/// filtered by its ids must be empty, and the answer must be the one a random id gets (else the
/// caller learns the record exists). Exceptions by design are listed, with their reasons, in
/// `ProbeExceptions`. Afterwards the home organisation's audit trail (as its supervisor reads
/// it) and the national one (as an auditor reads it) are swept the same way.
@Suite("Probing: another organisation's data never leaks")
struct CrossOrganisationProbingTests {
    @Test("every route × every role × every method, with another organisation's ids")
    func everyRouteRoleAndMethod() async throws {
        let configuration = AppConfiguration(host: "127.0.0.1", port: 0, openAPIPath: OpenAPIDocument.path)
        try await TestApp.run(configuration: configuration) { app, client in
            let world = try await ProbeWorld.build(app, client)
            let dependencies = HavenDependencies(store: app.store, schema: DatabaseSchema(try TestSchema.migrator()), hasher: app.credentials)
            let routes = routeList(configuration: app.configuration, dependencies: dependencies).filter { $0.method != "HEAD" }
            let registered = Set(routes.map { "\($0.method) \($0.path)" })
            var patterns: [String] = []
            for route in routes where !patterns.contains(route.path) { patterns.append(route.path) }
            #expect(patterns.count > 30, "routeList gave too few routes: \(patterns)")

            // Run last: logging out ends the token; the supervisor's own break-glass on the other
            // organisation's case opens that case to them by design.
            let deferred: Set<String> = ["POST /v1/auth/logout", "POST /v1/cases/{id}/break-glass"]
            let prober = Prober(world: world, client: client)
            try await positiveControls(prober, world)
            for role in ProbeWorld.roles {
                for pattern in patterns {
                    for method in ProbeRequests.methods {
                        let route = "\(method) \(pattern)"
                        if deferred.contains(route) && registered.contains(route) && (route.hasSuffix("logout") || role == .supervisor) { continue }
                        let queries = method == "GET" ? ProbeRequests.queries(pattern, world.otherIDs).count : 1
                        let writes = ["POST", "PATCH", "PUT"].contains(method) && registered.contains(route)
                        for variant in ProbeRequests.variants(for: pattern) {
                            for queryIndex in 0..<queries {
                                try await prober.probe(role: role, method: method, pattern: pattern, route: route, queryIndex: queryIndex,
                                                       variant: variant)
                            }
                            for body in writes ? [ProbeRequests.BodyKind.empty, .invalid] : [] {
                                try await prober.probe(role: role, method: method, pattern: pattern, route: route, queryIndex: 0,
                                                       variant: variant, body: body)
                            }
                        }
                    }
                }
            }

            try await sweepAuditTrail(prober, world)

            // The supervisor's break-glass on the other organisation's case: allowed by design; the
            // grant may name the case and its organisation, nothing else.
            try await prober.probe(role: .supervisor, method: "POST", pattern: "/v1/cases/{id}/break-glass", route: "POST /v1/cases/{id}/break-glass",
                                   queryIndex: 0, variant: ProbeRequests.variants(for: "/v1/cases/{id}/break-glass")[0], compareWithRandom: false)
            for role in ProbeWorld.roles {
                try await prober.probe(role: role, method: "POST", pattern: "/v1/auth/logout", route: "POST /v1/auth/logout", queryIndex: 0,
                                       variant: ProbeRequests.variants(for: "/v1/auth/logout")[0], compareWithRandom: false)
            }

            print("authorisation probing: \(prober.cells.count) cells (role × route × method × variant × id set), "
                  + "\(prober.requests) requests, \(patterns.count) paths, \(registered.count) routes, \(prober.findings.count) finding(s)")
            for finding in prober.report.prefix(80) { Issue.record("\(finding)") }
            if prober.findings.count > 80 { Issue.record("… and \(prober.findings.count - 80) more findings") }
        }
    }

    /// The probe must be able to see a leak: the other organisation's caseworker reading their
    /// own case shows the markers, and a one-item page of the directory carries a decodable cursor.
    func positiveControls(_ prober: Prober, _ world: ProbeWorld) async throws {
        let own = try await prober.send("GET", "/v1/cases/\(world.otherIDs.caseID.uuidString)", world.otherCaseworker, body: nil)
        let found = prober.markers(in: own)
        for expected in ["identifying: B person", "record id: B case id", "reference: B case reference", "text: B/C free text Casenote",
                         "organisation id: B organisation id"] {
            #expect(found.contains(expected), "control: the other caseworker's own case read should show \(expected); found \(found.sorted())")
        }
        let page = try await prober.send("GET", "/v1/organisations?limit=1", world.members[.caseworker]!, body: nil)
        let json = prober.inspect(page, cell: "control: directory page", route: "GET /v1/organisations", allowed: [.organisationID, .organisationName])
        #expect(!Prober.cursors(in: json).isEmpty, "control: a one-item directory page should carry next_cursor: \(page.text.prefix(300))")
    }

    /// The home supervisor reads their organisation's audit trail, the home auditor the national
    /// one, every page: after all the probing above, neither may show more of the other
    /// organisation than the exceptions allow; filtered by the other organisation's ids, the
    /// supervisor's view is empty.
    func sweepAuditTrail(_ prober: Prober, _ world: ProbeWorld) async throws {
        let route = "GET /v1/audit-events"
        for role in [Role.supervisor, .auditor] {
            let member = world.members[role]!
            let allowed = ProbeExceptions.allowed(route, role)
            var uri = "/v1/audit-events?limit=200"
            var page = 0
            while page < 200 {
                page += 1
                let response = try await prober.send("GET", uri, member, body: nil)
                #expect(response.status == .ok, "\(role) \(uri): \(response.status.code) \(response.text.prefix(300))")
                let json = prober.inspect(response, cell: "\(role.rawValue) audit sweep page \(page)", route: route, allowed: allowed)
                guard let cursor = (json as? [String: Any])?["next_cursor"] as? String else { break }
                uri = "/v1/audit-events?limit=200&cursor=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)
            }
        }
        let supervisor = world.members[.supervisor]!
        for query in ["case_id=\(world.otherIDs.caseID.uuidString)", "organisation=\(world.other.uuidString)", "actor=\(world.otherIDs.user.uuidString)",
                      "case_id=\(world.otherIDs.caseID.uuidString)&outcome=denied"] {
            let response = try await prober.send("GET", "/v1/audit-events?" + query, supervisor, body: nil)
            prober.inspect(response, cell: "supervisor audit sweep ?\(query)", route: route, allowed: [])
            let items = (try? response.jsonArray()) ?? []
            if !items.isEmpty {
                prober.record("LEAK supervisor GET /v1/audit-events?\(query) (after probing): \(items.count) event(s) about the other "
                              + "organisation's records in the home organisation's trail: \(response.text.prefix(700))", key: "sweep filtered")
            }
        }
    }
}
