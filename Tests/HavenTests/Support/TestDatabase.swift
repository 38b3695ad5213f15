import Foundation
import HavenStore
import Logging
import Postgres
import Sealing
#if canImport(Glibc)
import Glibc
#endif

/// One throwaway PostgreSQL cluster per test process (or the server `DATABASE_URL` names, which
/// must accept a superuser), a template database migrated once, and a fresh clone of it for
/// every test, so tests run in parallel without sharing rows.
actor TestCluster {
    static let shared = TestCluster()

    struct Prepared: Sendable {
        /// A superuser connection string for the `postgres` database.
        var superuser: String
        var embedded: EmbeddedPostgres?
    }

    private var prepared: Prepared?
    private var counter = 0
    static let template = "haven_template"

    func prepare() async throws -> Prepared {
        if let prepared { return prepared }
        let logger = Logger(label: "haven.tests")
        var result: Prepared
        if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], !url.isEmpty {
            result = Prepared(superuser: url, embedded: nil)
        } else {
            TestCluster.sweepOrphans()
            let directory = "/tmp/haven-test-\(getpid())"
            try? FileManager.default.removeItem(atPath: directory)
            let cluster = try EmbeddedPostgres(dataDirectory: directory, settings: [
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "400", "shared_buffers": "'128MB'", "log_min_messages": "fatal",
            ])
            try cluster.start(logger: logger)
            TestCluster.registerCleanup(directory)
            result = Prepared(superuser: cluster.conninfo(), embedded: cluster)
        }
        let superuser = try PGConnection(conninfo: result.superuser)
        try DatabaseSetup.prepareRoles(superuser: superuser)
        try superuser.run(script: "DROP DATABASE IF EXISTS \(TestCluster.template)")
        try superuser.run(script: "CREATE DATABASE \(TestCluster.template) OWNER \(DatabaseSetup.ownerRole)")
        do {
            let owner = try PGConnection(conninfo: try PGConninfo.replacing(result.superuser, with: ["user": DatabaseSetup.ownerRole, "dbname": TestCluster.template]))
            try TestSchema.migrator().migrate(owner)
        }
        prepared = result
        return result
    }

    /// A new database cloned from the migrated template.
    func makeDatabase(template: String? = TestCluster.template) async throws -> TestDatabase {
        let prepared = try await prepare()
        counter += 1
        let name = "t\(getpid())_\(counter)"
        let superuser = try PGConnection(conninfo: prepared.superuser)
        if let template {
            try superuser.run(script: "CREATE DATABASE \(name) TEMPLATE \(template) OWNER \(DatabaseSetup.ownerRole)")
        } else {
            try superuser.run(script: "CREATE DATABASE \(name) OWNER \(DatabaseSetup.ownerRole)")
        }
        return TestDatabase(name: name, superuserURL: prepared.superuser, embedded: prepared.embedded)
    }

    // MARK: Cleanup

    nonisolated(unsafe) static var clusterDirectory: String?

    static func registerCleanup(_ directory: String) {
        clusterDirectory = directory
        atexit {
            guard let directory = TestCluster.clusterDirectory, let cluster = try? EmbeddedPostgres(dataDirectory: directory) else { return }
            try? cluster.kill(logger: Logger(label: "haven.tests"))
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Clusters left by test processes that crashed before their exit handler ran.
    static func sweepOrphans() {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/tmp") else { return }
        for entry in entries where entry.hasPrefix("haven-test-") {
            guard let pid = Int32(entry.dropFirst("haven-test-".count)), kill(pid, 0) != 0 else { continue }
            let directory = "/tmp/\(entry)"
            if let cluster = try? EmbeddedPostgres(dataDirectory: directory) { try? cluster.kill(logger: Logger(label: "haven.tests")) }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

enum TestSchema {
    static func directory() throws -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Schema").standardizedFileURL
    }

    static func migrator() throws -> PGMigrator {
        try DatabaseSetup.migrator(schemaDirectory: try directory())
    }
}

/// A database of its own for one test.
final class TestDatabase: Sendable {
    let name: String
    let superuserURL: String
    let embedded: EmbeddedPostgres?

    init(name: String, superuserURL: String, embedded: EmbeddedPostgres?) {
        self.name = name
        self.superuserURL = superuserURL
        self.embedded = embedded
    }

    func url(user: String) throws -> String {
        try PGConninfo.replacing(superuserURL, with: ["user": user, "dbname": name])
    }

    var appURL: String { get throws { try url(user: DatabaseSetup.appRole) } }
    var ownerURL: String { get throws { try url(user: DatabaseSetup.ownerRole) } }
    var superuserDatabaseURL: String { get throws { try url(user: "postgres") } }

    func connect(as user: String = DatabaseSetup.appRole) throws -> PGConnection {
        try PGConnection(conninfo: try url(user: user))
    }

    func pool(size: Int = 4, acquireTimeout: Duration = .seconds(5), statementTimeoutMilliseconds: Int? = nil) throws -> PGPool {
        PGPool(configuration: .init(
            conninfo: try appURL, size: size, acquireTimeout: acquireTimeout,
            connection: .init(statementTimeoutMilliseconds: statementTimeoutMilliseconds)))
    }

    func drop() throws {
        let superuser = try PGConnection(conninfo: superuserURL)
        try superuser.run(script: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }
}

/// Runs `body` with a fresh database and drops it afterwards.
func withTestDatabase<T>(template: String? = TestCluster.template, _ body: (TestDatabase) async throws -> T) async throws -> T {
    let database = try await TestCluster.shared.makeDatabase(template: template)
    do {
        let value = try await body(database)
        try? database.drop()
        return value
    } catch {
        try? database.drop()
        throw error
    }
}

enum TestKeys {
    /// A fixed synthetic key ring for tests.
    static let ring: KeyRing = {
        // Known constant input; cannot fail.
        try! KeyRing(text: "k1 \(String(repeating: "11", count: 32))\nk2 \(String(repeating: "22", count: 32))\n")
    }()
}
