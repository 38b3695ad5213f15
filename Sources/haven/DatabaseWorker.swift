import Foundation
import HavenStore
import Logging
import Postgres
import Sealing
import ServiceLifecycle

/// Runs beside the HTTP server: brings the database up to date (retrying with back-off while it
/// is unreachable, so /readyz says 503 meanwhile), creates the bootstrap admin, then seals the
/// audit trail every second until shutdown.
struct DatabaseWorker: Service {
    let ownerURL: String
    let migrator: PGMigrator?
    let store: Store
    let hasher: Credentials
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await prepare()
            await AuditSealer(store: store).run(every: .seconds(1), logger: logger)
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
                return
            } catch let error as PGMigrationError {
                logger.critical("migrations refused", metadata: ["error": "\(error)"])
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                logger.warning("database not reachable yet; retrying", metadata: ["in_seconds": "\(delay)", "error": "\(error)"])
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
              TOTP enrolment:    \(admin.totpURI)
            Log in with POST /v1/auth/login {"username", "password", "totp"}, then change the
            password with POST /v1/me/password.
            ================================================================================

            """)
    }
}
