import Foundation
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// A fixed number of connections, each owned by one worker thread of the pool's own (a
/// dedicated `NIOThreadPool`, never the event loops or Swift's cooperative pool), because libpq
/// calls block. Work waits in one queue; a worker that finishes a job takes the next at once, so
/// under load no thread sleeps between transactions and no task is woken just to hand its work
/// over.
///
/// - Work waits for a connection at most `acquireTimeout`, then fails with `.poolTimeout`;
///   callers answer 503.
/// - An idle connection that the server closed (restart, crash, admin command) is noticed when a
///   job starts on it and replaced, so a server restart costs callers nothing once it is back.
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

    /// Holds one connection; only its worker touches it.
    final class Slot: @unchecked Sendable {
        var connection: PGConnection?
        /// When the connection last started a job.
        var lastUsed = ContinuousClock.now
    }

    /// A transaction takes a connection that started a job more recently than this as it is:
    /// looking at its socket costs a system call, and a transaction whose opening meets a lost
    /// connection runs again on a new one anyway. `withConnection` cannot run its work again,
    /// so it always looks.
    static let checkAfterIdle = Duration.seconds(1)

    /// Work for a connection: run by a worker, or failed (timeout, cancellation, close), once.
    /// `run` answers how to hand its result over, which the worker does once it counts the job
    /// done, so a caller never sees its own finished job still in use.
    private struct Job {
        let id: UInt64
        let deadline: ContinuousClock.Instant
        let run: @Sendable (Slot) -> @Sendable () -> Void
        let fail: @Sendable (any Error) -> Void
    }

    /// The queue, under one condition the idle workers wait on. The counts a job's caller or
    /// the statistics read are atomics: every lock taken per job is one more place for ten
    /// workers and the submitting threads to meet.
    private final class Queue: @unchecked Sendable {
        let condition = NSCondition()
        var jobs = CircularBuffer<Job>()
        let running = Atomic<Int>(0)
        /// Workers waiting for a job.
        var idle = 0
        var closed = false
        let nextID = Atomic<UInt64>(0)
        /// One task enforces every waiting job's deadline, rather than a timer per job.
        var sweeping = false

        func locked<T>(_ body: (Queue) throws -> T) rethrows -> T {
            condition.lock()
            defer { condition.unlock() }
            return try body(self)
        }
    }

    public let configuration: Configuration
    private let queue = Queue()
    private let threads: NIOThreadPool
    private let logger: Logger

    public init(configuration: Configuration, logger: Logger = Logger(label: "haven.pg")) {
        self.configuration = configuration
        self.logger = logger
        self.threads = NIOThreadPool(numberOfThreads: configuration.size)
        self.threads.start()
        for _ in 0..<configuration.size {
            let slot = Slot()
            threads.submit { [self] _ in work(on: slot) }
        }
    }

    public var statistics: Statistics {
        queue.locked { Statistics(size: configuration.size, inUse: $0.running.load(ordering: .relaxed), waiters: $0.jobs.count) }
    }

    /// Runs `body` with a connection on a pool thread. Statements outside a transaction commit
    /// one by one; use `transaction` for anything that must hold together.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PGConnection) throws -> T) async throws -> T {
        try await run { slot in
            let connection = try self.connection(for: slot, checked: true)
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
        try await run { slot in try self.runTransaction(slot: slot, isolation: isolation, prelude: prelude, body) }
    }

    private func runTransaction<T>(slot: Slot, isolation: PGIsolation, prelude: PGStatement?, _ body: (PGConnection) throws -> T) throws -> T {
        var attempt = 1
        var reconnected = false
        while true {
            let connection = try self.connection(for: slot, checked: false)
            var opening: [PGStatement] = []
            opening.reserveCapacity(3)
            opening.append(PGStatement(isolation.begin))
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

    /// Stops taking work, fails what waits, lets running jobs finish, closes every connection.
    public func close() async {
        let waiting = queue.locked { queue -> [Job] in
            queue.closed = true
            defer { queue.jobs.removeAll() }
            queue.condition.broadcast()
            return Array(queue.jobs)
        }
        for job in waiting { job.fail(PGError(kind: .poolClosed, message: "pool closed")) }
        try? await threads.shutdownGracefully()
    }

    private func connection(for slot: Slot, checked: Bool) throws -> PGConnection {
        if let connection = slot.connection {
            let now = ContinuousClock.now
            let recent = !checked && now - slot.lastUsed < PGPool.checkAfterIdle
            slot.lastUsed = now
            if recent ? connection.isOK && !connection.isInTransaction : connection.isUsable() { return connection }
        }
        if slot.connection != nil { logger.info("replacing a broken database connection") }
        slot.connection = nil
        let connection = try PGConnection(conninfo: configuration.conninfo, options: configuration.connection)
        slot.connection = connection
        return connection
    }

    private func discardIfBroken(_ slot: Slot) {
        if let connection = slot.connection, !connection.isOK { slot.connection = nil }
    }

    // MARK: the queue

    /// A worker: takes jobs in turn until the pool closes, then closes its connection.
    private func work(on slot: Slot) {
        while let job = next() {
            let deliver = job.run(slot)
            queue.running.subtract(1, ordering: .relaxed)
            deliver()
        }
        slot.connection = nil
    }

    /// The next job, waiting for one; nil once the pool is closed.
    private func next() -> Job? {
        queue.locked { queue in
            while queue.jobs.isEmpty && !queue.closed {
                queue.idle += 1
                queue.condition.wait()
                queue.idle -= 1
            }
            if queue.jobs.isEmpty { return nil }
            queue.running.add(1, ordering: .relaxed)
            return queue.jobs.removeFirst()
        }
    }

    /// Queues `work` for the next free connection and waits for its result.
    private func run<T: Sendable>(_ work: @escaping @Sendable (Slot) throws -> T) async throws -> T {
        let id = queue.nextID.add(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let cancelled = Task.isCancelled
                let job = Job(
                    id: id, deadline: ContinuousClock.now + configuration.acquireTimeout,
                    run: { slot in
                        let result = Result { try work(slot) }
                        return { continuation.resume(with: result) }
                    },
                    fail: { continuation.resume(throwing: $0) })
                var startSweeper = false
                let accepted = queue.locked { queue -> Bool in
                    if queue.closed || cancelled { return false }
                    queue.jobs.append(job)
                    queue.condition.signal()
                    // Only work that must wait for a connection needs its deadline watched.
                    if queue.jobs.count > queue.idle && !queue.sweeping {
                        queue.sweeping = true
                        startSweeper = true
                    }
                    return true
                }
                if !accepted {
                    continuation.resume(throwing: cancelled ? CancellationError() : PGError(kind: .poolClosed, message: "pool closed"))
                } else if startSweeper {
                    Task { await self.sweepDeadlines() }
                }
            }
        } onCancel: {
            self.failJob(id, with: CancellationError())
        }
    }

    /// Fails jobs still waiting past their deadline, every few milliseconds while any wait.
    private func sweepDeadlines() async {
        let tick = min(Duration.milliseconds(50), configuration.acquireTimeout / 4)
        while true {
            try? await Task.sleep(for: tick)
            let now = ContinuousClock.now
            let (expired, done) = queue.locked { queue -> ([Job], Bool) in
                let expired = Array(queue.jobs.lazy.filter { $0.deadline <= now })
                if !expired.isEmpty { queue.jobs = CircularBuffer(queue.jobs.lazy.filter { $0.deadline > now }) }
                if queue.jobs.isEmpty { queue.sweeping = false }
                return (expired, !queue.sweeping)
            }
            let timeout = configuration.acquireTimeout
            for job in expired { job.fail(PGError(kind: .poolTimeout, message: "no database connection free within \(timeout)")) }
            if done { return }
        }
    }

    private func failJob(_ id: UInt64, with error: any Error) {
        let job = queue.locked { queue -> Job? in
            guard let index = queue.jobs.firstIndex(where: { $0.id == id }) else { return nil }
            return queue.jobs.remove(at: index)
        }
        job?.fail(error)
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
