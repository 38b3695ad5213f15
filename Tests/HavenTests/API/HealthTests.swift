import Foundation
import HavenAPI
import HavenCore
import HavenDev
import HavenStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Postgres
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `/healthz` (the process answers) and `/readyz` (the database answers and its schema is
/// current; 503 otherwise).
@Suite struct HealthTests {
    @Test func healthzAnswersOK() async throws {
        try await TestApp.run { _, client in
            let response = try await client.send(.get, "/healthz")
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
            #expect(try response.json()["status"] as? String == "ok")
        }
    }

    @Test func readyzAnswersOKWithCurrentSchema() async throws {
        try await TestApp.run { _, client in
            let response = try await client.send(.get, "/readyz")
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(body["database"] as? String == "up")
            #expect(body["schema"] as? String == "current")
        }
    }

    /// A build that carries a migration the database has not applied is not ready.
    @Test func readyzAnswers503WithPendingMigration() async throws {
        try await withTestDatabase { database in
            let pool = try database.pool(size: 2)
            var migrations = try TestSchema.migrator().migrations
            migrations.append(PGMigration(version: 9999, name: "from_the_future", sql: "SELECT 1"))
            try await HealthTests.serve(pool: pool, migrator: PGMigrator(migrations: migrations)) { client in
                let response = try await client.send(.get, "/readyz")
                #expect(response.status == .serviceUnavailable, "\(response.text)")
                #expect(try response.json()["status"] as? String == "not-ready")
                #expect(response.header("X-Request-Id")?.isEmpty == false)
                // Liveness does not depend on the database.
                #expect(try await client.send(.get, "/healthz").status == .ok)
            }
        }
    }

    /// A PostgreSQL cluster of this test's own: ready, stopped (503), started again (ready).
    @Test func readyzFollowsTheDatabaseGoingDownAndComingBack() async throws {
        let cluster = try ScratchCluster()
        defer { cluster.destroy() }
        try cluster.startAndMigrate()
        let pool = PGPool(configuration: .init(
            conninfo: cluster.postgres.conninfo(user: DatabaseSetup.appRole, database: ScratchCluster.database),
            size: 2, acquireTimeout: .seconds(5), connection: .init(connectTimeoutSeconds: 2)))
        try await HealthTests.serve(pool: pool, migrator: try TestSchema.migrator()) { client in
            let before = try await client.send(.get, "/readyz")
            #expect(before.status == .ok, "\(before.text)")

            try cluster.postgres.stop(logger: TestApp.logger)
            let down = try await client.send(.get, "/readyz")
            #expect(down.status == .serviceUnavailable, "\(down.text)")
            #expect(try down.json()["status"] as? String == "not-ready")
            #expect(down.header("X-Request-Id")?.isEmpty == false)
            // The process itself stays alive.
            #expect(try await client.send(.get, "/healthz").status == .ok)
            // A request that needs the database answers 503 problem+json, not 500.
            let login = try await client.send(.post, "/v1/auth/login", json: ["username": "nobody", "password": "whatever-password"])
            expectProblem(login, .serviceUnavailable)

            try cluster.postgres.start(logger: TestApp.logger)
            let after = try await client.send(.get, "/readyz")
            #expect(after.status == .ok, "\(after.text)")
        }
    }

    /// Serves the real application on the given pool through the router test client.
    static func serve(pool: PGPool, migrator: PGMigrator, _ body: @Sendable @escaping (any TestClientProtocol) async throws -> Void) async throws {
        let store = try Store(pool: pool, keys: TestKeys.ring, logger: TestApp.logger)
        let credentials = Credentials.fast()
        let application = buildApplication(
            configuration: AppConfiguration(host: "127.0.0.1", port: 0),
            dependencies: HavenDependencies(store: store, schema: DatabaseSchema(migrator), hasher: credentials),
            logger: TestApp.logger)
        do {
            try await application.test(.router) { client in try await body(client) }
        } catch {
            await pool.close()
            await credentials.shutdown()
            throw error
        }
        await pool.close()
        await credentials.shutdown()
    }
}

/// A throwaway PostgreSQL cluster in a short folder under /tmp, never the shared test cluster.
struct ScratchCluster {
    static let database = "haven"
    let directory: String
    let postgres: EmbeddedPostgres

    init() throws {
        directory = "/tmp/hvr-\(UUID().uuidString.prefix(8).lowercased())"
        postgres = try EmbeddedPostgres(dataDirectory: directory, settings: [
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "log_min_messages": "fatal",
        ])
    }

    /// Starts it, creates the roles and the database, and migrates it as the owner, as the test
    /// cluster does.
    func startAndMigrate() throws {
        try postgres.start(logger: TestApp.logger)
        let superuser = try PGConnection(conninfo: postgres.conninfo())
        try DatabaseSetup.prepareRoles(superuser: superuser)
        try superuser.run(script: "CREATE DATABASE \(ScratchCluster.database) OWNER \(DatabaseSetup.ownerRole)")
        let owner = try PGConnection(conninfo: postgres.conninfo(user: DatabaseSetup.ownerRole, database: ScratchCluster.database))
        try TestSchema.migrator().migrate(owner)
    }

    /// Stops the server (if running) and deletes its folder.
    func destroy() {
        try? postgres.stop(logger: TestApp.logger)
        try? FileManager.default.removeItem(atPath: directory)
    }
}
