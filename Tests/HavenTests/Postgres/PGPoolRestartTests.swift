import Foundation
import Logging
import Postgres
import Testing

/// A pool outlives its server: a clean restart and a crash both cost callers at most one
/// failed request. Runs against a private cluster (never the shared one).
@Suite struct PGPoolRestartTests {
    static let logger = Logger(label: "haven.tests.restart")

    /// Runs `count` requests one after another; returns which succeeded.
    static func requests(_ pool: PGPool, count: Int) async -> [Bool] {
        var outcomes: [Bool] = []
        for index in 0..<count {
            do {
                let value = try await pool.withConnection { connection in
                    try connection.query("SELECT $1::int8 + 1", [index])[0].decode(Int.self, at: 0)
                }
                outcomes.append(value == index + 1)
            } catch {
                outcomes.append(false)
            }
        }
        return outcomes
    }

    @Test func poolSurvivesRestartAndCrash() async throws {
        try await PGTestSupport.withPrivateCluster { cluster in
            #expect(try cluster.start(logger: Self.logger) == .initialised)
            let pool = PGPool(configuration: .init(conninfo: cluster.conninfo(), size: 3, acquireTimeout: .seconds(30)))
            // Open all three connections.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 { group.addTask { _ = try await pool.withConnection { _ = try $0.query("SELECT pg_sleep(0.05)") } } }
                try await group.waitForAll()
            }
            try await pool.transaction { try $0.run(script: "CREATE TABLE survivors (n int); INSERT INTO survivors VALUES (1)") }

            // A clean restart.
            try cluster.stop(logger: Self.logger)
            #expect(!cluster.isAnswering())
            #expect(try cluster.start(logger: Self.logger) == .started)
            let afterRestart = await Self.requests(pool, count: 6)
            #expect(afterRestart.dropFirst().allSatisfy { $0 }, "\(afterRestart)")
            let concurrent = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<6 { group.addTask { try await pool.withConnection { try $0.query("SELECT count(*) FROM survivors")[0].decode(Int.self, at: 0) } } }
                return try await group.reduce(0, +)
            }
            #expect(concurrent == 6)

            // A crash (immediate shutdown, as kill -9 of the backends would leave it).
            try cluster.kill(logger: Self.logger)
            #expect(!cluster.isAnswering())
            try cluster.start(logger: Self.logger)
            let afterCrash = await Self.requests(pool, count: 6)
            #expect(afterCrash.dropFirst().allSatisfy { $0 }, "\(afterCrash)")
            let transactional = try await pool.transaction { connection -> Int in
                try connection.execute("INSERT INTO survivors VALUES ($1)", [2])
                return try connection.query("SELECT count(*) FROM survivors")[0].decode(Int.self, at: 0)
            }
            #expect(transactional == 2)

            // While the server is down, callers get connectionLost (never a hang or a crash).
            try cluster.stop(logger: Self.logger)
            let down = await PGTestSupport.pgError { _ = try await pool.withConnection { _ = try $0.query("SELECT 1") } }
            #expect(down?.kind == .connectionLost)
            #expect(pool.statistics.inUse == 0)
            try cluster.start(logger: Self.logger)
            let back = await Self.requests(pool, count: 3)
            #expect(back.dropFirst().allSatisfy { $0 }, "\(back)")
            await pool.close()
        }
    }
}
