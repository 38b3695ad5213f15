import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// The audit trail: what writes an event, who reads which events, that no secret is ever in it,
/// and that the application cannot change it.
@Suite struct AuditTrailTests {
    static func events(_ app: TestApp, _ subtype: String, actor: UUID? = nil) throws -> [[String: Any]] {
        try app.auditEvents(subtype: subtype).filter { event in
            actor.map { event["actor_user"] as? String == $0.uuidString.lowercased() } ?? true
        }
    }

    @Test func authenticationDecisionsAreAudited() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let requestID = "audit-trace-\(UUID().uuidString.prefix(8))"

            let login = try await client.send(.post, "/v1/auth/login", json: ["username": caseworker.user.username, "password": caseworker.password],
                                              headers: [HTTPField.Name("X-Request-Id")!: requestID])
            let token = try #require(try login.json()["token"] as? String)
            let logins = try AuditTrailTests.events(app, "auth.login", actor: caseworker.id)
            #expect(logins.count == 1)
            #expect(logins.first?["outcome"] as? String == "success")
            #expect(logins.first?["action"] as? String == "E")
            #expect(logins.first?["actor_org"] as? String == organisation.id.uuidString.lowercased())
            #expect(logins.first?["actor_role"] as? String == "caseworker")
            #expect(logins.first?["purpose"] as? String == "authentication")
            #expect(logins.first?["request_id"] as? String == requestID, "the event names the request that caused it")

            _ = try await LoginTests.login(client, caseworker.user.username, "not-the-password")
            let failed = try AuditTrailTests.events(app, "auth.login-failed", actor: caseworker.id)
            #expect(failed.count == 1)
            #expect(failed.first?["outcome"] as? String == "denied")

            // An unknown username is audited too, without inventing an actor.
            _ = try await LoginTests.login(client, "ghost-\(UUID().uuidString.prefix(6).lowercased())", "not-the-password")
            let unknown = try app.auditEvents(subtype: "auth.login-failed").filter { $0["actor_user"] is NSNull || $0["actor_user"] == nil }
            #expect(unknown.count == 1)

            #expect(try await client.send(.post, "/v1/auth/logout", token: token).status == .noContent)
            let logouts = try AuditTrailTests.events(app, "auth.logout", actor: caseworker.id)
            #expect(logouts.count == 1)
            #expect(logouts.first?["outcome"] as? String == "success")

            // A refused token is an authentication decision as well.
            _ = try await client.send(.get, "/v1/me", token: token)
            #expect(try app.auditEvents(subtype: "auth.token-rejected").count >= 1)
        }
    }

    /// An action whose event cannot be written fails with it: the read answers no case data,
    /// the changes stay unmade, the session stays open; and the failure is Haven's (500), not
    /// a bad value of the caller's.
    @Test func anActionWhoseEventCannotBeWrittenFails() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let person = CaseKit.Person()
            let id = try CaseKit.id(try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, CaseKit.intake(person)))
            let (admin, adminToken) = try await app.admin(client)
            let target = try await app.user(.caseworker, in: admin.organisationID)
            let owner = try app.database.connect(as: DatabaseSetup.ownerRole)
            try owner.run(script: """
                ALTER TABLE audit_event ADD CONSTRAINT refuse_some_events
                    CHECK (subtype NOT IN ('case.read', 'case.update', 'user.update', 'auth.logout')) NOT VALID
                """)
            defer { try? owner.run(script: "ALTER TABLE audit_event DROP CONSTRAINT refuse_some_events") }

            let read = try await CaseKit.call(client, .get, "/v1/cases/\(id.uuidString)", caseworker.token)
            expectProblem(read, .internalServerError)
            #expect(!read.text.contains(person.familyName), "no case data without its event")
            let patch = try await CaseKit.call(client, .patch, "/v1/cases/\(id.uuidString)", caseworker.token, ["risk_level": "low"],
                                               headers: ["If-Match": "W/\"1\""])
            expectProblem(patch, .internalServerError)
            #expect(try app.count("case_file", where: "id = $1 AND risk_level = 'high' AND version = 1", [id]) == 1)
            let user = try await client.send(.patch, "/v1/users/\(target.id)", token: adminToken, json: ["role": "partner"])
            expectProblem(user, .internalServerError)
            #expect(try app.count("app_user", where: "id = $1 AND role = 'caseworker'", [target.id]) == 1)
            let logout = try await client.send(.post, "/v1/auth/logout", token: caseworker.token)
            expectProblem(logout, .internalServerError)
            #expect(try await client.send(.get, "/v1/me", token: caseworker.token).status == .ok, "the session is still open")
        }
    }

    @Test func deniedAccessIsAudited() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let other = try await app.organisation()
            let (caseworker, caseworkerToken) = try await app.loggedIn(.caseworker, in: own.id, client)
            let (supervisor, supervisorToken) = try await app.loggedIn(.supervisor, in: own.id, client)
            let stranger = try await app.user(.caseworker, in: other.id)

            expectProblem(try await client.send(.post, "/v1/organisations", token: caseworkerToken,
                                                json: ["name": "Nope", "type": "ngo", "country": "MD"]), .forbidden)
            let forbidden = try AuditTrailTests.events(app, "access.denied", actor: caseworker.id)
            #expect(forbidden.count == 1)
            #expect(forbidden.first?["outcome"] as? String == "denied")
            #expect(forbidden.first?["detail"] as? String == #"{"answer":"403","operation":"createOrganisation"}"#, "\(forbidden)")

            expectProblem(try await client.send(.get, "/v1/users/\(stranger.id)", token: supervisorToken), .notFound)
            let hidden = try AuditTrailTests.events(app, "access.denied", actor: supervisor.id)
            #expect(hidden.count == 1)
            #expect(hidden.first?["entity_id"] as? String == stranger.id.uuidString.lowercased())
            #expect((hidden.first?["detail"] as? String)?.contains(#""answer":"404""#) == true)
        }
    }

    @Test func adminChangesAreAuditedWithFieldNamesOnly() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            let create = try await client.send(.post, "/v1/organisations", token: token, json: ["name": "Audited Org", "type": "shelter", "country": "MD"])
            let organisationID = try #require(try create.json()["id"] as? String).lowercased()
            _ = try await client.send(.patch, "/v1/organisations/\(organisationID)", token: token, json: ["region": "Orhei"])
            let password = strongPassword()
            let user = try await client.send(.post, "/v1/users", token: token, json: UserAdministrationTests.draft(
                admin.organisationID, password: password))
            let userID = try #require((try user.json()["user"] as? [String: Any])?["id"] as? String).lowercased()
            let reset = strongPassword()
            _ = try await client.send(.patch, "/v1/users/\(userID)", token: token, json: ["password": reset, "display_name": "Someone"])

            for (subtype, entity) in [("organisation.create", organisationID), ("organisation.update", organisationID),
                                      ("user.create", userID), ("user.update", userID)] {
                let events = try AuditTrailTests.events(app, subtype, actor: admin.id).filter { $0["entity_id"] as? String == entity }
                #expect(events.count == 1, "\(subtype)")
                #expect(events.first?["purpose"] as? String == "administration", "\(subtype)")
            }
            let update = try AuditTrailTests.events(app, "user.update", actor: admin.id).first
            let detail = try #require(update?["detail"] as? String)
            #expect(detail.contains("password") && detail.contains("display_name"), "field names are recorded: \(detail)")
            #expect(!detail.contains("Someone") && !detail.contains(reset), "values are not: \(detail)")
        }
    }

    /// S7: no password, reset password, bearer token or TOTP secret is ever written to the trail.
    @Test func noSecretEverAppearsInTheTrail() async throws {
        try await TestApp.run { app, client in
            let (admin, adminToken) = try await app.admin(client)
            var secrets: [String] = [admin.password, adminToken]
            let caseworker = try await app.user(.caseworker, in: admin.organisationID)
            secrets.append(caseworker.password)
            let token = try await app.login(client, caseworker)
            secrets.append(token)
            let wrong = "Wrong-Secret-\(UUID().uuidString.prefix(8))"
            secrets.append(wrong)
            _ = try await LoginTests.login(client, caseworker.user.username, wrong)
            _ = try await LoginTests.login(client, "ghost-user", wrong)

            let created = strongPassword()
            secrets.append(created)
            let response = try await client.send(.post, "/v1/users", token: adminToken,
                                                 json: UserAdministrationTests.draft(admin.organisationID, role: "supervisor", password: created))
            let createdBody = try response.json()
            let newUser = try #require((createdBody["user"] as? [String: Any])?["id"] as? String)
            let reset = strongPassword()
            secrets.append(reset)
            _ = try await client.send(.patch, "/v1/users/\(newUser)", token: adminToken, json: ["password": reset])

            let changed = strongPassword()
            secrets.append(changed)
            let wrongCurrent = "Not-Current-\(UUID().uuidString.prefix(8))"
            secrets.append(wrongCurrent)
            _ = try await client.send(.post, "/v1/me/password", token: token, json: ["current_password": wrongCurrent, "new_password": changed])
            _ = try await client.send(.post, "/v1/me/password", token: token, json: ["current_password": caseworker.password, "new_password": changed])
            let unknownToken = "hvt_" + String(repeating: "Z", count: 43)
            secrets.append(unknownToken)
            _ = try await client.send(.get, "/v1/me", token: unknownToken)
            _ = try await client.send(.post, "/v1/auth/logout", token: adminToken)

            let rows = try app.auditRowTexts()
            #expect(rows.count >= 10)
            for secret in secrets {
                let leaks = rows.filter { $0.contains(secret) }
                #expect(leaks.isEmpty, "a secret appears in the audit trail: \(leaks)")
            }
            // Nor does the token in any other table: sessions keep only a hash.
            let sessions = try app.ownerRows("SELECT row_to_json(s)::text FROM session s").compactMap { $0[0] }
            #expect(!sessions.isEmpty)
            #expect(sessions.allSatisfy { row in !row.contains(token) && !row.contains(adminToken) })
        }
    }

    @Test func supervisorsSeeOnlyTheirOrganisationAuditorsSeeAll() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let other = try await app.organisation()
            let (colleague, _) = try await app.loggedIn(.caseworker, in: own.id, client)
            let (stranger, _) = try await app.loggedIn(.caseworker, in: other.id, client)
            _ = try await LoginTests.login(client, stranger.user.username, "not-the-password")
            let (_, supervisorToken) = try await app.loggedIn(.supervisor, in: own.id, client)
            let (_, auditorToken) = try await app.loggedIn(.auditor, in: other.id, client)

            let supervisorView = try await client.send(.get, "/v1/audit-events?limit=200", token: supervisorToken)
            #expect(supervisorView.status == .ok, "\(supervisorView.text)")
            let seen = try supervisorView.jsonArray()
            #expect(!seen.isEmpty)
            for event in seen {
                let actorOrganisation = (event["actor"] as? [String: Any])?["organisation"] as? String
                let subjectOrganisation = (event["entity"] as? [String: Any])?["organisation"] as? String
                #expect(actorOrganisation == own.id.uuidString || subjectOrganisation == own.id.uuidString, "leaked: \(event)")
            }
            func actors(_ events: [[String: Any]]) -> Set<String> {
                Set(events.compactMap { ($0["actor"] as? [String: Any])?["user"] as? String })
            }
            #expect(actors(seen).contains(colleague.id.uuidString))
            #expect(!actors(seen).contains(stranger.id.uuidString))
            // Asking for another organisation's events does not widen the view.
            let asked = try await client.send(.get, "/v1/audit-events?organisation=\(other.id)", token: supervisorToken)
            #expect(!actors(try asked.jsonArray()).contains(stranger.id.uuidString))

            let auditorView = try await client.send(.get, "/v1/audit-events?limit=200", token: auditorToken)
            #expect(auditorView.status == .ok, "\(auditorView.text)")
            let all = actors(try auditorView.jsonArray())
            #expect(all.contains(colleague.id.uuidString) && all.contains(stranger.id.uuidString))
            // The answer has the documented shape and no MAC or hash internals.
            let sample = try #require(try auditorView.jsonArray().first)
            for key in ["id", "recorded", "action", "type", "subtype", "outcome", "actor", "entity", "purpose", "detail"] {
                #expect(sample[key] != nil, "missing \(key): \(sample)")
            }
            #expect(sample["mac"] == nil && sample["mac_key"] == nil && sample["xid"] == nil)
        }
    }

    @Test(arguments: [Role.admin, .caseworker, .partner])
    func otherRolesCannotReadTheTrail(role: Role) async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let (_, token) = try await app.loggedIn(role, in: organisation.id, client)
            expectProblem(try await client.send(.get, "/v1/audit-events", token: token), .forbidden)
            expectProblem(try await client.send(.get, "/v1/audit/verify", token: token), .forbidden)
            expectProblem(try await client.send(.get, "/v1/audit/checkpoint", token: token), .forbidden)
        }
    }

    @Test func onlyAuditorsVerify() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let (_, supervisorToken) = try await app.loggedIn(.supervisor, in: organisation.id, client)
            expectProblem(try await client.send(.get, "/v1/audit/verify", token: supervisorToken), .forbidden)
            expectProblem(try await client.send(.get, "/v1/audit/checkpoint", token: supervisorToken), .forbidden)
            let (_, auditorToken) = try await app.loggedIn(.auditor, in: organisation.id, client)
            let verify = try await client.send(.get, "/v1/audit/verify", token: auditorToken)
            #expect(verify.status == .ok, "\(verify.text)")
            #expect(try verify.json()["ok"] as? Bool == true, "\(verify.text)")
        }
    }

    @Test func auditEventsFilterAndPaginate() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            for _ in 0..<3 { _ = try await LoginTests.login(client, caseworker.user.username, "not-the-password") }
            _ = try await app.login(client, caseworker)
            let (auditor, token) = try await app.loggedIn(.auditor, in: organisation.id, client)

            let failed = try await client.send(.get, "/v1/audit-events?subtype=auth.login-failed&actor=\(caseworker.id)", token: token)
            let failedItems = try failed.jsonArray()
            #expect(failedItems.count == 3, "\(failed.text)")
            #expect(failedItems.allSatisfy { $0["outcome"] as? String == "denied" })
            // Ids are answered in upper case, as everywhere in the API.
            #expect(failedItems.allSatisfy { ($0["entity"] as? [String: Any])?["id"] as? String == caseworker.id.uuidString }, "\(failed.text)")
            let denied = try await client.send(.get, "/v1/audit-events?outcome=denied&actor=\(caseworker.id)", token: token)
            #expect(try denied.jsonArray().count == 3)

            var cursor: String?
            var ids: [Int] = []
            repeat {
                let page = try await client.send(.get, "/v1/audit-events?limit=2&actor=\(caseworker.id)" + (cursor.map { "&cursor=\($0)" } ?? ""), token: token)
                #expect(page.status == .ok, "\(page.text)")
                ids += try page.jsonArray().compactMap { $0["id"] as? Int }
                cursor = try page.json()["next_cursor"] as? String
            } while cursor != nil && ids.count < 50
            #expect(ids.count == 4)
            #expect(ids == ids.sorted(by: >), "newest first")

            // Reading the trail is on the trail: one event per page read, naming the filters only.
            let reads = try app.auditEvents(subtype: "audit.read").filter { $0["actor_user"] as? String == auditor.id.uuidString.lowercased() }
            #expect(reads.count == 2 + 2, "\(reads)")
            #expect(reads.allSatisfy { "\($0["detail"] ?? "")".contains("actor") && !"\($0["detail"] ?? "")".contains(caseworker.id.uuidString.lowercased()) },
                    "\(reads)")
            expectProblem(try await client.send(.get, "/v1/audit-events?outcome=maybe", token: token), .badRequest, field: "outcome")
            expectProblem(try await client.send(.get, "/v1/audit-events?from=yesterday", token: token), .badRequest, field: "from")
            expectProblem(try await client.send(.get, "/v1/audit-events?from=2026-06-01T00:00:00Z&to=2026-05-01T00:00:00Z", token: token),
                          .badRequest, field: "to")
        }
    }

    /// The application's role may only append; UPDATE, DELETE and TRUNCATE fail, and even the
    /// owner is stopped by the trigger.
    @Test func auditTrailIsAppendOnly() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            _ = try await app.login(client, caseworker)
            _ = try await AuditSealer(store: app.store).sealAll()
            let before = try app.auditRowTexts()
            #expect(!before.isEmpty)

            let application = try app.database.connect()
            try application.run(script: "SET haven.role = 'system'")
            for statement in ["UPDATE audit_event SET outcome = 'success'", "DELETE FROM audit_event", "TRUNCATE audit_event",
                              "UPDATE audit_seal SET hash = '\\x00'", "DELETE FROM audit_seal"] {
                let error = #expect(throws: PGError.self, "\(statement) as the application role") { try application.execute(statement) }
                #expect(error?.kind == .insufficientPrivilege, "\(statement): \(String(describing: error))")
            }
            let owner = try app.database.connect(as: DatabaseSetup.ownerRole)
            for statement in ["UPDATE audit_event SET outcome = 'success'", "DELETE FROM audit_event", "TRUNCATE audit_event",
                              "UPDATE audit_seal SET hash = '\\x00'", "DELETE FROM audit_seal"] {
                #expect(throws: PGError.self, "\(statement) as the owner") { try owner.execute(statement) }
            }
            #expect(try app.auditRowTexts() == before)
        }
    }
}
