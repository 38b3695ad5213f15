import Foundation
import Postgres
import Sealing
import Testing

@Suite struct PGMigratorTests {
    /// A fresh folder of migration files, deleted afterwards.
    @discardableResult
    static func withMigrationFiles<T>(_ files: [String: String], _ body: (URL) async throws -> T) async throws -> T {
        let directory = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("hv-migrations-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, sql) in files { try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return try await body(directory)
    }

    struct Summary: Equatable {
        var applied: [Int]
        var pending: [Int]
    }

    static func summary(_ status: PGMigrator.Status) -> Summary { Summary(applied: status.applied, pending: status.pending) }

    static func write(_ sql: String, _ name: String, in directory: URL) throws {
        try sql.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }

    static func tableExists(_ connection: PGConnection, _ name: String) throws -> Bool {
        try connection.query("SELECT to_regclass($1) IS NOT NULL", [name])[0].decode(Bool.self, at: 0)
    }

    static func recorded(_ connection: PGConnection) throws -> [(Int, String, String)] {
        try connection.query("SELECT version, name, checksum FROM schema_migrations ORDER BY version").rows.map {
            (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(String.self, at: 2))
        }
    }

    static let first = """
        CREATE TABLE alpha (id int PRIMARY KEY);
        INSERT INTO alpha VALUES (1);
        """
    /// Depends on the first: applying out of order fails.
    static let second = """
        ALTER TABLE alpha ADD COLUMN label text NOT NULL DEFAULT 'x';
        CREATE TABLE beta (alpha_id int REFERENCES alpha(id));
        """

    @Test func appliesInOrderAndRecordsEach() async throws {
        try await Self.withMigrationFiles(["0002_b.sql": Self.second, "0001_a.sql": Self.first, "README.md": "not a migration"]) { directory in
            let migrations = try PGMigration.load(directory: directory)
            #expect(migrations.map(\.version) == [1, 2])
            #expect(migrations.map(\.name) == ["a", "b"])
            #expect(migrations.map(\.fileName) == ["0001_a.sql", "0002_b.sql"])
            #expect(migrations[0].sql == Self.first)
            try await withTestDatabase(template: nil) { database in
                let connection = try database.connect(as: "haven_owner")
                let migrator = PGMigrator(migrations: migrations)
                #expect(try Self.summary(migrator.status(connection)) == Self.Summary(applied: [], pending: [1, 2]))
                #expect(try migrator.migrate(connection) == [1, 2])
                #expect(try Self.tableExists(connection, "alpha"))
                #expect(try Self.tableExists(connection, "beta"))
                let rows = try Self.recorded(connection)
                #expect(rows.map(\.0) == [1, 2])
                #expect(rows.map(\.1) == ["a", "b"])
                // The checksum is SHA-256 of the file's bytes.
                #expect(rows.map(\.2) == [Hex.encode(Digest.sha256(Self.first)), Hex.encode(Digest.sha256(Self.second))])
                let status = try migrator.status(connection)
                #expect(Self.summary(status) == Self.Summary(applied: [1, 2], pending: []))
                #expect(status.isCurrent)
                #expect(try migrator.isCurrent(connection))

                // Running again applies nothing.
                #expect(try migrator.migrate(connection) == [])
                #expect(try Self.recorded(connection).count == 2)

                // A new file is pending, then applied alone.
                try Self.write("CREATE TABLE gamma (id int);", "0003_c.sql", in: directory)
                let three = PGMigrator(migrations: try PGMigration.load(directory: directory))
                #expect(try three.status(connection).pending == [3])
                #expect(try !three.isCurrent(connection))
                #expect(try three.migrate(connection) == [3])
                #expect(try three.isCurrent(connection))
            }
        }
    }

    @Test func editedAppliedMigrationIsAChecksumMismatch() async throws {
        try await Self.withMigrationFiles(["0001_a.sql": Self.first, "0002_b.sql": Self.second]) { directory in
            try await withTestDatabase(template: nil) { database in
                let connection = try database.connect(as: "haven_owner")
                try PGMigrator(migrations: try PGMigration.load(directory: directory)).migrate(connection)
                // Even a whitespace change counts.
                try Self.write(Self.first + "\n", "0001_a.sql", in: directory)
                try Self.write("CREATE TABLE delta (id int);", "0003_d.sql", in: directory)
                let edited = PGMigrator(migrations: try PGMigration.load(directory: directory))
                #expect(throws: PGMigrationError.checksumMismatch(file: "0001_a.sql")) { try edited.migrate(connection) }
                #expect(throws: PGMigrationError.checksumMismatch(file: "0001_a.sql")) { try edited.status(connection) }
                // Nothing after the bad file was applied.
                #expect(try !Self.tableExists(connection, "delta"))
                #expect(try Self.recorded(connection).map(\.0) == [1, 2])
                #expect("\(PGMigrationError.checksumMismatch(file: "0001_a.sql"))".contains("0001_a.sql"))
            }
        }
    }

    @Test func failingMigrationRollsBackCompletely() async throws {
        let failing = """
            CREATE TABLE half_done (id int);
            INSERT INTO half_done VALUES (1);
            ALTER TABLE alpha ADD COLUMN extra int;
            SELECT 1 / 0;
            """
        try await Self.withMigrationFiles(["0001_a.sql": Self.first, "0002_b.sql": Self.second, "0003_fails.sql": failing]) { directory in
            try await withTestDatabase(template: nil) { database in
                let connection = try database.connect(as: "haven_owner")
                let migrator = PGMigrator(migrations: try PGMigration.load(directory: directory))
                let error = PGTestSupport.pgError { try migrator.migrate(connection) }
                #expect(error?.sqlState == "22012")
                // The earlier migrations, each in its own transaction, stay applied.
                #expect(try Self.recorded(connection).map(\.0) == [1, 2])
                // The failing one left nothing behind and is not recorded.
                #expect(try !Self.tableExists(connection, "half_done"))
                let extra = try connection.query("SELECT count(*) FROM information_schema.columns WHERE table_name = 'alpha' AND column_name = 'extra'")
                #expect(try extra[0].decode(Int.self, at: 0) == 0)
                #expect(!connection.isInTransaction)
                #expect(try migrator.status(connection).pending == [3])

                // The advisory lock was released: another session can migrate once the file is fixed.
                try Self.write("CREATE TABLE half_done (id int);", "0003_fails.sql", in: directory)
                let other = try database.connect(as: "haven_owner")
                #expect(try PGMigrator(migrations: try PGMigration.load(directory: directory)).migrate(other) == [3])
                #expect(try Self.tableExists(other, "half_done"))
            }
        }
    }

    @Test func concurrentMigratorsApplyEachMigrationOnce() async throws {
        // The first migration takes a moment so the two overlap; neither uses IF NOT EXISTS, so
        // applying anything twice would fail.
        let files = [
            "0001_slow.sql": "SELECT pg_sleep(0.3); CREATE TABLE once_a (id int);",
            "0002_more.sql": "CREATE TABLE once_b (id int); INSERT INTO once_b VALUES (1);",
            "0003_last.sql": "CREATE TABLE once_c (id int);",
        ]
        try await Self.withMigrationFiles(files) { directory in
            let migrations = try PGMigration.load(directory: directory)
            try await withTestDatabase(template: nil) { database in
                let conninfo = try database.ownerURL
                let start = PGTestSupport.Barrier(count: 2)
                @Sendable func run() async throws -> [Int] {
                    try await PGTestSupport.onThread {
                        let connection = try PGConnection(conninfo: conninfo)
                        _ = start.arriveAndWait()
                        return try PGMigrator(migrations: migrations).migrate(connection)
                    }
                }
                async let a = run()
                async let b = run()
                let (applied1, applied2) = try await (a, b)
                #expect((applied1 + applied2).sorted() == [1, 2, 3])
                let connection = try database.connect(as: "haven_owner")
                #expect(try Self.recorded(connection).map(\.0) == [1, 2, 3])
                #expect(try connection.query("SELECT count(*) FROM once_b")[0].decode(Int.self, at: 0) == 1)
            }
        }
    }

    @Test func statusOnAnEmptyDatabaseCreatesNothing() async throws {
        try await withTestDatabase(template: nil) { database in
            let connection = try database.connect(as: "haven_owner")
            let migrator = PGMigrator(migrations: [PGMigration(version: 1, name: "a", sql: Self.first)])
            #expect(try Self.summary(migrator.status(connection)) == Self.Summary(applied: [], pending: [1]))
            #expect(try !Self.tableExists(connection, "schema_migrations"))
        }
    }

    @Test(arguments: ["abc.sql", "0001.sql", "x_name.sql", "_name.sql", "one_two.sql", "0001-name.sql"])
    func badlyNamedFilesAreRejected(_ name: String) async throws {
        try await Self.withMigrationFiles(["0001_ok.sql": "SELECT 1;", name: "SELECT 1;"]) { directory in
            #expect(throws: PGMigrationError.badFileName(name)) { try PGMigration.load(directory: directory) }
        }
    }

    /// A version is digits only: `Int("+001")` and `Int("-001")` would parse.
    @Test func signedVersionNumbersAreRejected() async throws {
        for name in ["-001_minus.sql", "+002_plus.sql"] {
            try await Self.withMigrationFiles([name: "SELECT 1;"]) { directory in
                #expect(throws: PGMigrationError.badFileName(name)) { try PGMigration.load(directory: directory) }
            }
        }
    }

    @Test func duplicateVersionsAreRejected() async throws {
        try await Self.withMigrationFiles(["0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 2;"]) { directory in
            do {
                _ = try PGMigration.load(directory: directory)
                Issue.record("duplicate versions were accepted")
            } catch let error as PGMigrationError {
                guard case .duplicateVersion(let a, let b) = error else {
                    Issue.record("unexpected \(error)")
                    return
                }
                #expect(Set([a, b]) == ["0001_a.sql", "0001_b.sql"])
            }
        }
        // Different spellings of the same number collide too.
        try await Self.withMigrationFiles(["0001_a.sql": "SELECT 1;", "1_b.sql": "SELECT 2;"]) { directory in
            #expect(throws: PGMigrationError.self) { try PGMigration.load(directory: directory) }
        }
    }

    @Test func otherFilesAreIgnoredAndOrderIsNumeric() async throws {
        let files = ["0010_ten.sql": "SELECT 10;", "0009_nine.sql": "SELECT 9;", "0100_hundred.sql": "SELECT 100;",
                     "notes.txt": "x", "0002_two.sql.bak": "x", ".hidden": "x"]
        try await Self.withMigrationFiles(files) { directory in
            let migrations = try PGMigration.load(directory: directory)
            #expect(migrations.map(\.version) == [9, 10, 100])
            #expect(migrations.map(\.name) == ["nine", "ten", "hundred"])
        }
        #expect(PGMigration(version: 12, name: "add_index", sql: "").fileName == "0012_add_index.sql")
    }

    /// The project's own schema applies to an empty database and is current afterwards.
    @Test func projectSchemaAppliesCleanly() async throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../Schema").standardizedFileURL
        let migrator = PGMigrator(migrations: try PGMigration.load(directory: directory))
        #expect(!migrator.migrations.isEmpty)
        try await withTestDatabase(template: nil) { database in
            let connection = try database.connect(as: "haven_owner")
            #expect(try migrator.migrate(connection) == migrator.migrations.map(\.version))
            #expect(try migrator.status(connection).isCurrent)
            #expect(try migrator.migrate(connection) == [])
        }
    }
}
