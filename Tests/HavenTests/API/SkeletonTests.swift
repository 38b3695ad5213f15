import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

@Suite struct SkeletonTests {
    @Test func healthAndReadiness() async throws {
        try await TestApp.run { _, client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok)
            #expect(health.headers[HTTPField.Name("X-Request-Id")!]?.isEmpty == false)
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok, "\(ready.text)")
        }
    }
}
