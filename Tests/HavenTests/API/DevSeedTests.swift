import Foundation
import HavenDev
import Testing

/// `haven dev seed` gives every user it makes one published password, so it writes only to a
/// database without cases, or adds to its own earlier seed when asked to.
@Suite("Development seed: only an empty database, or its own earlier seed")
struct DevSeedTests {
    @Test("the rule: no cases, or cases from an earlier seed with the flag that asks to add to it")
    func refusalRule() {
        #expect(SeedRefusal.refusal(existingCases: 0, earlierSeed: false, addingToEarlierSeed: false) == nil)
        #expect(SeedRefusal.refusal(existingCases: 0, earlierSeed: false, addingToEarlierSeed: true) == nil)
        #expect(SeedRefusal.refusal(existingCases: 3, earlierSeed: true, addingToEarlierSeed: false) == .databaseHoldsCases(3))
        #expect(SeedRefusal.refusal(existingCases: 3, earlierSeed: false, addingToEarlierSeed: false) == .databaseHoldsCases(3))
        #expect(SeedRefusal.refusal(existingCases: 3, earlierSeed: false, addingToEarlierSeed: true) == .noEarlierSeed(cases: 3))
        #expect(SeedRefusal.refusal(existingCases: 3, earlierSeed: true, addingToEarlierSeed: true) == nil)
    }

    @Test("the binary seeds an empty database, then refuses it (exit non-zero, naming the cases, nothing written) unless asked to add to its earlier seed")
    func refusesADatabaseWithCases() async throws {
        try await TestApp.run { app, _ in
            let folder = try OperatorCLITests.keyFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            let database = try OperatorCLITests.database(app, keyFolder: folder)
            let seed = ["dev", "seed", "--cases", "3", "--organisations", "2"] + database
            func counts() throws -> [Int] {
                try ["case_file", "organisation", "app_user", "audit_event", "audit_key"].map { try app.count($0) }
            }
            #expect(try app.count("case_file") == 0)

            let first = try OperatorCLITests.haven(seed)
            #expect(first.status == 0, "\(first.errors)")
            #expect(try app.count("case_file") == 3)

            let before = try counts()
            let again = try OperatorCLITests.haven(seed)
            #expect(again.status != 0)
            #expect(again.errors.contains("already holds 3 cases"), "\(again.errors)")
            #expect(try counts() == before, "nothing written by a refused seed")

            let more = try OperatorCLITests.haven(seed + ["--add-to-earlier-seed"])
            #expect(more.status == 0, "\(more.errors)")
            #expect(try app.count("case_file") == 6)

            // Cases that no seed made: adding is refused too.
            try app.ownerScript("UPDATE organisation SET name = 'Renamed ' || id::text")
            let unseeded = try counts()
            let onto = try OperatorCLITests.haven(seed + ["--add-to-earlier-seed"])
            #expect(onto.status != 0)
            #expect(onto.errors.contains("no earlier seed"), "\(onto.errors)")
            #expect(try counts() == unseeded)
        }
    }
}
