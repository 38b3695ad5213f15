import Foundation
import HavenAPI
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// With the session cache on (as `haven serve` runs), a logout, a deactivation and a password
/// change made through the same instance still end the session at once.
@Suite struct SessionCacheTests {
    static var cached: AppConfiguration {
        var configuration = AppConfiguration(host: "127.0.0.1", port: 0)
        configuration.sessionCacheLifetime = .seconds(60)
        return configuration
    }

    @Test func logoutEndsACachedSessionAtOnce() async throws {
        try await TestApp.run(configuration: Self.cached) { app, client in
            let org = try await app.organisation()
            let worker = try await app.user(.caseworker, in: org.id)
            let token = try await app.login(client, worker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            #expect(try await client.send(.post, "/v1/auth/logout", token: token).status == .noContent)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func deactivationEndsACachedSessionAtOnce() async throws {
        try await TestApp.run(configuration: Self.cached) { app, client in
            let org = try await app.organisation()
            let worker = try await app.user(.caseworker, in: org.id)
            let admin = try await app.user(.admin, in: org.id)
            let token = try await app.login(client, worker)
            let adminToken = try await app.login(client, admin)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            let patch = try await client.send(.patch, "/v1/users/\(worker.id.uuidString)", token: adminToken, json: ["active": false])
            #expect(patch.status == .ok)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .unauthorized)
        }
    }

    @Test func aCachedSessionIsServedWithoutTheDatabase() async throws {
        try await TestApp.run(configuration: Self.cached) { app, client in
            let org = try await app.organisation()
            let worker = try await app.user(.caseworker, in: org.id)
            let token = try await app.login(client, worker)
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
            // Revoked behind the application's back: the cached check still holds until it expires.
            let owner = try app.database.connect(as: "haven_owner")
            try owner.execute("UPDATE session SET revoked_at = now()")
            #expect(try await client.send(.get, "/v1/cases", token: token).status == .ok)
        }
    }
}
