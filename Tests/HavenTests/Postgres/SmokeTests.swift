import Foundation
import Postgres
import Testing

@Suite struct SmokeTests {
    @Test func clonedDatabaseAnswers() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let value = try connection.query("SELECT $1::int + 1", [41])[0].decode(Int.self, at: 0)
            #expect(value == 42)
        }
    }
}
