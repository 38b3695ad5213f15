import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// `POST /v1/auth/login`: password, TOTP for supervisors and admins, one answer for every
/// failure, lockout and per-address rate limiting.
@Suite struct LoginTests {
    static func login(_ client: any TestClientProtocol, _ username: String, _ password: String, totp: String? = nil) async throws -> TestResponse {
        var body = ["username": username, "password": password]
        if let totp { body["totp"] = totp }
        return try await client.send(.post, "/v1/auth/login", json: body)
    }

    @Test func loginReturnsTokenExpiryAndUser() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let response = try await LoginTests.login(client, caseworker.user.username, caseworker.password)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.cacheControl] == "no-store")
            let body = try response.json()
            let token = try #require(body["token"] as? String)
            // 256 random bits, base64url: far more than the 128 bits required.
            #expect(token.count >= 40)
            let expiresAt = try #require((body["expires_at"] as? String).flatMap(Timestamps.parse))
            #expect(expiresAt > Date())
            let user = try #require(body["user"] as? [String: Any])
            #expect(user["id"] as? String == caseworker.id.uuidString)
            #expect(user["username"] as? String == caseworker.user.username)
            #expect(user["role"] as? String == "caseworker")
            #expect(user["organisation_id"] as? String == organisation.id.uuidString)
            #expect(user["password_hash"] == nil && user["password"] == nil)
            // The token works, and only a hash of it is stored.
            let me = try await client.send(.get, "/v1/me", token: token)
            #expect(me.status == .ok, "\(me.text)")
            #expect((try me.json()["user"] as? [String: Any])?["id"] as? String == caseworker.id.uuidString)
            #expect(try app.count("session", where: "position(convert_to($1, 'UTF8') in token_hash) > 0", [token]) == 0)
            #expect(try app.count("session", where: "user_id = $1", [caseworker.id]) == 1)
        }
    }

    @Test func usernameIsCaseInsensitive() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let response = try await LoginTests.login(client, caseworker.user.username.uppercased(), caseworker.password)
            #expect(response.status == .ok, "\(response.text)")
        }
    }

    @Test(arguments: [Role.supervisor, .admin, .auditor])
    func secondFactorIsRequired(role: Role) async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let user = try await app.user(role, in: organisation.id)
            let missing = try await LoginTests.login(client, user.user.username, user.password)
            expectProblem(missing, .unauthorized)
            let wrong = try await LoginTests.login(client, user.user.username, user.password, totp: TestApp.totp(user, offset: 10))
            expectProblem(wrong, .unauthorized)
            let garbage = try await LoginTests.login(client, user.user.username, user.password, totp: "abcdef")
            expectProblem(garbage, .unauthorized)
            let good = try await LoginTests.login(client, user.user.username, user.password, totp: TestApp.totp(user))
            #expect(good.status == .ok, "\(good.text)")
            #expect((try good.json()["user"] as? [String: Any])?["has_second_factor"] as? Bool == true)
        }
    }

    @Test func totpStepCannotBeReplayed() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let supervisor = try await app.user(.supervisor, in: organisation.id)
            let code = try #require(TestApp.totp(supervisor))
            let first = try await LoginTests.login(client, supervisor.user.username, supervisor.password, totp: code)
            #expect(first.status == .ok, "\(first.text)")
            let replay = try await LoginTests.login(client, supervisor.user.username, supervisor.password, totp: code)
            expectProblem(replay, .unauthorized)
            // A later step is still good.
            let next = try await LoginTests.login(client, supervisor.user.username, supervisor.password, totp: TestApp.totp(supervisor, offset: 1))
            #expect(next.status == .ok, "\(next.text)")
        }
    }

    /// Wrong password, unknown user, locked account, inactive account, missing or wrong second
    /// factor: one and the same answer, so none of them tells an attacker anything.
    @Test func everyFailureGetsTheSameAnswer() async throws {
        try await TestApp.run(configuration: .init(host: "127.0.0.1", port: 0, lockoutThreshold: 3)) { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let locked = try await app.user(.caseworker, in: organisation.id)
            let inactive = try await app.user(.caseworker, in: organisation.id)
            let supervisor = try await app.user(.supervisor, in: organisation.id)
            for _ in 0..<3 { _ = try await LoginTests.login(client, locked.user.username, "not-the-password") }
            _ = try await app.store.transaction(.system) { tx in
                try tx.connection.execute("UPDATE app_user SET active = false WHERE id = $1", [inactive.id])
            }

            let answers = [
                ("wrong password", try await LoginTests.login(client, caseworker.user.username, "not-the-password")),
                ("unknown user", try await LoginTests.login(client, "nobody-\(UUID().uuidString.prefix(6).lowercased())", "not-the-password")),
                ("locked account", try await LoginTests.login(client, locked.user.username, locked.password)),
                ("inactive account", try await LoginTests.login(client, inactive.user.username, inactive.password)),
                ("missing totp", try await LoginTests.login(client, supervisor.user.username, supervisor.password)),
                ("wrong totp", try await LoginTests.login(client, supervisor.user.username, supervisor.password, totp: TestApp.totp(supervisor, offset: 10))),
            ]
            func comparable(_ response: TestResponse) throws -> String {
                var body = try response.json()
                body["request_id"] = nil
                return String(decoding: try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys]), as: UTF8.self)
            }
            let reference = try comparable(answers[0].1)
            for (name, response) in answers {
                expectProblem(response, .unauthorized)
                #expect(try comparable(response) == reference, "\(name) answered differently: \(response.text)")
                #expect(response.headers[.wwwAuthenticate] == answers[0].1.headers[.wwwAuthenticate], "\(name)")
            }
        }
    }

    @Test func accountLocksAfterThresholdEvenWithTheRightPassword() async throws {
        try await TestApp.run(configuration: .init(host: "127.0.0.1", port: 0, lockoutThreshold: 3)) { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let other = try await app.user(.caseworker, in: organisation.id)
            // Two failures do not lock: the right password still works and resets the count.
            for _ in 0..<2 { expectProblem(try await LoginTests.login(client, caseworker.user.username, "not-the-password"), .unauthorized) }
            #expect(try await LoginTests.login(client, caseworker.user.username, caseworker.password).status == .ok)
            // Three in a row lock the account.
            for _ in 0..<3 { expectProblem(try await LoginTests.login(client, caseworker.user.username, "not-the-password"), .unauthorized) }
            let afterLock = try await LoginTests.login(client, caseworker.user.username, caseworker.password)
            expectProblem(afterLock, .unauthorized)
            #expect(try app.count("app_user", where: "id = $1 AND locked_until > now()", [caseworker.id]) == 1)
            #expect(try app.auditEvents(subtype: "auth.lockout").contains { $0["entity_id"] as? String == caseworker.id.uuidString.lowercased() })
            // Another account is unaffected.
            #expect(try await LoginTests.login(client, other.user.username, other.password).status == .ok)
        }
    }

    @Test func loginIsRateLimitedPerAddress() async throws {
        try await TestApp.run(configuration: .heldBack(perMinute: 3)) { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            for _ in 0..<3 {
                expectProblem(try await LoginTests.login(client, caseworker.user.username, "not-the-password"), .unauthorized)
            }
            // Over the rate, even the right password is refused, before it is checked.
            let limited = try await LoginTests.login(client, caseworker.user.username, caseworker.password)
            expectProblem(limited, .tooManyRequests)
            #expect(limited.headers[.retryAfter] != nil)
            #expect(try app.count("session") == 0)
            expectProblem(try await LoginTests.login(client, caseworker.user.username, caseworker.password), .tooManyRequests)
            #expect(try app.count("audit_event", where: "subtype = 'auth.rate-limited' AND outcome = 'denied' AND detail = '{\"limit\":\"login\"}'") == 1)
        }
    }

    /// Refusing is the safe side: a held-back address gets its 429 even when the event saying
    /// so cannot be written.
    @Test func aRateLimitStandsWhenItsEventCannotBeWritten() async throws {
        try await TestApp.run(configuration: .heldBack(perMinute: 1)) { app, client in
            let owner = try app.database.connect(as: DatabaseSetup.ownerRole)
            try owner.run(script: "ALTER TABLE audit_event ADD CONSTRAINT refuse_rate_limited CHECK (subtype <> 'auth.rate-limited') NOT VALID")
            defer { try? owner.run(script: "ALTER TABLE audit_event DROP CONSTRAINT refuse_rate_limited") }
            expectProblem(try await LoginTests.login(client, "nobody-here", "not-the-password"), .unauthorized)
            expectProblem(try await LoginTests.login(client, "nobody-here", "not-the-password"), .tooManyRequests)
        }
    }

    @Test func invalidLoginBodiesAre422() async throws {
        try await TestApp.run { _, client in
            expectProblem(try await LoginTests.login(client, "", "whatever-password"), .unprocessableContent, field: "username")
            expectProblem(try await LoginTests.login(client, "someone", ""), .unprocessableContent, field: "password")
            expectProblem(try await LoginTests.login(client, String(repeating: "u", count: 65), "whatever-password"), .unprocessableContent, field: "username")
        }
    }
}
