import Foundation
import HavenCore
import HavenStore
import NIOConcurrencyHelpers
import NIOCore

/// Remembers a checked bearer token for a second, so a client's burst of requests costs one
/// session lookup instead of one each. A logout, deactivation or password change made through
/// this instance takes effect at once; one made through another instance within the second.
final class SessionCache: Sendable {
    private struct Entry {
        var session: AuthenticatedSession
        var expires: ContinuousClock.Instant
        /// `GET /v1/me`'s answer, encoded once per entry: it depends on nothing but the session.
        var meBody: ByteBuffer?
    }

    private let entries = NIOLockedValueBox<[[UInt8]: Entry]>([:])
    private let lifetime: Duration
    private let capacity: Int

    init(lifetime: Duration = .seconds(1), capacity: Int = 10_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func session(for tokenHash: [UInt8], now: ContinuousClock.Instant = .now) -> AuthenticatedSession? {
        entries.withLockedValue { entries in
            guard let entry = entries[tokenHash] else { return nil }
            guard entry.expires > now else {
                entries[tokenHash] = nil
                return nil
            }
            return entry.session
        }
    }

    func remember(_ session: AuthenticatedSession, for tokenHash: [UInt8], now: ContinuousClock.Instant = .now) {
        guard lifetime > .zero else { return }
        entries.withLockedValue { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[tokenHash] = Entry(session: session, expires: now + lifetime)
        }
    }

    /// The encoded `GET /v1/me` answer for a cached session, made by `encode` on the first call.
    func meBody(for tokenHash: [UInt8], encode: () throws -> ByteBuffer) rethrows -> ByteBuffer {
        if let body = entries.withLockedValue({ $0[tokenHash]?.meBody }) { return body }
        let body = try encode()
        entries.withLockedValue { entries in entries[tokenHash]?.meBody = body }
        return body
    }

    func forget(tokenHash: [UInt8]) {
        _ = entries.withLockedValue { $0.removeValue(forKey: tokenHash) }
    }

    /// Every cached session of a user (deactivated, role or password changed).
    func forget(user: UUID) {
        entries.withLockedValue { entries in
            entries = entries.filter { $0.value.session.actor.userID != user }
        }
    }
}
