import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// The real server on a TCP port: requests the HTTP parser rejects get a 4xx problem+json and
/// the process keeps serving.
@Suite struct LiveServerTests {
    static func healthz(_ port: Int) async throws -> RawHTTP.Response {
        try await RawHTTP.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    }

    static func expectProblem(_ response: RawHTTP.Response, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect((400..<500).contains(response.status), "\(response)", sourceLocation: sourceLocation)
        #expect(response.isProblem, "\(response)", sourceLocation: sourceLocation)
        #expect(response.json["status"] as? Int == response.status, "\(response)", sourceLocation: sourceLocation)
        #expect(response.json["type"] != nil, "\(response)", sourceLocation: sourceLocation)
    }

    @Test func servesOverTCP() async throws {
        try await TestApp.run(.live) { _, client in
            let port = try #require(client.port)
            let response = try await LiveServerTests.healthz(port)
            #expect(response.status == 200, "\(response)")
            #expect(response.headers["x-request-id"]?.isEmpty == false)
            #expect(response.headers["cache-control"] == "no-store")
            #expect(try await client.send(.get, "/readyz").status == .ok)
        }
    }

    /// HEAD is answered like GET without a body (`Allow` lists it), so probes that use it work.
    @Test func headIsGetWithoutTheBody() async throws {
        try await TestApp.run(.live) { app, client in
            let port = try #require(client.port)
            let raw = try await RawHTTP.exchange(port: port, "HEAD /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            #expect(raw.status == 200, "\(raw)")
            #expect(raw.body.isEmpty, "\(raw)")
            #expect(raw.headers["content-type"]?.hasPrefix("application/json") == true, "\(raw)")
            let (_, token) = try await app.loggedIn(.caseworker, in: try await app.organisation().id, client)
            let me = try await client.send(.head, "/v1/me", token: token)
            #expect(me.status == .ok && me.body.readableBytes == 0, "\(me.text)")
            #expect(try await client.send(.head, "/v1/me").status == .unauthorized)
            // The connection goes on serving after a HEAD.
            #expect(try await client.send(.get, "/v1/me", token: token).status == .ok)
        }
    }

    @Test func malformedRequestLineGetsProblemAndServerSurvives() async throws {
        try await TestApp.run(.live) { _, client in
            let port = try #require(client.port)
            // Several connections in turn: each bad request is answered, not just the first.
            for request in ["THIS IS NOT HTTP\r\n\r\n", "GET /healthz HTTP/9.9.9 junk\r\n\r\n", "GET /healthz HTTP/1.1\r\nno colon header\r\n\r\n"] {
                let response = try await RawHTTP.exchange(port: port, request)
                LiveServerTests.expectProblem(response)
            }
            #expect(try await LiveServerTests.healthz(port).status == 200)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    @Test func oversizedHeaderGetsProblemAndServerSurvives() async throws {
        try await TestApp.run(.live) { _, client in
            let port = try #require(client.port)
            let huge = String(repeating: "a", count: 90 * 1024)
            for _ in 0..<2 {
                let response = try await RawHTTP.exchange(port: port, "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Huge: \(huge)\r\n\r\n")
                LiveServerTests.expectProblem(response)
            }
            #expect(try await LiveServerTests.healthz(port).status == 200)
            #expect(try await client.send(.get, "/healthz").status == .ok)
        }
    }

    /// A chunked body carries no Content-Length: the limit must hold while it streams in.
    @Test func streamedBodyOverTheLimitIs413() async throws {
        try await TestApp.run(.live, configuration: .init(host: "127.0.0.1", port: 0, bodyLimit: 1024)) { _, client in
            let port = try #require(client.port)
            let chunk = "{\"username\":\"someone\",\"password\":\"" + String(repeating: "p", count: 4000) + "\"}"
            let request = "POST /v1/auth/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + String(chunk.utf8.count, radix: 16) + "\r\n" + chunk + "\r\n0\r\n\r\n"
            let response = try await RawHTTP.exchange(port: port, request)
            #expect(response.status == 413, "\(response)")
            #expect(response.isProblem, "\(response)")
            #expect(response.headers["x-request-id"]?.isEmpty == false)
            #expect(try await LiveServerTests.healthz(port).status == 200)
        }
    }

    @Test func chunkedBodyOnGetIs400() async throws {
        try await TestApp.run(.live) { _, client in
            let port = try #require(client.port)
            let request = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + "2\r\n{}\r\n0\r\n\r\n"
            let response = try await RawHTTP.exchange(port: port, request)
            #expect(response.status == 400, "\(response)")
            #expect(response.isProblem, "\(response)")
        }
    }

    /// Answers the HTTP parser gives carry the same headers as every other answer.
    @Test func parserErrorAnswersCarryRequestIdAndNoStore() async throws {
        try await TestApp.run(.live) { _, client in
            let port = try #require(client.port)
            let response = try await RawHTTP.exchange(port: port, "THIS IS NOT HTTP\r\n\r\n")
            #expect(response.headers["x-request-id"]?.isEmpty == false, "\(response)")
            #expect(response.headers["cache-control"] == "no-store", "\(response)")
        }
    }

    /// Over a real socket the client address is known: the audit trail records it.
    @Test func auditEventsRecordTheClientAddress() async throws {
        try await TestApp.run(.live) { app, client in
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            _ = try await app.login(client, caseworker)
            let events = try app.auditEvents(subtype: "auth.login")
            #expect(events.count == 1)
            #expect(events.first?["actor_ip"] as? String == "127.0.0.1", "\(events)")
        }
    }
}
