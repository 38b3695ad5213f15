import Foundation
import HavenCore
@testable import HavenStore
import Postgres
import Testing

/// Codes read back from the database: an unknown one is an error, in an array as in a single
/// column, never a default and never dropped (a dropped category would narrow what a referral
/// says it shares; a dropped service type, what an organisation says it provides).
@Suite struct CodeColumnTests {
    @Test func anUnknownCodeInAnArrayIsAnErrorNotDropped() async throws {
        try await TestApp.run { app, _ in
            let connection = try app.database.connect(as: DatabaseSetup.ownerRole)
            let known = try connection.query("SELECT ARRAY['profile', 'needs']::text[], NULL::text[]")[0]
            #expect(try known.codes(DataCategory.self, at: 0) == [.profile, .needs])
            #expect(try known.codes(DataCategory.self, at: 1).isEmpty)
            let unknown = try connection.query("SELECT ARRAY['profile', 'horoscope']::text[], 'horoscope'::text")[0]
            #expect(throws: StoreError.self) { try unknown.codes(DataCategory.self, at: 0) }
            #expect(throws: StoreError.self) { try unknown.code(DataCategory.self, at: 1) }
        }
    }
}
