import ArgumentParser
import Foundation
import HavenStore

/// Where the database is and how to reach it; shared by every command that touches it.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "PostgreSQL URL for the application role. Unset: run an embedded PostgreSQL. (env DATABASE_URL)")
    var databaseURL: String?

    @Option(name: .long, help: "PostgreSQL URL of the schema owner, for migrations (default: the database URL). (env HAVEN_MIGRATION_DATABASE_URL)")
    var migrationDatabaseURL: String?

    @Option(name: .long, help: "Data folder of the embedded PostgreSQL. (env HAVEN_DATA_DIR, default .haven/pg)")
    var dataDir: String?

    @Option(name: .long, help: "Key file: one '<id> <64 hex digits>' per line, newest last. (env HAVEN_KEYS_FILE, default beside the data folder)")
    var keysFile: String?

    @Option(name: .long, help: "Folder of the SQL migrations. (env HAVEN_SCHEMA_DIR, default ./Schema)")
    var schemaDir: String?

    @Option(name: .long, help: "Folder of the signed audit checkpoints, outside the database. (env HAVEN_AUDIT_CHECKPOINT_DIR, default audit-checkpoints beside the key file)")
    var auditCheckpointDir: String?

    var resolvedDatabaseURL: String? { databaseURL ?? Environment.value("DATABASE_URL") }
    var resolvedMigrationURL: String? { migrationDatabaseURL ?? Environment.value("HAVEN_MIGRATION_DATABASE_URL") }
    var resolvedDataDir: String { dataDir ?? Environment.value("HAVEN_DATA_DIR") ?? ".haven/pg" }
    var resolvedKeysFile: String {
        if let path = keysFile ?? Environment.value("HAVEN_KEYS_FILE") { return path }
        return URL(fileURLWithPath: resolvedDataDir).standardizedFileURL.deletingLastPathComponent().appendingPathComponent("keys").path
    }
    var resolvedSchemaDir: String? { schemaDir ?? Environment.value("HAVEN_SCHEMA_DIR") }
    var resolvedCheckpointFolder: AuditCheckpointFolder {
        if let path = auditCheckpointDir ?? Environment.value("HAVEN_AUDIT_CHECKPOINT_DIR") { return AuditCheckpointFolder(path: path) }
        return AuditCheckpointFolder.beside(keyFile: resolvedKeysFile)
    }
}

struct PoolOptions: ParsableArguments {
    @Option(name: .long, help: "Database connections in the pool. (env HAVEN_POOL_SIZE, default 10)")
    var poolSize: Int?

    @Option(name: .long, help: "Seconds a request waits for a free connection before a 503. (env HAVEN_POOL_TIMEOUT, default 5)")
    var poolTimeout: Double?

    @Option(name: .long, help: "Statement timeout in milliseconds, 0 for none. (env HAVEN_STATEMENT_TIMEOUT_MS, default 30000)")
    var statementTimeoutMs: Int?

    @Flag(name: .long, help: "Behind PgBouncer in transaction mode: no named prepared statements. (env HAVEN_PGBOUNCER=1)")
    var pgbouncer = false

    var resolvedSize: Int { poolSize ?? Environment.value("HAVEN_POOL_SIZE").flatMap(Int.init) ?? 10 }
    var resolvedTimeout: Double { poolTimeout ?? Environment.value("HAVEN_POOL_TIMEOUT").flatMap(Double.init) ?? 5 }
    var resolvedStatementTimeout: Int? {
        let value = statementTimeoutMs ?? Environment.value("HAVEN_STATEMENT_TIMEOUT_MS").flatMap(Int.init) ?? 30_000
        return value > 0 ? value : nil
    }
    var resolvedPgBouncer: Bool { pgbouncer || Environment.value("HAVEN_PGBOUNCER") == "1" }
}
