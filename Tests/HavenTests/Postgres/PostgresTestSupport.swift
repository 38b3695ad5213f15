import Foundation
import Logging
import Postgres
import Synchronization
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Helpers for the tests of the libpq layer.
enum PGTestSupport {
    /// Runs blocking work (libpq calls, waits on a barrier) on a thread of its own, never on
    /// Swift's cooperative pool. `PGConnection` is not `Sendable`: open it inside `body`.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let thread = Thread {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
            thread.start()
        }
    }

    /// The error a throwing call threw, as a `PGError`, or a recorded issue.
    static func pgError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) -> PGError? {
        do {
            try body()
            Issue.record("expected a PGError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as PGError {
            return error
        } catch {
            Issue.record("expected a PGError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    static func pgError(sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> Void) async -> PGError? {
        do {
            try await body()
            Issue.record("expected a PGError, nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as PGError {
            return error
        } catch {
            Issue.record("expected a PGError, got \(error)", sourceLocation: sourceLocation)
        }
        return nil
    }

    /// A thread-safe counter.
    final class Counter: Sendable {
        private let value = Mutex(0)
        @discardableResult func increment() -> Int { value.withLock { $0 += 1; return $0 } }
        var current: Int { value.withLock { $0 } }
    }

    /// A one-shot gate that blocking code waits on (with a generous limit so a broken test fails
    /// instead of hanging) and async code opens.
    final class Gate: @unchecked Sendable {
        private let condition = NSCondition()
        private var isOpen = false

        func open() {
            condition.lock()
            isOpen = true
            condition.broadcast()
            condition.unlock()
        }

        /// Blocks until open; false when the limit passed first.
        func wait(limitSeconds: TimeInterval = 60) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: limitSeconds)
            while !isOpen {
                if !condition.wait(until: deadline) { return isOpen }
            }
            return true
        }
    }

    /// `count` parties each wait until all have arrived.
    final class Barrier: @unchecked Sendable {
        private let condition = NSCondition()
        private var arrived = 0
        private let count: Int

        init(count: Int) { self.count = count }

        func arriveAndWait(limitSeconds: TimeInterval = 60) -> Bool {
            condition.lock()
            defer { condition.unlock() }
            arrived += 1
            condition.broadcast()
            let deadline = Date(timeIntervalSinceNow: limitSeconds)
            while arrived < count {
                if !condition.wait(until: deadline) { return arrived >= count }
            }
            return true
        }
    }

    /// An async signal a pool job sends from its thread.
    final class Signal: Sendable {
        private let stream: AsyncStream<Void>
        private let continuation: AsyncStream<Void>.Continuation

        init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }

        func send() { continuation.yield(()) }

        /// Waits for the next `send`.
        func wait() async {
            for await _ in stream { return }
        }
    }

    /// A private cluster in a short fresh folder under /tmp, for tests that stop, crash or
    /// restart a server (never the shared one). Killed and deleted at the end.
    static func withPrivateCluster<T>(_ body: (EmbeddedPostgres) async throws -> T) async throws -> T {
        let directory = "/tmp/hvr-" + UUID().uuidString.prefix(8).lowercased()
        let logger = Logger(label: "haven.tests.private-cluster")
        let cluster = try EmbeddedPostgres(dataDirectory: directory, settings: ["fsync": "off", "log_min_messages": "fatal"])
        defer {
            try? cluster.kill(logger: logger)
            try? FileManager.default.removeItem(atPath: directory)
        }
        return try await body(cluster)
    }

    /// A PID no process has now.
    static func unusedPID() -> Int32 {
        var pid: Int32 = 999_999
        while kill(pid, 0) == 0 || errno == EPERM { pid += 1 }
        return pid
    }
}
