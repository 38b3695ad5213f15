import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// `GET /metrics`: Prometheus text, requests counted by route and status, a latency histogram,
/// pool gauges.
@Suite struct MetricsTests {
    /// The value of the first sample of `name` whose labels include all of `labels`.
    static func sample(_ text: String, _ name: String, _ labels: [String: String]) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            let matches = labels.allSatisfy { key, value in line.contains("\(key)=\"\(value)\"") }
            if matches, let value = line.split(separator: " ").last.flatMap({ Double($0) }) { return value }
        }
        return nil
    }

    @Test func metricsArePrometheusText() async throws {
        try await TestApp.run { _, client in
            _ = try await client.send(.get, "/healthz")
            let response = try await client.send(.get, "/metrics")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.text
            #expect(text.contains("# TYPE haven_http_requests_total counter"), "\(text)")
            #expect(text.contains("# TYPE haven_http_request_duration_seconds histogram"), "\(text)")
            #expect(text.contains("haven_http_request_duration_seconds_bucket"))
            #expect(MetricsTests.sample(text, "haven_db_pool_connections_in_use", [:]) != nil, "\(text)")
            #expect(MetricsTests.sample(text, "haven_db_pool_waiters", [:]) != nil, "\(text)")
            // Every non-comment line is `name{labels} value` or `name value`.
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                #expect(Double(line.split(separator: " ").last ?? "") != nil, "not a sample line: \(line)")
            }
        }
    }

    @Test func requestsAreCountedByRouteAndStatus() async throws {
        try await TestApp.run { _, client in
            for _ in 0..<3 { _ = try await client.send(.get, "/healthz") }
            _ = try await client.send(.get, "/readyz")
            for _ in 0..<2 { _ = try await client.send(.post, "/v1/auth/login", json: ["username": "nobody", "password": "wrong-password-here"]) }
            _ = try await client.send(.get, "/v1/me")
            let text = try await client.send(.get, "/metrics").text
            let name = "haven_http_requests_total"
            #expect(MetricsTests.sample(text, name, ["method": "GET", "route": "/healthz", "status": "200"]) == 3, "\(text)")
            #expect(MetricsTests.sample(text, name, ["method": "GET", "route": "/readyz", "status": "200"]) == 1, "\(text)")
            #expect(MetricsTests.sample(text, name, ["method": "POST", "route": "/v1/auth/login", "status": "401"]) == 2, "\(text)")
            #expect(MetricsTests.sample(text, name, ["method": "GET", "route": "/v1/me", "status": "401"]) == 1, "\(text)")
            // The latency histogram counts the same requests.
            #expect(MetricsTests.sample(text, "haven_http_request_duration_seconds_count", ["method": "GET", "route": "/healthz"]) == 3, "\(text)")
        }
    }

    @Test func unknownPathsShareOneRouteLabel() async throws {
        try await TestApp.run { _, client in
            // Unmatched paths must not each create a time series (that would be a memory leak
            // an attacker can drive); they are counted under one label with status 404.
            for index in 0..<5 { _ = try await client.send(.get, "/random-\(index)-\(UUID().uuidString)") }
            let text = try await client.send(.get, "/metrics").text
            #expect(!text.contains("/random-"), "raw paths leaked into labels")
            let notFound = text.split(separator: "\n").filter { $0.hasPrefix("haven_http_requests_total{") && $0.contains("status=\"404\"") }
            let total = notFound.compactMap { $0.split(separator: " ").last.flatMap { Double($0) } }.reduce(0, +)
            #expect(total == 5, "\(text)")
        }
    }
}
