import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// A fixed number of connections, each used by one job at a time on the pool's own threads
/// (a dedicated `NIOThreadPool`, never the event loops or Swift's cooperative pool), because
/// libpq calls block.
///
/// - `withConnection` waits for a free connection at most `acquireTimeout`, then throws
///   `.poolTimeout`; callers answer 503.
/// - An idle connection that the server closed (restart, crash, admin command) is noticed when it
///   is handed out and replaced, so a server restart costs callers nothing once it is back.
/// - `transaction` retries serialization failures and deadlocks a bounded number of times, and
///   retries once on a fresh connection when the connection was lost before BEGIN went through.
public final class PGPool: Sendable {
    public struct Configuration: Sendable {
        public var conninfo: String
        public var size: Int
        public var acquireTimeout: Duration
        public var connection: PGConnection.Options
        public var transactionAttempts: Int

        public init(
            conninfo: String, size: Int = 10, acquireTimeout: Duration = .seconds(5),
            connection: PGConnection.Options = .init(), transactionAttempts: Int = 4
        ) {
            self.conninfo = conninfo
            self.size = max(1, size)
            self.acquireTimeout = acquireTimeout
            self.connection = connection
            self.transactionAttempts = max(1, transactionAttempts)
        }
    }

    public struct Statistics: Sendable, Equatable {
        public var size: Int
        public var inUse: Int
        public var waiters: Int
    }

    /// Holds one connection; only the job that checked the slot out touches it.
    final class Slot: @unchecked Sendable {
        var connection: PGConnection?
    }

    private struct Waiter {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let continuation: CheckedContinuation<Slot, any Error>
    }

    private struct State {
        var idle: [Slot]
        var waiters: [Waiter] = []
        var inUse = 0
        var closed = false
        var nextWaiterID: UInt64 = 0
        /// One task enforces every waiter's deadline, rather than a timer per waiter.
        var sweeping = false
    }

    public let configuration: Configuration
    private let state: NIOLockedValueBox<State>
    private let threads: NIOThreadPool
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "haven.pg")) {
        self.configuration = configuration
        self.logger = logger
        self.state = NIOLockedValueBox(State(idle: (0..<configuration.size).map { _ in Slot() }))
        self.threads = NIOThreadPool(numberOfThreads: configuration.size)
        self.threads.start()
    }

    public var statistics: Statistics {
        state.withLockedValue { Statistics(size: configuration.size, inUse: $0.inUse, waiters: $0.waiters.count) }
    }

    /// Runs `body` with a connection on a pool thread. Statements outside a transaction commit
    /// one by one; use `transaction` for anything that must hold together.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        let slot = try await acquire()
        defer { release(slot) }
        return try await threads.runIfActive {
            let connection = try self.connection(for: slot)
            do {
                let value = try body(connection)
                if connection.isInTransaction || !connection.deferredUntilCommit.isEmpty { connection.rollback() }
                return value
            } catch {
                self.discardIfBroken(slot)
                connection.rollback()
                throw error
            }
        }
    }

    /// Runs `body` inside BEGIN ... COMMIT on one connection. `body` may run more than once (a
    /// retried serialization failure), so it must not have effects outside the database.
    /// `prelude` runs right after BEGIN in the same round trip (e.g. the transaction's settings).
    public func transaction<T: Sendable>(
        _ isolation: PGIsolation = .readCommitted, prelude: PGStatement? = nil, _ body: @escaping @Sendable (PGConnection) throws -> T
    ) async throws -> T {
        let slot = try await acquire()
        defer { release(slot) }
        return try await threads.runIfActive { try self.runTransaction(slot: slot, isolation: isolation, prelude: prelude, body) }
    }

    private func runTransaction<T>(slot: Slot, isolation: PGIsolation, prelude: PGStatement?, _ body: (PGConnection) throws -> T) throws -> T {
        var attempt = 1
        var reconnected = false
        while true {
            let connection = try self.connection(for: slot)
            var opening = [PGStatement(isolation.begin)]
            // Behind PgBouncer a session setting does not stay with us: set it per transaction.
            if !configuration.connection.namedStatements, let timeout = configuration.connection.statementTimeoutMilliseconds {
                opening.append(PGStatement("SELECT set_config('statement_timeout', $1, true)", [String(timeout)]))
            }
            if let prelude { opening.append(prelude) }
            // Sent with the transaction's first statement: one round trip fewer.
            try connection.open(opening)
            do {
                let value = try body(connection)
                try connection.commit()
                return value
            } catch {
                connection.rollback()
                discardIfBroken(slot)
                if let error = error as? PGError, error.kind == .connectionLost, connection.lostWhileOpening, !reconnected {
                    // The connection broke before the transaction began: try once more on a new one.
                    slot.connection = nil
                    reconnected = true
                    continue
                }
                if let error = error as? PGError, error.isTransient, attempt < configuration.transactionAttempts {
                    attempt += 1
                    // Jittered back-off so the colliding transactions do not meet again at once.
                    usleep(UInt32.random(in: 1_000...(5_000 * UInt32(attempt))))
                    continue
                }
                throw error
            }
        }
    }

    /// Stops handing out connections, fails the waiters, closes every connection.
    public func close() async {
        let (waiters, idle) = state.withLockedValue { state -> ([Waiter], [Slot]) in
            state.closed = true
            defer {
                state.waiters = []
                state.idle = []
            }
            return (state.waiters, state.idle)
        }
        for waiter in waiters { waiter.continuation.resume(throwing: PGError(kind: .poolClosed, message: "pool closed")) }
        for slot in idle { slot.connection = nil }
        try? await threads.shutdownGracefully()
    }

    private func connection(for slot: Slot) throws -> PGConnection {
        if let connection = slot.connection, connection.isUsable() { return connection }
        if slot.connection != nil { logger.info("replacing a broken database connection") }
        slot.connection = nil
        let connection = try PGConnection(conninfo: configuration.conninfo, options: configuration.connection)
        slot.connection = connection
        return connection
    }

    private func discardIfBroken(_ slot: Slot) {
        if let connection = slot.connection, !connection.isOK { slot.connection = nil }
    }

    private enum Acquisition {
        case ready(Slot)
        case closed
        case wait
    }

    private func acquire() async throws -> Slot {
        let first = state.withLockedValue { state -> Acquisition in
            if state.closed { return .closed }
            guard let slot = state.idle.popLast() else { return .wait }
            state.inUse += 1
            return .ready(slot)
        }
        switch first {
        case .ready(let slot): return slot
        case .closed: throw PGError(kind: .poolClosed, message: "pool closed")
        case .wait: break
        }
        let id = state.withLockedValue { state -> UInt64 in
            state.nextWaiterID += 1
            return state.nextWaiterID
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Slot, any Error>) in
                let cancelled = Task.isCancelled
                let deadline = ContinuousClock.now + configuration.acquireTimeout
                var startSweeper = false
                let outcome = state.withLockedValue { state -> Acquisition in
                    if state.closed || cancelled { return .closed }
                    if let slot = state.idle.popLast() {
                        state.inUse += 1
                        return .ready(slot)
                    }
                    state.waiters.append(Waiter(id: id, deadline: deadline, continuation: continuation))
                    if !state.sweeping {
                        state.sweeping = true
                        startSweeper = true
                    }
                    return .wait
                }
                switch outcome {
                case .ready(let slot):
                    continuation.resume(returning: slot)
                case .closed:
                    continuation.resume(throwing: cancelled ? CancellationError() : PGError(kind: .poolClosed, message: "pool closed"))
                case .wait:
                    if startSweeper { Task { await self.sweepDeadlines() } }
                }
            }
        } onCancel: {
            self.failWaiter(id, with: CancellationError())
        }
    }

    /// Fails waiters whose deadline passed, every few milliseconds while any are waiting.
    private func sweepDeadlines() async {
        let tick = min(Duration.milliseconds(50), configuration.acquireTimeout / 4)
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, done) = state.withLockedValue { state -> ([Waiter], Bool) in
                let expired = state.waiters.filter { $0.deadline <= now }
                if !expired.isEmpty { state.waiters.removeAll { $0.deadline <= now } }
                if state.waiters.isEmpty { state.sweeping = false }
                return (expired, !state.sweeping)
            }
            let timeout = configuration.acquireTimeout
            for waiter in expired {
                waiter.continuation.resume(throwing: PGError(kind: .poolTimeout, message: "no database connection free within \(timeout)"))
            }
            if done { return }
        }
    }

    private func failWaiter(_ id: UInt64, with error: any Error) {
        let waiter = state.withLockedValue { state -> Waiter? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index)
        }
        waiter?.continuation.resume(throwing: error)
    }

    private func release(_ slot: Slot) {
        let waiter = state.withLockedValue { state -> Waiter? in
            if state.closed {
                state.inUse -= 1
                slot.connection = nil
                return nil
            }
            if !state.waiters.isEmpty { return state.waiters.removeFirst() }
            state.inUse -= 1
            state.idle.append(slot)
            return nil
        }
        waiter?.continuation.resume(returning: slot)
    }
}

/// How a transaction sees concurrent commits.
public enum PGIsolation: Sendable {
    case readCommitted
    /// One snapshot for the whole transaction.
    case repeatableRead
    /// One snapshot for the whole transaction, no writes: long consistent reads.
    case repeatableReadOnly
    case serializable

    var begin: String {
        switch self {
        case .readCommitted: return "BEGIN"
        case .repeatableRead: return "BEGIN ISOLATION LEVEL REPEATABLE READ"
        case .repeatableReadOnly: return "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        case .serializable: return "BEGIN ISOLATION LEVEL SERIALIZABLE"
        }
    }
}
