import Foundation
import HavenStore
import Logging
import Postgres
import Sealing

/// The database a command runs against: the one `DATABASE_URL` names, or an embedded cluster
/// started (or found running) in the data folder.
struct DatabaseRuntime {
    var appURL: String
    var ownerURL: String
    var embedded: EmbeddedPostgres?
    /// How the embedded cluster came up; `.adopted` means another process may be using it.
    var outcome: EmbeddedPostgres.StartOutcome?

    static let databaseName = "haven"

    static func start(_ options: DatabaseOptions, logger: Logger) throws -> DatabaseRuntime {
        if let url = options.resolvedDatabaseURL {
            logger.info("using the database from DATABASE_URL")
            return DatabaseRuntime(appURL: url, ownerURL: options.resolvedMigrationURL ?? url)
        }
        let cluster = try EmbeddedPostgres(dataDirectory: options.resolvedDataDir)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: cluster.dataDirectory).deletingLastPathComponent(), withIntermediateDirectories: true)
        let outcome = try cluster.start(logger: logger)
        logger.info("embedded PostgreSQL \(outcome)", metadata: ["socket_dir": "\(cluster.dataDirectory)"])
        let superuser = try PGConnection(conninfo: cluster.conninfo())
        try DatabaseSetup.prepareCluster(superuser: superuser, database: databaseName)
        return DatabaseRuntime(
            appURL: cluster.conninfo(user: DatabaseSetup.appRole, database: databaseName),
            ownerURL: cluster.conninfo(user: DatabaseSetup.ownerRole, database: databaseName),
            embedded: cluster, outcome: outcome)
    }

    /// Stops the embedded cluster if this process brought it up (or `force`, for `serve`).
    func stop(logger: Logger, force: Bool = false) {
        guard let embedded, force || outcome != .adopted else { return }
        do {
            try embedded.stop(logger: logger)
        } catch {
            logger.error("stopping the embedded PostgreSQL failed", metadata: ["error": "\(error)"])
        }
    }

    func requireCurrentSchema(_ options: DatabaseOptions) throws {
        let migrator = try DatabaseSetup.migrator(schemaDirectory: try DatabaseSetup.schemaDirectory(options.resolvedSchemaDir))
        let connection = try PGConnection(conninfo: appURL)
        guard (try? migrator.isCurrent(connection)) == true else {
            throw CLIError("the database schema is not current: run `haven migrate` with the owner's URL first")
        }
    }

    func migrate(_ options: DatabaseOptions, logger: Logger) throws -> [Int] {
        let migrator = try DatabaseSetup.migrator(schemaDirectory: try DatabaseSetup.schemaDirectory(options.resolvedSchemaDir))
        let connection = try PGConnection(conninfo: ownerURL)
        return try migrator.migrate(connection)
    }
}

enum KeyFile {
    /// Loads the key ring; for a default path that does not exist yet, writes a new key first
    /// and warns that it must be backed up apart from the database.
    static func load(_ options: DatabaseOptions, logger: Logger) throws -> KeyRing {
        let path = options.resolvedKeysFile
        let explicit = options.keysFile != nil || Environment.value("HAVEN_KEYS_FILE") != nil
        if !FileManager.default.fileExists(atPath: path) {
            guard !explicit else { throw CLIError("key file \(path) does not exist") }
            try FileManager.default.createDirectory(at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true)
            let line = try KeyRing.generateKeyLine(id: "k1")
            let text = "# Haven key file: '<id> <64 hex digits>' per line; the last line encrypts, all decrypt.\n\(line)\n"
            guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
                throw CLIError("could not write the key file \(path)")
            }
            logger.warning("generated a new key file; back it up apart from the database: without it the encrypted data cannot be read", metadata: ["path": "\(path)"])
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        do {
            return try KeyRing(text: text)
        } catch {
            throw CLIError("key file \(path): \(error)")
        }
    }
}
