import Foundation
import Postgres

/// Roles and schema location. Migrations run as the schema owner; the application connects as
/// a member of `haven_app`, which owns no table and is no superuser, so row-level security holds.
public enum DatabaseSetup {
    public static let ownerRole = "haven_owner"
    public static let appRole = "haven_app"

    /// On a cluster Haven manages itself (embedded, tests): creates the owner and application
    /// login roles and the database when missing. Needs a superuser connection.
    public static func prepareCluster(superuser: PGConnection, database: String) throws {
        try prepareRoles(superuser: superuser)
        let exists = try superuser.query("SELECT 1 FROM pg_database WHERE datname = $1", [database]).rowCount > 0
        if !exists {
            try superuser.run(script: "CREATE DATABASE \(quoteIdentifier(database)) OWNER \(ownerRole)")
        }
    }

    /// The owner and application login roles, created when missing.
    public static func prepareRoles(superuser: PGConnection) throws {
        for (role, attributes) in [(ownerRole, "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB"), (appRole, "LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS")] {
            let exists = try superuser.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [role]).rowCount > 0
            // Role names and attributes are fixed strings from this file, never input.
            if !exists { try superuser.run(script: "CREATE ROLE \(role) \(attributes)") }
        }
    }

    /// Double-quotes an identifier that comes from configuration (a database name).
    public static func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    /// The `Schema/` folder: the given one, `HAVEN_SCHEMA_DIR`, `./Schema`, or the one beside the
    /// executable's install prefix (`share/haven/Schema`).
    public static func schemaDirectory(_ explicit: String? = nil) throws -> URL {
        var candidates: [String] = []
        if let explicit { candidates.append(explicit) }
        if let env = ProcessInfo.processInfo.environment["HAVEN_SCHEMA_DIR"] { candidates.append(env) }
        candidates.append(FileManager.default.currentDirectoryPath + "/Schema")
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "").resolvingSymlinksInPath()
        candidates.append(executable.deletingLastPathComponent().appendingPathComponent("../share/haven/Schema").path)
        // Source checkout: Sources/HavenStore/ → ../../Schema (tests, `swift run` from elsewhere).
        candidates.append(URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Schema").path)
        for candidate in candidates {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate + "/0001_identity.sql", isDirectory: &isDirectory) {
                return URL(fileURLWithPath: candidate).standardizedFileURL
            }
        }
        throw StoreError.configuration("the Schema folder was not found; run from the source checkout or set HAVEN_SCHEMA_DIR")
    }

    public static func migrator(schemaDirectory: URL) throws -> PGMigrator {
        PGMigrator(migrations: try PGMigration.load(directory: schemaDirectory))
    }
}
