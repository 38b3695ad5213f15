import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// `POST/GET /v1/organisations`, `GET/PATCH /v1/organisations/{id}` and
/// `GET /v1/organisations/match?service_type=&region=`.
@Suite struct OrganisationTests {
    @Test func adminCreatesReadsListsAndUpdates() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let create = try await client.sendRaw(.post, "/v1/organisations", token: token, body: """
                {"name": "Centrul de Drept", "type": "legal", "country": "MD", "region": "Chisinau",
                 "mandate": {"service_types": ["legal_aid", "documents"], "regions": ["Chisinau", "Balti"],
                             "populations": ["adult", "female"], "accepts_referrals": true, "capacity_note": "two lawyers"}}
                """, contentType: "application/json")
            #expect(create.status == .created, "\(create.text)")
            let created = try create.json()
            let id = try #require(created["id"] as? String)
            #expect(create.headers[.location] == "/v1/organisations/\(id)")
            #expect(created["type"] as? String == "legal")
            let mandate = try #require(created["mandate"] as? [String: Any])
            #expect(mandate["service_types"] as? [String] == ["legal_aid", "documents"])
            #expect(mandate["regions"] as? [String] == ["Chisinau", "Balti"])
            #expect(mandate["accepts_referrals"] as? Bool == true)

            let read = try await client.send(.get, "/v1/organisations/\(id)", token: token)
            #expect(read.status == .ok)
            let etag = try #require(read.headers[.eTag])
            #expect(create.headers[.eTag] == etag, "the created organisation's ETag is its version")
            #expect(try read.json()["name"] as? String == "Centrul de Drept")

            let list = try await client.send(.get, "/v1/organisations?limit=200", token: token)
            #expect(try list.jsonArray().contains { $0["id"] as? String == id })

            let patch = try await client.send(.patch, "/v1/organisations/\(id)", token: token,
                                              json: ["region": "Balti"], headers: [.ifMatch: etag])
            #expect(patch.status == .ok, "\(patch.text)")
            #expect(try patch.json()["region"] as? String == "Balti")
            #expect(patch.headers[.eTag] != etag)
            // The old version is stale now.
            let stale = try await client.send(.patch, "/v1/organisations/\(id)", token: token,
                                              json: ["region": "Cahul"], headers: [.ifMatch: etag])
            expectProblem(stale, .preconditionFailed)
            #expect(try app.count("organisation", where: "id = $1::uuid AND region = 'Balti'", [id]) == 1)

            #expect(try app.count("audit_event", where: "subtype = 'organisation.create' AND entity_id = lower($1)", [id]) == 1)
            #expect(try app.count("audit_event", where: "subtype = 'organisation.update' AND entity_id = lower($1)", [id]) == 1)

            // Sending what is already there is no new version: the ETag in hand still works,
            // and the audit names no field.
            let current = try #require(patch.headers[.eTag])
            let same = try await client.send(.patch, "/v1/organisations/\(id)", token: token,
                                             json: ["region": "Balti", "name": "Centrul de Drept"], headers: [.ifMatch: current])
            #expect(same.status == .ok && same.headers[.eTag] == current, "\(same.text)")
            #expect(try app.count("audit_event", where: "subtype = 'organisation.update' AND entity_id = lower($1) AND detail::jsonb->'fields' = '[]'::jsonb",
                                  [id]) == 1)
            let next = try await client.send(.patch, "/v1/organisations/\(id)", token: token, json: ["region": "Cahul"], headers: [.ifMatch: current])
            #expect(next.status == .ok, "\(next.text)")
            #expect(try app.count("audit_event", where: "subtype = 'organisation.update' AND entity_id = lower($1) AND detail::jsonb->'fields' = '[\"region\"]'::jsonb",
                                  [id]) == 2)
        }
    }

    @Test func everyoneLoggedInReadsTheDirectory() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            for role in [Role.partner, .caseworker, .auditor] {
                let (_, token) = try await app.loggedIn(role, in: organisation.id, client)
                #expect(try await client.send(.get, "/v1/organisations", token: token).status == .ok)
                #expect(try await client.send(.get, "/v1/organisations/\(organisation.id)", token: token).status == .ok)
            }
        }
    }

    @Test func invalidOrganisationsAre422AndStoreNothing() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let before = try app.count("organisation")
            let cases: [(String, String)] = [
                (#"{"name": "A", "type": "spaceship", "country": "MD"}"#, "type"),
                (#"{"name": "A", "type": "ngo", "country": "ZZ"}"#, "country"),
                (#"{"name": "A", "type": "ngo", "country": "md"}"#, "country"),
                (#"{"name": "", "type": "ngo", "country": "MD"}"#, "name"),
                (#"{"type": "ngo", "country": "MD"}"#, "name"),
                (#"{"name": "A", "type": "ngo"}"#, "country"),
                (#"{"name": 7, "type": "ngo", "country": "MD"}"#, "name"),
                (#"{"name": "A", "type": "ngo", "country": "MD", "mandate": {"service_types": ["juggling"]}}"#, "mandate.service_types[0]"),
                (#"{"name": "A", "type": "ngo", "country": "MD", "mandate": {"populations": ["martians"]}}"#, "mandate.populations[0]"),
                (#"{"name": "A", "type": "ngo", "country": "MD", "mandate": {"service_types": ["medical", "medical"]}}"#, "mandate.service_types"),
                (#"{"name": "A", "type": "ngo", "country": "MD", "mandate": {"regions": ["Balti", "balti"]}}"#, "mandate.regions"),
            ]
            for (body, field) in cases {
                let response = try await client.sendRaw(.post, "/v1/organisations", token: token, body: body, contentType: "application/json")
                expectProblem(response, .unprocessableContent, field: field)
            }
            #expect(try app.count("organisation") == before)
        }
    }

    @Test func duplicateNameIs409() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let existing = try await app.organisation("La Strada")
            let before = try app.count("organisation")
            let response = try await client.send(.post, "/v1/organisations", token: token,
                                                 json: ["name": "la strada", "type": "ngo", "country": "MD"])
            expectProblem(response, .conflict, field: "name")
            #expect(try app.count("organisation") == before)
            // Renaming another organisation onto the same name is refused as well.
            let other = try await app.organisation()
            let rename = try await client.send(.patch, "/v1/organisations/\(other.id)", token: token, json: ["name": existing.name])
            expectProblem(rename, .conflict, field: "name")
        }
    }

    @Test func unknownOrganisationIs404() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            expectProblem(try await client.send(.get, "/v1/organisations/\(UUID())", token: token), .notFound)
            expectProblem(try await client.send(.get, "/v1/organisations/not-a-uuid", token: token), .notFound)
            expectProblem(try await client.send(.patch, "/v1/organisations/\(UUID())", token: token, json: ["name": "Ghost"]), .notFound)
        }
    }

    @Test func matchListsOrganisationsWhoseMandateCoversTheNeed() async throws {
        try await TestApp.run { app, client in
            let home = try await app.organisation()
            let nationwide = try await app.organisation("Nationwide Legal", services: [.legalAid])
            let local = try await app.organisation("Chisinau Legal", services: [.legalAid, .counselling], regions: ["Chisinau"])
            let elsewhere = try await app.organisation("Cahul Legal", services: [.legalAid], regions: ["Cahul"])
            let full = try await app.organisation("Full Legal", services: [.legalAid], acceptsReferrals: false)
            let abroad = try await app.organisation("Bucharest Legal", country: "RO", services: [.legalAid])
            // Names whose first letter PostgreSQL's lower() may leave as it is: paging must not skip them.
            let schoolA = try await app.organisation("Școala Juridică A", services: [.legalAid], regions: ["Balti"])
            let schoolB = try await app.organisation("Școala Juridică B", services: [.legalAid], regions: ["Balti"])
            let clinic = try await app.organisation("Clinic", type: .health, services: [.medical])
            let (_, token) = try await app.loggedIn(.caseworker, in: home.id, client)

            func match(_ query: String) async throws -> Set<String> {
                let response = try await client.send(.get, "/v1/organisations/match?\(query)", token: token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return Set(try response.jsonArray().compactMap { $0["id"] as? String })
            }
            let inChisinau = try await match("service_type=legal_aid&region=chisinau")
            // A region is one of the caller's country: another country's nationwide mandate does not cover it.
            #expect(inChisinau == [nationwide.id.uuidString, local.id.uuidString])
            #expect(try await match("service_type=legal_aid&country=RO") == [abroad.id.uuidString])
            #expect(try await match("service_type=legal_aid&country=MD&region=Cahul") == [nationwide.id.uuidString, elsewhere.id.uuidString])
            expectProblem(try await client.send(.get, "/v1/organisations/match?service_type=legal_aid&country=Moldova", token: token),
                          .badRequest, field: "country")

            // Every match, a page at a time.
            var paged: [String] = []
            var cursor: String?
            repeat {
                let next = cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? ""
                let page = try await client.send(.get, "/v1/organisations/match?service_type=legal_aid&limit=1\(next)", token: token)
                #expect(page.status == .ok, "\(page.text)")
                paged += try page.jsonArray().compactMap { $0["id"] as? String }
                cursor = try page.json()["next_cursor"] as? String
            } while cursor != nil && paged.count < 10
            #expect(paged.count == 6 && Set(paged) == Set([nationwide, local, elsewhere, abroad, schoolA, schoolB].map(\.id.uuidString)), "\(paged)")
            let anywhere = try await match("service_type=legal_aid")
            #expect(anywhere.contains(elsewhere.id.uuidString) && anywhere.contains(nationwide.id.uuidString))
            #expect(!anywhere.contains(full.id.uuidString) && !anywhere.contains(clinic.id.uuidString))
            #expect(try await match("service_type=medical&region=Balti") == [clinic.id.uuidString])
            #expect(try await match("service_type=repatriation").isEmpty)
            // The caller's own organisation is never offered as a recipient.
            let (_, localToken) = try await app.loggedIn(.caseworker, in: local.id, client)
            let fromLocal = try await client.send(.get, "/v1/organisations/match?service_type=legal_aid", token: localToken)
            let offered = Set(try fromLocal.jsonArray().compactMap { $0["id"] as? String })
            #expect(offered.contains(nationwide.id.uuidString) && !offered.contains(local.id.uuidString), "\(fromLocal.text)")

            expectProblem(try await client.send(.get, "/v1/organisations/match", token: token), .badRequest, field: "service_type")
            expectProblem(try await client.send(.get, "/v1/organisations/match?service_type=teleportation", token: token), .badRequest, field: "service_type")
        }
    }

    /// A deactivated organisation's staff stop at once: their tokens end and they cannot log in.
    @Test func deactivatingAnOrganisationStopsItsUsers() async throws {
        try await TestApp.run { app, client in
            let (admin, adminToken) = try await app.admin(client)
            let own = try await client.send(.patch, "/v1/organisations/\(admin.organisationID)", token: adminToken, json: ["active": false])
            expectProblem(own, .conflict, field: "active")
            let organisation = try await app.organisation()
            let (caseworker, token) = try await app.loggedIn(.caseworker, in: organisation.id, client)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            let off = try await client.send(.patch, "/v1/organisations/\(organisation.id)", token: adminToken, json: ["active": false])
            #expect(off.status == .ok, "\(off.text)")
            #expect(try app.count("session", where: "user_id = $1 AND revoked_at IS NULL", [caseworker.id]) == 0)
            expectProblem(try await client.send(.get, "/v1/me", token: token), .unauthorized)
            let login = try await client.send(.post, "/v1/auth/login", json: ["username": caseworker.user.username, "password": caseworker.password])
            expectProblem(login, .unauthorized)
            // Back on, the same credentials work again.
            let on = try await client.send(.patch, "/v1/organisations/\(organisation.id)", token: adminToken, json: ["active": true])
            #expect(on.status == .ok, "\(on.text)")
            #expect(try await client.send(.post, "/v1/auth/login", json: ["username": caseworker.user.username, "password": caseworker.password]).status == .ok)
        }
    }
}
