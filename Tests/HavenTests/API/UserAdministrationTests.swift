import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// `POST/GET /v1/users`, `GET/PATCH /v1/users/{id}`: who may, what is refused, and that a
/// refused request stores nothing.
@Suite struct UserAdministrationTests {
    static func draft(_ organisation: UUID, role: String = "caseworker", username: String = freshUsername(), password: String = strongPassword()) -> [String: String] {
        ["organisation_id": organisation.uuidString, "role": role, "username": username, "password": password]
    }

    @Test func adminCreatesReadsAndUpdatesAUser() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let username = freshUsername("sv")
            let created = try await client.send(.post, "/v1/users", token: token,
                                                json: UserAdministrationTests.draft(admin.organisationID, role: "supervisor", username: username))
            #expect(created.status == .created, "\(created.text)")
            let body = try created.json()
            let user = try #require(body["user"] as? [String: Any])
            let id = try #require(user["id"] as? String)
            #expect(created.headers[.location] == "/v1/users/\(id)")
            #expect(user["username"] as? String == username)
            #expect(user["password_must_change"] as? Bool == true)
            // A supervisor needs a second factor, which they enrol themselves: none is handed over.
            #expect(body["totp_uri"] == nil && user["has_second_factor"] as? Bool == false, "\(created.text)")

            let read = try await client.send(.get, "/v1/users/\(id)", token: token)
            #expect(read.status == .ok)
            #expect(read.headers[.eTag] != nil && read.headers[.eTag] == created.headers[.eTag], "the created user's ETag is its version")
            #expect(try read.json()["role"] as? String == "supervisor")

            let patched = try await client.send(.patch, "/v1/users/\(id)", token: token, json: ["role": "caseworker"])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect((try patched.json()["user"] as? [String: Any])?["role"] as? String == "caseworker")
            #expect(try app.count("app_user", where: "id = $1::uuid AND role = 'caseworker'", [id]) == 1)
        }
    }

    /// A session carries what its login proved: a caseworker made supervisor must log in again,
    /// with the second factor a supervisor needs.
    @Test func aNewRoleEndsTheUsersSessions() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let (user, userToken) = try await app.loggedIn(.caseworker, in: admin.organisationID, client)
            #expect(try await client.send(.get, "/v1/me", token: userToken).status == .ok)
            let patched = try await client.send(.patch, "/v1/users/\(user.id)", token: token, json: ["role": "supervisor"])
            #expect(patched.status == .ok, "\(patched.text)")
            expectProblem(try await client.send(.get, "/v1/me", token: userToken), .unauthorized)
            #expect(try app.count("session", where: "user_id = $1 AND revoked_at IS NULL", [user.id]) == 0)
        }
    }

    /// Two admins working from the same read: the second change, made against a version that
    /// is no longer there, is refused and changes nothing.
    @Test func aStaleIfMatchOnAUserIs412() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let target = try await app.user(.caseworker, in: admin.organisationID)
            let read = try await client.send(.get, "/v1/users/\(target.id)", token: token)
            let etag = try #require(read.headers[.eTag])
            let first = try await client.send(.patch, "/v1/users/\(target.id)", token: token, json: ["role": "partner"], headers: [.ifMatch: etag])
            #expect(first.status == .ok, "\(first.text)")
            let second = try await client.send(.patch, "/v1/users/\(target.id)", token: token, json: ["active": false], headers: [.ifMatch: etag])
            expectProblem(second, .preconditionFailed)
            #expect(try app.count("app_user", where: "id = $1 AND role = 'partner' AND active", [target.id]) == 1)
        }
    }

    /// An admin re-sending a user's current values changes nothing: no new version (another
    /// admin's ETag stays good), no sessions ended, and the audit names no field.
    @Test func aPatchThatChangesNothingKeepsTheVersion() async throws {
        struct RoleAndActive: Encodable { var role: String; var active: Bool }
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let (user, userToken) = try await app.loggedIn(.caseworker, in: admin.organisationID, client)
            let etag = try #require(try await client.send(.get, "/v1/users/\(user.id)", token: token).headers[.eTag])
            let same = try await client.send(.patch, "/v1/users/\(user.id)", token: token, json: RoleAndActive(role: "caseworker", active: true),
                                             headers: [.ifMatch: etag])
            #expect(same.status == .ok && same.headers[.eTag] == etag, "\(same.text)")
            #expect(try await client.send(.get, "/v1/me", token: userToken).status == .ok)
            #expect(try app.count("audit_event", where: "subtype = 'user.update' AND entity_id = lower($1::text) AND detail::jsonb->'fields' = '[]'::jsonb",
                                  [user.id]) == 1)
            let next = try await client.send(.patch, "/v1/users/\(user.id)", token: token, json: RoleAndActive(role: "partner", active: true), headers: [.ifMatch: etag])
            #expect(next.status == .ok && next.headers[.eTag] != etag, "\(next.text)")
            #expect(try app.count("audit_event", where: "subtype = 'user.update' AND entity_id = lower($1::text) AND detail::jsonb->'fields' = '[\"role\"]'::jsonb",
                                  [user.id]) == 1)
        }
    }

    @Test(arguments: [
        ("short-1A", "must be at least"),
        ("{username}-plus-more", "username"),
        ("password1234", "common"),
    ])
    func weakPasswordsAre422NamingPassword(password: String, rule: String) async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let username = freshUsername("weak")
            let before = try app.count("app_user")
            let response = try await client.send(.post, "/v1/users", token: token, json: UserAdministrationTests.draft(
                admin.organisationID, username: username, password: password.replacingOccurrences(of: "{username}", with: username)))
            expectProblem(response, .unprocessableContent, field: "password")
            #expect(response.text.lowercased().contains(rule), "the answer should name the rule: \(response.text)")
            #expect(try app.count("app_user") == before)
            // An admin's reset follows the same policy.
            let target = try await app.user(.caseworker, in: admin.organisationID, username: username)
            let reset = try await client.send(.patch, "/v1/users/\(target.id)", token: token,
                                              json: ["password": password.replacingOccurrences(of: "{username}", with: username)])
            expectProblem(reset, .unprocessableContent, field: "password")
        }
    }

    @Test func duplicateUsernameIs409AndStoresNothing() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let existing = try await app.user(.caseworker, in: admin.organisationID)
            let before = try app.count("app_user")
            let eventsBefore = try app.count("audit_event", where: "subtype = 'user.create'")
            for username in [existing.user.username, existing.user.username.uppercased()] {
                let response = try await client.send(.post, "/v1/users", token: token,
                                                     json: UserAdministrationTests.draft(admin.organisationID, username: username))
                expectProblem(response, .conflict, field: "username")
            }
            #expect(try app.count("app_user") == before)
            #expect(try app.count("audit_event", where: "subtype = 'user.create'") == eventsBefore)
        }
    }

    @Test func unknownRoleOrOrganisationIs422() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let before = try app.count("app_user")
            let role = try await client.send(.post, "/v1/users", token: token,
                                             json: UserAdministrationTests.draft(admin.organisationID, role: "superhero"))
            expectProblem(role, .unprocessableContent, field: "role")
            let organisation = try await client.send(.post, "/v1/users", token: token,
                                                     json: UserAdministrationTests.draft(UUID()))
            expectProblem(organisation, .unprocessableContent, field: "organisation_id")
            let username = try await client.send(.post, "/v1/users", token: token,
                                                 json: UserAdministrationTests.draft(admin.organisationID, username: "Not A Username!"))
            expectProblem(username, .unprocessableContent, field: "username")
            let patchRole = try await client.send(.patch, "/v1/users/\(admin.id)", token: token, json: ["role": "overlord"])
            expectProblem(patchRole, .unprocessableContent, field: "role")
            #expect(try app.count("app_user") == before)
            #expect(try app.count("app_user", where: "id = $1 AND role = 'admin'", [admin.id]) == 1)
        }
    }

    @Test(arguments: [Role.partner, .caseworker, .supervisor, .auditor])
    func adminEndpointsAre403ForOtherRoles(role: Role) async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let (user, token) = try await app.loggedIn(role, in: organisation.id, client)
            let colleague = try await app.user(.caseworker, in: organisation.id)
            let users = try app.count("app_user"), organisations = try app.count("organisation")

            let createOrganisation = try await client.send(.post, "/v1/organisations", token: token,
                                                           json: ["name": "Should Not Exist", "type": "ngo", "country": "MD"])
            expectProblem(createOrganisation, .forbidden)
            let createUser = try await client.send(.post, "/v1/users", token: token, json: UserAdministrationTests.draft(organisation.id))
            expectProblem(createUser, .forbidden)
            let patchOrganisation = try await client.send(.patch, "/v1/organisations/\(organisation.id)", token: token, json: ["name": "Renamed"])
            expectProblem(patchOrganisation, .forbidden)
            // Changing oneself (role escalation) is refused too.
            let promoteSelf = try await client.send(.patch, "/v1/users/\(user.id)", token: token, json: ["role": "admin"])
            expectProblem(promoteSelf, .forbidden)
            // A colleague: a supervisor sees them (403); the others may not know them (404).
            let patchColleague = try await client.send(.patch, "/v1/users/\(colleague.id)", token: token, json: ["active": false])
            expectProblem(patchColleague, role == .supervisor ? .forbidden : .notFound)

            #expect(try app.count("app_user") == users)
            #expect(try app.count("organisation") == organisations)
            #expect(try app.count("app_user", where: "id = $1 AND role = $2", [user.id, role.rawValue]) == 1)
            #expect(try app.count("app_user", where: "id = $1 AND active", [colleague.id]) == 1)
            #expect(try app.count("organisation", where: "id = $1 AND name = $2", [organisation.id, organisation.name]) == 1)
            #expect(try app.count("session", where: "user_id = $1 AND revoked_at IS NULL", [colleague.id]) == 0)
            // Each refusal is audited as a denied access.
            #expect(try app.count("audit_event", where: "subtype = 'access.denied' AND actor_user = $1", [user.id]) >= 5)
        }
    }

    @Test func supervisorCannotSeeUsersOfAnotherOrganisation() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let other = try await app.organisation()
            let (_, token) = try await app.loggedIn(.supervisor, in: own.id, client)
            let colleague = try await app.user(.caseworker, in: own.id)
            let stranger = try await app.user(.caseworker, in: other.id)

            #expect(try await client.send(.get, "/v1/users/\(colleague.id)", token: token).status == .ok)
            let read = try await client.send(.get, "/v1/users/\(stranger.id)", token: token)
            expectProblem(read, .notFound)
            // Indistinguishable from an id that does not exist.
            let missing = try await client.send(.get, "/v1/users/\(UUID())", token: token)
            expectProblem(missing, .notFound)
            #expect(read.problemDetail == missing.problemDetail)
            let patch = try await client.send(.patch, "/v1/users/\(stranger.id)", token: token, json: ["active": false])
            expectProblem(patch, .notFound)
        }
    }

    @Test func supervisorListsOnlyItsOrganisation() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let other = try await app.organisation()
            let (supervisor, token) = try await app.loggedIn(.supervisor, in: own.id, client)
            let colleague = try await app.user(.caseworker, in: own.id)
            let stranger = try await app.user(.caseworker, in: other.id)

            // Asking for another organisation's users lists nobody.
            let elsewhere = try await client.send(.get, "/v1/users?organisation_id=\(other.id)", token: token)
            #expect(elsewhere.status == .ok)
            #expect(try elsewhere.jsonArray().isEmpty)
            for query in ["", "?limit=200"] {
                let response = try await client.send(.get, "/v1/users\(query)", token: token)
                #expect(response.status == .ok, "\(response.text)")
                let items = try response.jsonArray()
                let ids = Set(items.compactMap { $0["id"] as? String })
                #expect(ids.contains(colleague.id.uuidString) && ids.contains(supervisor.id.uuidString), "\(query): \(ids)")
                #expect(!ids.contains(stranger.id.uuidString), "\(query) leaked another organisation's user")
                #expect(items.allSatisfy { $0["organisation_id"] as? String == own.id.uuidString })
            }
            // Caseworkers, partners and auditors do not list users at all.
            for role in [Role.caseworker, .partner, .auditor] {
                let (_, other) = try await app.loggedIn(role, in: own.id, client)
                expectProblem(try await client.send(.get, "/v1/users", token: other), .forbidden)
            }
        }
    }

    @Test func adminListsAndFiltersUsers() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let other = try await app.organisation()
            let partner = try await app.user(.partner, in: other.id)
            let all = try await client.send(.get, "/v1/users?limit=200", token: token)
            let ids = Set(try all.jsonArray().compactMap { $0["id"] as? String })
            #expect(ids.contains(admin.id.uuidString) && ids.contains(partner.id.uuidString))
            let filtered = try await client.send(.get, "/v1/users?organisation_id=\(other.id)&role=partner", token: token)
            #expect(try filtered.jsonArray().compactMap { $0["id"] as? String } == [partner.id.uuidString])
            expectProblem(try await client.send(.get, "/v1/users?role=overlord", token: token), .badRequest, field: "role")
            expectProblem(try await client.send(.get, "/v1/users?organisation_id=nope", token: token), .badRequest, field: "organisation_id")
            expectProblem(try await client.send(.get, "/v1/users?limit=0", token: token), .badRequest, field: "limit")
        }
    }

    @Test func listsArePaginatedWithACursor() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            for _ in 0..<4 { _ = try await app.user(.caseworker, in: admin.organisationID) }
            var cursor: String?
            var seen: [String] = []
            repeat {
                let query = "/v1/users?limit=2" + (cursor.map { "&cursor=\($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0)" } ?? "")
                let page = try await client.send(.get, query, token: token)
                #expect(page.status == .ok, "\(page.text)")
                let items = try page.jsonArray()
                #expect(items.count <= 2)
                seen += items.compactMap { $0["id"] as? String }
                cursor = try page.json()["next_cursor"] as? String
            } while cursor != nil && seen.count < 20
            #expect(seen.count == 5)
            #expect(Set(seen).count == 5)
        }
    }
}
