import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Sealing
import Testing

/// The second factor belongs to its user alone: the administrator hands over a first password,
/// never a TOTP secret; the user enrols their own authenticator at their first login, gets
/// recovery codes (stored hashed, each good once), and an administrator's reset makes them
/// enrol again.
@Suite struct SecondFactorEnrolmentTests {
    static func login(_ client: any TestClientProtocol, _ user: TestApp.TestUser, totp: String? = nil, recoveryCode: String? = nil) async throws -> TestResponse {
        var body = ["username": user.user.username, "password": user.password]
        if let totp { body["totp"] = totp }
        if let recoveryCode { body["recovery_code"] = recoveryCode }
        return try await client.send(.post, "/v1/auth/login", json: body)
    }

    static func secret(fromURI uri: String) -> [UInt8]? {
        URLComponents(string: uri)?.queryItems?.first { $0.name == "secret" }?.value.flatMap(Base32.decode)
    }

    @Test("the administrator who creates a supervisor, an administrator or an auditor is handed no TOTP secret, and none is stored yet")
    func creatingAUserHandsOverNoSecret() async throws {
        try await TestApp.run { app, client in
            let (admin, token) = try await app.admin(client)
            for role in ["supervisor", "admin", "auditor"] {
                let username = freshUsername(String(role.prefix(3)))
                let created = try await client.send(.post, "/v1/users", token: token,
                                                    json: UserAdministrationTests.draft(admin.organisationID, role: role, username: username))
                #expect(created.status == .created, "\(created.text)")
                #expect(!created.text.contains("otpauth"), "\(role): \(created.text)")
                #expect(try created.json()["totp_uri"] == nil, "\(role): \(created.text)")
                #expect((try created.json()["user"] as? [String: Any])?["has_second_factor"] as? Bool == false)
                #expect(try app.count("app_user", where: "username = $1 AND totp_secret IS NULL AND totp_pending IS NULL", [username]) == 1)
            }
        }
    }

    @Test("first login: the password opens a session that can only enrol; the user confirms their new secret with a code and gets 10 recovery codes; then the session works and later logins need the code",
          arguments: [Role.supervisor, .admin, .auditor])
    func firstLoginEnrolsTheAuthenticator(role: Role) async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let user = try await app.user(role, in: organisation.id, enrolled: false)
            let first = try await Self.login(client, user)
            #expect(first.status == .ok, "\(first.text)")
            #expect(try first.json()["second_factor_enrolment_required"] as? Bool == true)
            let token = try #require(try first.json()["token"] as? String)
            let own = "/v1/users/\(user.id.uuidString)"
            let me = try await client.send(.get, "/v1/me", token: token)
            #expect(try me.json()["second_factor_enrolment_required"] as? Bool == true, "\(me.text)")
            let refused = try await client.send(.get, own, token: token)
            expectProblem(refused, .forbidden)
            #expect(refused.problemType?.hasSuffix("second-factor-enrolment-required") == true, "\(refused.text)")
            #expect(try app.count("audit_event", where: "subtype = 'auth.second-factor-enrolment-required' AND actor_user = $1", [user.id]) == 1)

            let begun = try await client.send(.post, "/v1/me/second-factor", token: token)
            #expect(begun.status == .ok, "\(begun.text)")
            #expect(begun.headers[.cacheControl] == "no-store")
            let uri = try #require(try begun.json()["otpauth_uri"] as? String)
            let text = try #require(try begun.json()["secret"] as? String)
            #expect(uri.hasPrefix("otpauth://totp/Haven:") && uri.contains("secret=\(text)"), "\(uri)")
            let secret = try #require(Self.secret(fromURI: uri))
            // Sealed at rest, like the enrolled secret.
            #expect(try app.count("app_user", where: "id = $1 AND totp_pending IS NOT NULL AND position($2::bytea in totp_pending) = 0", [user.id, secret]) == 1)

            let now = Int64(Date().timeIntervalSince1970)
            let wrong = try await client.send(.post, "/v1/me/second-factor/confirm", token: token, json: ["code": TOTP(secret: secret).code(at: now + 600)])
            expectProblem(wrong, .unprocessableContent, field: "code")
            expectProblem(try await client.send(.get, own, token: token), .forbidden)

            let confirmed = try await client.send(.post, "/v1/me/second-factor/confirm", token: token, json: ["code": TOTP(secret: secret).code(at: now)])
            #expect(confirmed.status == .ok, "\(confirmed.text)")
            #expect(confirmed.headers[.cacheControl] == "no-store")
            let codes = try #require(try confirmed.json()["recovery_codes"] as? [String])
            #expect(codes.count == 10 && Set(codes).count == 10, "\(codes)")
            #expect(!confirmed.text.contains(text), "the secret is not shown again")

            // The same session now works; the secret is never shown again.
            #expect(try await client.send(.get, own, token: token).status == .ok)
            expectProblem(try await client.send(.post, "/v1/me/second-factor", token: token), .conflict)
            #expect(try app.count("audit_event", where: "subtype = 'auth.second-factor-enrol' AND actor_user = $1 AND outcome = 'success'", [user.id]) == 1)
            #expect(try app.count("audit_event", where: "subtype = 'auth.second-factor-enrol' AND actor_user = $1 AND outcome = 'denied'", [user.id]) == 1)

            // Stored sealed and hashed: neither the secret nor a code is in the database or the trail.
            #expect(try app.count("app_user", where: "id = $1 AND totp_pending IS NULL AND totp_secret IS NOT NULL AND position($2::bytea in totp_secret) = 0",
                                  [user.id, secret]) == 1)
            #expect(try app.count("recovery_code", where: "user_id = $1 AND used_at IS NULL", [user.id]) == 10)
            for code in codes {
                #expect(try app.count("recovery_code", where: "position(convert_to($1, 'UTF8') in code_hash) > 0", [code]) == 0)
            }
            for row in try app.auditRowTexts() {
                #expect(!row.contains(text) && !codes.contains(where: row.contains), "a secret in the trail: \(row)")
            }

            // From now on a login needs the code.
            expectProblem(try await Self.login(client, user), .unauthorized)
            let next = try await Self.login(client, user, totp: TOTP(secret: secret).code(at: now + 30))
            #expect(next.status == .ok, "\(next.text)")
            #expect(try next.json()["second_factor_enrolment_required"] as? Bool == false)
        }
    }

    @Test("auditors, who can download national data, log in with a second factor")
    func auditorsNeedASecondFactor() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let auditor = try await app.user(.auditor, in: organisation.id)
            expectProblem(try await Self.login(client, auditor), .unauthorized)
            let good = try await Self.login(client, auditor, totp: TestApp.totp(auditor))
            #expect(good.status == .ok, "\(good.text)")
        }
    }

    @Test("a recovery code logs in once in place of the TOTP code, and its use is an audit event")
    func recoveryCodeWorksOnce() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let supervisor = try await app.user(.supervisor, in: organisation.id)
            let code = try #require(supervisor.recoveryCodes.first)
            let used = try await Self.login(client, supervisor, recoveryCode: code.uppercased())
            #expect(used.status == .ok, "\(used.text)")
            let events = try app.auditEvents(subtype: "auth.recovery-code-used")
            #expect(events.count == 1)
            #expect(events.first?["actor_user"] as? String == supervisor.id.uuidString.lowercased())
            #expect(try app.count("recovery_code", where: "user_id = $1 AND used_at IS NOT NULL", [supervisor.id]) == 1)

            expectProblem(try await Self.login(client, supervisor, recoveryCode: code), .unauthorized)
            expectProblem(try await Self.login(client, supervisor, recoveryCode: "aaaa-bbbb-cccc-dddd"), .unauthorized)
            let another = try await Self.login(client, supervisor, recoveryCode: supervisor.recoveryCodes[1])
            #expect(another.status == .ok, "\(another.text)")
            #expect(try app.count("audit_event", where: "subtype = 'auth.recovery-code-used'") == 2)
        }
    }

    @Test("an administrator's reset clears the second factor and its recovery codes, ends the user's sessions, is audited, and the next login enrols again")
    func adminResetForcesReEnrolment() async throws {
        try await TestApp.run { app, client in
            let (admin, adminToken) = try await app.admin(client)
            let supervisor = try await app.user(.supervisor, in: admin.organisationID)
            let supervisorToken = try await app.login(client, supervisor)
            let path = "/v1/users/\(supervisor.id.uuidString)/second-factor/reset"

            // Only an administrator may.
            let (_, caseworkerToken) = try await app.loggedIn(.caseworker, in: admin.organisationID, client)
            #expect(try await client.send(.post, path, token: caseworkerToken).status.code >= 400)
            #expect(try app.count("app_user", where: "id = $1 AND totp_secret IS NOT NULL", [supervisor.id]) == 1)

            let reset = try await client.send(.post, path, token: adminToken)
            #expect(reset.status == .ok, "\(reset.text)")
            #expect(try reset.json()["has_second_factor"] as? Bool == false)
            #expect(try app.count("app_user", where: "id = $1 AND totp_secret IS NULL", [supervisor.id]) == 1)
            #expect(try app.count("recovery_code", where: "user_id = $1", [supervisor.id]) == 0)
            expectProblem(try await client.send(.get, "/v1/me", token: supervisorToken), .unauthorized)
            let events = try app.auditEvents(subtype: "user.second-factor-reset")
            #expect(events.count == 1)
            #expect(events.first?["entity_id"] as? String == supervisor.id.uuidString.lowercased())
            #expect(events.first?["actor_user"] as? String == admin.id.uuidString.lowercased())

            // The old code and recovery codes are gone; the password leads to enrolment only.
            let withOldCode = try await Self.login(client, supervisor, recoveryCode: supervisor.recoveryCodes[0])
            #expect(try withOldCode.json()["second_factor_enrolment_required"] as? Bool == true, "an old code opens no more than the password")
            #expect(try app.count("audit_event", where: "subtype = 'auth.recovery-code-used'") == 0)
            let again = try await Self.login(client, supervisor)
            #expect(again.status == .ok, "\(again.text)")
            #expect(try again.json()["second_factor_enrolment_required"] as? Bool == true)
            let token = try #require(try again.json()["token"] as? String)
            expectProblem(try await client.send(.get, "/v1/users/\(supervisor.id.uuidString)", token: token), .forbidden)
            let begun = try await client.send(.post, "/v1/me/second-factor", token: token)
            let secret = try #require(Self.secret(fromURI: try begun.json()["otpauth_uri"] as? String ?? ""))
            #expect(secret != supervisor.totpSecret, "a new secret")
        }
    }
}
