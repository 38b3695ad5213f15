import Foundation
import HavenStore
import Logging
import Postgres
import Sealing

/// What an operator command works with: the database brought up to date, a small pool, the
/// key ring. `close()` stops an embedded cluster this command started.
struct OperatorSession {
    let runtime: DatabaseRuntime
    let store: Store
    let logger: Logger

    static func open(_ options: DatabaseOptions) throws -> OperatorSession {
        let logger = Logs.bootstrap()
        let runtime = try DatabaseRuntime.start(options, logger: logger)
        do {
            if runtime.embedded != nil {
                _ = try runtime.migrate(options, logger: logger)
            } else {
                // An external database is migrated by its owner (`haven migrate`); operator commands
                // need only the application role.
                try runtime.requireCurrentSchema(options)
            }
            let keys = try KeyFile.load(options, logger: logger)
            let pool = PGPool(configuration: .init(conninfo: runtime.appURL, size: 2), logger: logger)
            return OperatorSession(runtime: runtime, store: try Store(pool: pool, keys: keys, logger: logger), logger: logger)
        } catch {
            runtime.stop(logger: logger)
            throw error
        }
    }

    func close() async {
        await store.pool.close()
        runtime.stop(logger: logger)
    }

    /// Runs `body`, closing the session whatever happens.
    static func with<T>(_ options: DatabaseOptions, _ body: (OperatorSession) async throws -> T) async throws -> T {
        let session = try open(options)
        do {
            let value = try await body(session)
            await session.close()
            return value
        } catch {
            await session.close()
            throw error
        }
    }
}
