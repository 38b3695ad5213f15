import Foundation
import Logging
import Postgres

/// The schema this build expects, for the readiness check of the layers above.
public struct DatabaseSchema: Sendable {
    let migrator: PGMigrator

    public init(_ migrator: PGMigrator) {
        self.migrator = migrator
    }
}

/// What `/readyz` says of the database.
public enum DatabaseReadiness: Sendable, Equatable {
    case ready
    case pendingMigrations
    /// No connection free in time.
    case busy
    case unreachable
    case failed
}

/// How the connection pool is used, for `/metrics`.
public struct PoolUse: Sendable, Equatable {
    public var size: Int
    public var inUse: Int
    public var waiters: Int
}

extension Store {
    /// Whether the database answers and its schema is the one `schema` expects.
    public func readiness(of schema: DatabaseSchema) async -> DatabaseReadiness {
        let migrator = schema.migrator
        do {
            return try await pool.withConnection { try migrator.isCurrent($0) } ? .ready : .pendingMigrations
        } catch let error as PGError where error.kind == .poolTimeout {
            return .busy
        } catch let error as PGError where error.kind == .connectionLost {
            return .unreachable
        } catch {
            logger.warning("readiness check failed", metadata: ["error": "\(PGError.loggable(error))"])
            return .failed
        }
    }

    public var poolUse: PoolUse {
        let statistics = pool.statistics
        return PoolUse(size: statistics.size, inUse: statistics.inUse, waiters: statistics.waiters)
    }
}
