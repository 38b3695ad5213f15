import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Every error is `application/problem+json` (RFC 9457) with the right status and, for a bad
/// field, the field named; never a 500.
@Suite struct ProblemResponseTests {
    @Test func unknownRouteIs404Problem() async throws {
        try await TestApp.run { _, client in
            for path in ["/nope", "/v1/no-such-thing", "/v1/users/not-a-uuid/extra"] {
                let response = try await client.send(.get, path)
                expectProblem(response, .notFound)
            }
        }
    }

    @Test func wrongMethodIs405WithAllow() async throws {
        try await TestApp.run { _, client in
            let response = try await client.send(.delete, "/healthz")
            expectProblem(response, .methodNotAllowed)
            let allow = response.headers[.allow] ?? ""
            #expect(allow.contains("GET"), "Allow: \(allow)")
            #expect(!allow.contains("DELETE"))

            // A parameterised path: PUT /v1/users/{id} is not a route, GET and PATCH are.
            let users = try await client.send(.put, "/v1/users/\(UUID().uuidString)")
            expectProblem(users, .methodNotAllowed)
            let usersAllow = users.headers[.allow] ?? ""
            #expect(usersAllow.contains("GET") && usersAllow.contains("PATCH"), "Allow: \(usersAllow)")

            let login = try await client.send(.get, "/v1/auth/login")
            expectProblem(login, .methodNotAllowed)
            #expect(login.headers[.allow]?.contains("POST") == true)
        }
    }

    @Test func bodyOverTheLimitByContentLengthIs413() async throws {
        try await TestApp.run { _, client in
            // The default limit is 1 MiB; one byte more is refused before any route runs.
            let body = String(repeating: "a", count: (1 << 20) + 1)
            let response = try await client.sendRaw(.post, "/v1/auth/login", body: body, contentType: "application/json")
            expectProblem(response, .contentTooLarge)
        }
    }

    @Test func configuredBodyLimitIs413() async throws {
        try await TestApp.run(configuration: .init(host: "127.0.0.1", port: 0, bodyLimit: 512)) { _, client in
            let padding = String(repeating: "x", count: 600)
            let response = try await client.send(.post, "/v1/auth/login", json: ["username": "someone", "password": padding])
            expectProblem(response, .contentTooLarge)
            // Under the limit, the same route answers normally (401 for wrong credentials).
            let small = try await client.send(.post, "/v1/auth/login", json: ["username": "someone", "password": "short-but-wrong"])
            expectProblem(small, .unauthorized)
        }
    }

    @Test func wrongContentTypeIs415() async throws {
        try await TestApp.run { _, client in
            let json = #"{"username":"someone","password":"whatever-it-is"}"#
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "application/xml"] {
                let response = try await client.sendRaw(.post, "/v1/auth/login", body: json, contentType: contentType)
                expectProblem(response, .unsupportedMediaType)
            }
            let missing = try await client.sendRaw(.post, "/v1/auth/login", body: json, contentType: nil)
            expectProblem(missing, .unsupportedMediaType)
            // A JSON media type with parameters is fine.
            let withCharset = try await client.sendRaw(.post, "/v1/auth/login", body: json, contentType: "application/json; charset=utf-8")
            #expect(withCharset.status == .unauthorized, "\(withCharset.text)")
        }
    }

    @Test func bodyOnGetIs400() async throws {
        try await TestApp.run { _, client in
            let response = try await client.sendRaw(.get, "/healthz", body: #"{"a":1}"#, contentType: "application/json")
            expectProblem(response, .badRequest, field: "body")
            // Refused before authentication: no token needed to learn the request is malformed.
            let me = try await client.sendRaw(.get, "/v1/me", body: "x", contentType: "text/plain")
            expectProblem(me, .badRequest)
        }
    }

    @Test func malformedJSONIs400() async throws {
        try await TestApp.run { _, client in
            for body in [#"{"username": "a", "#, "not json at all", #"["username"]"#, "{}}"] {
                let response = try await client.sendRaw(.post, "/v1/auth/login", body: body, contentType: "application/json")
                #expect(response.status == .badRequest || response.status == .unprocessableContent, "\(body): \(response.status)")
                #expect(response.isProblem, "\(body)")
                #expect(response.status != .internalServerError)
            }
            let truncated = try await client.sendRaw(.post, "/v1/auth/login", body: #"{"username": "a", "#, contentType: "application/json")
            expectProblem(truncated, .badRequest, field: "body")
        }
    }

    @Test func wrongTypeIs422NamingTheField() async throws {
        try await TestApp.run { _, client in
            let response = try await client.sendRaw(.post, "/v1/auth/login", body: #"{"username": 42, "password": "whatever-it-is"}"#, contentType: "application/json")
            expectProblem(response, .unprocessableContent, field: "username")
            let array = try await client.sendRaw(.post, "/v1/auth/login", body: #"{"username": "a", "password": ["x"]}"#, contentType: "application/json")
            expectProblem(array, .unprocessableContent, field: "password")
        }
    }

    @Test func missingFieldIs422NamingTheField() async throws {
        try await TestApp.run { _, client in
            let response = try await client.send(.post, "/v1/auth/login", json: ["username": "someone"])
            expectProblem(response, .unprocessableContent, field: "password")
            let null = try await client.sendRaw(.post, "/v1/auth/login", body: #"{"username": null, "password": "whatever-it-is"}"#, contentType: "application/json")
            expectProblem(null, .unprocessableContent, field: "username")
        }
    }

    @Test func unknownEnumValueIs422NamingTheField() async throws {
        try await TestApp.run { app, client in
            let (_, token) = try await app.admin(client)
            let type = try await client.sendRaw(.post, "/v1/organisations", token: token,
                                                body: #"{"name": "Pirates", "type": "pirate_ship", "country": "MD"}"#, contentType: "application/json")
            expectProblem(type, .unprocessableContent, field: "type")
            let nested = try await client.sendRaw(.post, "/v1/organisations", token: token,
                                                  body: #"{"name": "Clinic", "type": "health", "country": "MD", "mandate": {"service_types": ["medical", "teleportation"]}}"#,
                                                  contentType: "application/json")
            expectProblem(nested, .unprocessableContent, field: "mandate.service_types[1]")
            #expect(try app.count("organisation", where: "name IN ('Pirates', 'Clinic')") == 0)
        }
    }
}
