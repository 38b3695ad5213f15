import HavenStore
import Postgres

/// Why `Seeder` will not write to a database. Seeding adds users who share a published password:
/// on a database holding real cases that is a way in, so it only fills an empty database, or
/// adds to one that it seeded before when asked to.
public enum SeedRefusal: Error, Equatable, CustomStringConvertible {
    /// The database holds this many cases.
    case databaseHoldsCases(Int)
    /// Asked to add to an earlier seed, but the cases there are not from one.
    case noEarlierSeed(cases: Int)

    public var description: String {
        switch self {
        case .databaseHoldsCases(let count):
            return "the database already holds \(count) cases; seeding only fills a database without cases"
        case .noEarlierSeed(let count):
            return "the database holds \(count) cases and no earlier seed (no seeded organisation); seeding adds only to its own data"
        }
    }

    /// The rule, apart from the database that answers it.
    public static func refusal(existingCases: Int, earlierSeed: Bool, addingToEarlierSeed: Bool) -> SeedRefusal? {
        guard existingCases > 0 else { return nil }
        guard addingToEarlierSeed else { return .databaseHoldsCases(existingCases) }
        return earlierSeed ? nil : .noEarlierSeed(cases: existingCases)
    }

    /// Reads what the rule needs and applies it; writes nothing.
    static func check(store: Store, addingToEarlierSeed: Bool) async throws -> SeedRefusal? {
        let pattern = Seeder.organisationNamePrefix + "%"
        let (cases, earlierSeed) = try await store.transaction(.system) { transaction -> (Int, Bool) in
            let row = try transaction.connection.query(
                "SELECT (SELECT count(*) FROM case_file), EXISTS (SELECT 1 FROM organisation WHERE name LIKE $1)", [pattern])[0]
            return (try row.decode(Int.self, at: 0), try row.decode(Bool.self, at: 1))
        }
        return refusal(existingCases: cases, earlierSeed: earlierSeed, addingToEarlierSeed: addingToEarlierSeed)
    }
}
