import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Headers every answer carries: `X-Request-Id` (echoed when the client sent a sane one) and
/// `Cache-Control: no-store`.
@Suite struct ResponseHeaderTests {
    static let requestID = HTTPField.Name("X-Request-Id")!

    @Test func everyResponseHasRequestIdAndNoStore() async throws {
        try await TestApp.run { _, client in
            let responses = [
                try await client.send(.get, "/healthz"),
                try await client.send(.get, "/readyz"),
                try await client.send(.get, "/metrics"),
                try await client.send(.get, "/nope"),
                try await client.send(.delete, "/healthz"),
                try await client.send(.get, "/v1/me"),
                try await client.sendRaw(.post, "/v1/auth/login", body: "x", contentType: "text/plain"),
                try await client.sendRaw(.post, "/v1/auth/login", body: "{", contentType: "application/json"),
                try await client.send(.post, "/v1/auth/login", json: ["username": "nobody", "password": "wrong-password-here"]),
            ]
            var seen: Set<String> = []
            for response in responses {
                let id = response.headers[ResponseHeaderTests.requestID]
                #expect(id?.isEmpty == false, "no X-Request-Id on \(response.status)")
                #expect(response.headers[.cacheControl] == "no-store", "Cache-Control on \(response.status)")
                if let id { seen.insert(id) }
                if response.isProblem {
                    // The problem body quotes the same id, so a user can report it.
                    #expect(try response.json()["request_id"] as? String == id)
                }
            }
            #expect(seen.count == responses.count, "request ids are not unique: \(seen)")
        }
    }

    @Test func saneIncomingRequestIdIsEchoed() async throws {
        try await TestApp.run { _, client in
            for id in ["abc-123", "proxy_7f3e.0042", String(repeating: "a", count: 64)] {
                let ok = try await client.send(.get, "/healthz", headers: [ResponseHeaderTests.requestID: id])
                #expect(ok.headers[ResponseHeaderTests.requestID] == id)
                let error = try await client.send(.get, "/nope", headers: [ResponseHeaderTests.requestID: id])
                #expect(error.headers[ResponseHeaderTests.requestID] == id)
                #expect(try error.json()["request_id"] as? String == id)
            }
        }
    }

    @Test func unsafeIncomingRequestIdIsReplaced() async throws {
        try await TestApp.run { _, client in
            for id in ["has spaces in it", "quote\"d", String(repeating: "b", count: 65), "semi;colon", "ünïcode"] {
                let response = try await client.send(.get, "/healthz", headers: [ResponseHeaderTests.requestID: id])
                let answered = response.headers[ResponseHeaderTests.requestID]
                #expect(answered != nil && answered != id, "\(id) was echoed")
                #expect(answered?.isEmpty == false)
            }
        }
    }

    @Test func authenticatedAnswersAreNotCached() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            for path in ["/v1/me", "/v1/organisations", "/v1/users"] {
                let response = try await client.send(.get, path, token: token)
                #expect(response.status == .ok, "\(path): \(response.text)")
                #expect(response.headers[.cacheControl] == "no-store", "\(path)")
            }
        }
    }
}
