import Foundation

/// One SQL migration file: `NNNN_name.sql`.
public struct PGMigration: Sendable, Equatable {
    public var version: Int
    public var name: String
    public var sql: String

    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    public var fileName: String { String(format: "%04d_%@.sql", version, name) }

    /// Reads every `NNNN_name.sql` in a directory, in version order.
    public static func load(directory: URL) throws -> [PGMigration] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        var migrations: [PGMigration] = []
        for file in files where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), stem[..<underscore].allSatisfy(\.isASCII),
                  stem[..<underscore].allSatisfy(\.isNumber), let version = Int(stem[..<underscore]) else {
                throw PGMigrationError.badFileName(file)
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            migrations.append(PGMigration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw PGMigrationError.duplicateVersion(previous.fileName, next.fileName)
        }
        return migrations
    }
}

public enum PGMigrationError: Error, CustomStringConvertible, Equatable {
    case badFileName(String)
    case duplicateVersion(String, String)
    /// An applied migration's file changed since it was applied.
    case checksumMismatch(file: String)

    public var description: String {
        switch self {
        case .badFileName(let file): return "migration file \(file) is not named NNNN_name.sql"
        case .duplicateVersion(let a, let b): return "migrations \(a) and \(b) share a version number"
        case .checksumMismatch(let file):
            return "migration \(file) was edited after it was applied; add a new migration instead"
        }
    }
}

/// Applies migrations in order, each in its own transaction, recording a checksum of each file.
/// A session advisory lock makes concurrent migrators (several instances starting at once) take
/// turns; the second finds the work done.
public struct PGMigrator: Sendable {
    public struct Status: Sendable, Equatable {
        public var applied: [Int]
        public var pending: [Int]
        public var isCurrent: Bool { pending.isEmpty }
    }

    /// A fixed key for `pg_advisory_lock`, shared by every migrator of this schema.
    static let lockKey: Int64 = 0x4861_7665_6E4D_6967

    public let migrations: [PGMigration]

    public init(migrations: [PGMigration]) {
        self.migrations = migrations
    }

    /// Applies what is pending; returns the versions applied now.
    @discardableResult
    public func migrate(_ connection: PGConnection) throws -> [Int] {
        try connection.query("SELECT pg_advisory_lock($1)", [PGMigrator.lockKey])
        defer { _ = try? connection.query("SELECT pg_advisory_unlock($1)", [PGMigrator.lockKey]) }
        try connection.run(script: """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """)
        let applied = try appliedChecksums(connection)
        var done: [Int] = []
        for migration in migrations {
            let checksum = try self.checksum(of: migration, connection)
            if let recorded = applied[migration.version] {
                guard recorded == checksum else { throw PGMigrationError.checksumMismatch(file: migration.fileName) }
                continue
            }
            try connection.transaction { connection in
                try connection.run(script: migration.sql)
                try connection.execute(
                    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                    [migration.version, migration.name, checksum])
            }
            done.append(migration.version)
        }
        return done
    }

    /// What is applied and what is pending, checking the checksums of applied files.
    public func status(_ connection: PGConnection) throws -> Status {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL")
        guard try exists.first?.decode(Bool.self, at: 0) == true else {
            return Status(applied: [], pending: migrations.map(\.version))
        }
        let applied = try appliedChecksums(connection)
        var pending: [Int] = []
        for migration in migrations {
            guard let recorded = applied[migration.version] else {
                pending.append(migration.version)
                continue
            }
            if recorded != (try checksum(of: migration, connection)) {
                throw PGMigrationError.checksumMismatch(file: migration.fileName)
            }
        }
        return Status(applied: applied.keys.sorted(), pending: pending)
    }

    /// One cheap query for readiness probes: is every known migration recorded as applied?
    /// (Checksums are checked by `migrate` and `status`, at start.)
    public func isCurrent(_ connection: PGConnection) throws -> Bool {
        let result = try connection.query(
            "SELECT count(*) FROM schema_migrations WHERE version = ANY($1::int[])",
            [PGTextArray(migrations.map { String($0.version) })])
        return try result[0].decode(Int.self, at: 0) == migrations.count
    }

    private func appliedChecksums(_ connection: PGConnection) throws -> [Int: String] {
        var applied: [Int: String] = [:]
        for row in try connection.query("SELECT version, checksum FROM schema_migrations").rows {
            applied[try row.decode(Int.self, at: 0)] = try row.decode(String.self, at: 1)
        }
        return applied
    }

    /// SHA-256 of the file, computed by the server so this layer needs no crypto of its own.
    private func checksum(of migration: PGMigration, _ connection: PGConnection) throws -> String {
        let result = try connection.query("SELECT encode(sha256(convert_to($1, 'UTF8')), 'hex')", [migration.sql])
        return try result[0].decode(String.self, at: 0)
    }
}
