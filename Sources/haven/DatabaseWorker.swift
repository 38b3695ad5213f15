import Foundation
import HavenStore
import Logging
import Postgres
import Sealing
import ServiceLifecycle

/// Runs beside the HTTP server: brings the database up to date (retrying with back-off while it
/// is unreachable, so /readyz says 503 meanwhile), creates the bootstrap admin, then seals the
/// audit trail every second, signs a checkpoint of it every five, ends referrals whose consent lapsed every minute, delivers the
/// notification outbox every second (and within 50 ms of a commit here that notified someone) and announces passed deadlines every minute, until shutdown.
struct DatabaseWorker: Service, CustomStringConvertible {
    let ownerURL: String
    let migrator: PGMigrator?
    let store: Store
    let hasher: Credentials
    let checkpoints: AuditCheckpointFolder
    /// The outbox's channels (in-app, webhooks): one worker routes every message to all of them.
    /// None: this instance delivers nothing (`--no-delivery`).
    let channels: [any NotificationChannel]
    let logger: Logger

    /// ServiceLifecycle logs each service at debug level; the default description would print
    /// `ownerURL` and with it the owner role's password.
    var description: String { "DatabaseWorker" }

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await prepare()
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await AuditSealer(store: store).run(every: .seconds(1), logger: logger) }
                // Signed outside the database every few seconds while events arrive (S9).
                group.addTask { await AuditCheckpointer(store: store, folder: checkpoints).run(every: .seconds(5), logger: logger) }
                group.addTask { await ConsentSweeper(store: store).run(every: .seconds(60), logger: logger) }
                group.addTask { await Retention.run(store: store, every: .seconds(3600), logger: logger) }
                if !channels.isEmpty {
                    group.addTask { await NotificationDeliverer(store: store, channels: channels).run(every: .seconds(1), logger: logger) }
                }
                group.addTask { await NotificationSweep(store: store).run(every: .seconds(60), logger: logger) }
            }
        }
    }

    private func prepare() async throws {
        var delay = 0.5
        while true {
            do {
                if let migrator {
                    let applied = try migrator.migrate(try PGConnection(conninfo: ownerURL))
                    logger.info("schema is current", metadata: ["applied_now": "\(applied)"])
                }
                if let admin = try await Bootstrap.ensureAdmin(store: store, hasher: hasher) {
                    printBanner(admin)
                }
                try await AuditKeyCheck.record(store: store)
                let missing = try await KeyRotation.missingKeys(store: store)
                if !missing.isEmpty {
                    logger.critical("the key file lacks keys the database was sealed with; encrypted fields will not open until they are added",
                                    metadata: ["missing_key_ids": "\(missing.joined(separator: ","))"])
                }
                let sealed = try await FreeTextSealing.sealClearValues(store: store)
                if sealed > 0 { logger.notice("sealed free text an earlier version kept in clear", metadata: ["rows": "\(sealed)"]) }
                return
            } catch let error as PGMigrationError {
                logger.critical("migrations refused", metadata: ["error": "\(PGError.loggable(error))"])
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("database not reachable yet; retrying", metadata: ["in_seconds": "\(delay)", "error": "\(PGError.loggable(error))"])
                try await Task.sleep(for: .milliseconds(Int(delay * 1000)))
                delay = min(delay * 2, 30)
            }
        }
    }

    /// Written to standard output, never to the log: the password is shown this once.
    private func printBanner(_ admin: Bootstrap.Admin) {
        Console.write("""

            ================================================================================
            Haven created its first administrator. This is shown once; store it safely.
              username:          \(admin.username)
              one-time password: \(admin.password)
            Log in at /login (or POST /v1/auth/login {"username", "password"}), change the
            password, then enrol your authenticator app: the login shows its secret and asks
            for a code from it (POST /v1/me/second-factor, then /v1/me/second-factor/confirm).
            ================================================================================

            """)
    }
}
