import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Bearer tokens on `/v1`: required, checked, revoked at logout, expired when idle, revoked when
/// an admin deactivates the user or resets their password.
@Suite struct BearerTokenTests {
    static func expectRefused(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        expectProblem(response, .unauthorized, sourceLocation: sourceLocation)
        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "WWW-Authenticate", sourceLocation: sourceLocation)
    }

    /// Each rejected token is an audit event: an address sending garbage tokens is slowed
    /// down before it can grow the append-only trail at will.
    @Test func garbageTokensFromOneAddressAreRateLimited() async throws {
        try await TestApp.run(configuration: .heldBack(perMinute: 3)) { app, client in
            let before = try app.count("audit_event", where: "subtype = 'auth.token-rejected'")
            for _ in 0..<3 { BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: "garbage-\(UUID().uuidString)")) }
            let limited = try await client.send(.get, "/v1/me", token: "garbage-\(UUID().uuidString)")
            expectProblem(limited, .tooManyRequests)
            #expect(limited.headers[.retryAfter] == "60")
            #expect(try app.count("audit_event", where: "subtype = 'auth.token-rejected'") == before + 3)
            // Being held back is recorded once per spell, not once per refused request.
            expectProblem(try await client.send(.get, "/v1/me", token: "garbage-\(UUID().uuidString)"), .tooManyRequests)
            #expect(try app.count("audit_event", where: "subtype = 'auth.rate-limited' AND outcome = 'denied' AND detail = '{\"limit\":\"rejected-tokens\"}'") == 1)
        }
    }

    @Test func v1NeedsABearerToken() async throws {
        try await TestApp.run { _, client in
            for (method, path) in [(HTTPRequest.Method.get, "/v1/me"), (.get, "/v1/users"), (.get, "/v1/organisations"),
                                   (.get, "/v1/audit-events"), (.get, "/v1/audit/verify"), (.get, "/v1/audit/checkpoint"), (.post, "/v1/auth/logout")] {
                BearerTokenTests.expectRefused(try await client.send(method, path))
            }
            // Unauthenticated writes store nothing and still answer 401, not 4xx about the body.
            let create = try await client.send(.post, "/v1/organisations", json: ["name": "X", "type": "ngo", "country": "MD"])
            BearerTokenTests.expectRefused(create)
        }
    }

    @Test func garbageAndUnknownTokensAreRefused() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            let wellFormedButUnknown = "hvt_" + String(repeating: "A", count: 43)
            let variants: [HTTPFields] = [
                [.authorization: "Bearer garbage"],
                [.authorization: "Bearer "],
                [.authorization: "Bearer \(wellFormedButUnknown)"],
                [.authorization: "Bearer \(token)x"],
                [.authorization: "Bearer \(String(token.dropLast()))"],
                [.authorization: "Basic \(Data("user:pass".utf8).base64EncodedString())"],
                [.authorization: token],
                [.authorization: "Bearer"],
                [.authorization: "Bearer  \(token)"],
                [.authorization: "Bearez \(token)"],
                [.authorization: "Bearer \(token.uppercased())"],
            ]
            for headers in variants {
                BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", headers: headers))
            }
            // The genuine token still works, and is accepted with any case of the scheme.
            for scheme in ["bearer", "BEARER", "BeArEr"] {
                #expect(try await client.send(.get, "/v1/me", headers: [.authorization: "\(scheme) \(token)"]).status == .ok, "\(scheme)")
            }
            // Every rejection is an audit event.
            #expect(try app.auditEvents(subtype: "auth.token-rejected").count >= variants.count)
        }
    }

    @Test func logoutRevokesTheToken() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            let other = try await app.login(client, caseworker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            let logout = try await client.send(.post, "/v1/auth/logout", token: token)
            #expect(logout.status == .noContent, "\(logout.text)")
            BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: token))
            BearerTokenTests.expectRefused(try await client.send(.post, "/v1/auth/logout", token: token))
            // Logging out one session leaves the user's other sessions alone.
            #expect(try await client.send(.get, "/v1/me", token: other).status == .ok)
        }
    }

    /// A token unused for longer than the idle timeout (30 minutes by default) is refused; the
    /// half hour is moved into the past in the database, not waited for.
    @Test func idleTokenExpires() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            // Used 29 minutes ago: still good, and the use moves its idle clock on.
            try app.ownerScript("UPDATE session SET last_seen_at = now() - interval '29 minutes' WHERE user_id = $1", [caseworker.id])
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            #expect(try app.count("session", where: "user_id = $1 AND last_seen_at > now() - interval '1 minute'", [caseworker.id]) == 1)
            // Unused for 31 minutes: refused.
            try app.ownerScript("UPDATE session SET last_seen_at = now() - interval '31 minutes' WHERE user_id = $1", [caseworker.id])
            BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: token))
            // A new login works again.
            let fresh = try await app.login(client, caseworker)
            #expect(try await client.send(.get, "/v1/me", token: fresh).status == .ok)
        }
    }

    @Test func absoluteLifetimeEndsTheToken() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            // Push the session's absolute expiry into the past, as if twelve hours had gone by.
            try app.ownerScript("UPDATE session SET expires_at = now() - interval '1 second' WHERE user_id = $1", [caseworker.id])
            BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: token))
        }
    }

    @Test func deactivatingAUserRevokesTheirTokens() async throws {
        try await TestApp.run { app, client in
            let (_, adminToken) = try await app.admin(client)
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)

            let patch = try await client.send(.patch, "/v1/users/\(caseworker.id)", token: adminToken, json: ["active": false])
            #expect(patch.status == .ok, "\(patch.text)")
            #expect(try patch.json()["user"].flatMap { ($0 as? [String: Any])?["active"] as? Bool } == false)
            BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: token))
            #expect(try app.count("session", where: "user_id = $1 AND revoked_at IS NULL", [caseworker.id]) == 0)
            // And they cannot log in again.
            expectProblem(try await LoginTests.login(client, caseworker.user.username, caseworker.password), .unauthorized)
        }
    }

    @Test func passwordResetRevokesTokensAndForcesAChange() async throws {
        try await TestApp.run { app, client in
            let (_, adminToken) = try await app.admin(client)
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)

            let reset = strongPassword()
            let patch = try await client.send(.patch, "/v1/users/\(caseworker.id)", token: adminToken, json: ["password": reset])
            #expect(patch.status == .ok, "\(patch.text)")
            BearerTokenTests.expectRefused(try await client.send(.get, "/v1/me", token: token))
            expectProblem(try await LoginTests.login(client, caseworker.user.username, caseworker.password), .unauthorized)

            // The reset password logs in, but nothing except the password change works.
            let login = try await LoginTests.login(client, caseworker.user.username, reset)
            #expect(login.status == .ok, "\(login.text)")
            let resetToken = try #require(try login.json()["token"] as? String)
            let blocked = try await client.send(.get, "/v1/organisations", token: resetToken)
            expectProblem(blocked, .forbidden)
            #expect(blocked.problemType?.hasSuffix("password-change-required") == true, "\(blocked.text)")
            #expect(try app.count("audit_event", where: "subtype = 'auth.password-change-required' AND outcome = 'denied' AND actor_user = $1",
                                  [caseworker.id]) == 1, "the refusal is recorded")
            let me = try await client.send(.get, "/v1/me", token: resetToken)
            #expect(me.status == .ok)
            #expect(try me.json()["password_change_required"] as? Bool == true)

            // The change itself follows the policy and needs the current password.
            let weak = try await client.send(.post, "/v1/me/password", token: resetToken,
                                             json: ["current_password": reset, "new_password": "short"])
            expectProblem(weak, .unprocessableContent, field: "new_password")
            let wrongCurrent = try await client.send(.post, "/v1/me/password", token: resetToken,
                                                     json: ["current_password": "not-the-current-one", "new_password": strongPassword()])
            expectProblem(wrongCurrent, .unprocessableContent, field: "current_password")
            expectProblem(try await client.send(.get, "/v1/organisations", token: resetToken), .forbidden)

            let chosen = strongPassword()
            let change = try await client.send(.post, "/v1/me/password", token: resetToken,
                                               json: ["current_password": reset, "new_password": chosen])
            #expect(change.status == .noContent, "\(change.text)")
            #expect(try await client.send(.get, "/v1/organisations", token: resetToken).status == .ok)
            #expect(try await LoginTests.login(client, caseworker.user.username, chosen).status == .ok)
            expectProblem(try await LoginTests.login(client, caseworker.user.username, reset), .unauthorized)
        }
    }

    @Test func usersCreatedByAnAdminMustChangeTheirPassword() async throws {
        try await TestApp.run { app, client in
            let (admin, adminToken) = try await app.admin(client)
            let username = freshUsername("cw")
            let password = strongPassword()
            let created = try await client.send(.post, "/v1/users", token: adminToken, json: [
                "organisation_id": admin.organisationID.uuidString, "role": "caseworker", "username": username, "password": password,
            ])
            #expect(created.status == .created, "\(created.text)")
            let login = try await LoginTests.login(client, username, password)
            let token = try #require(try login.json()["token"] as? String)
            let blocked = try await client.send(.get, "/v1/organisations", token: token)
            expectProblem(blocked, .forbidden)
        }
    }
}
