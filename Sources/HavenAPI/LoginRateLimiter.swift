import Foundation
import NIOConcurrencyHelpers

/// Login attempts per client address: a token bucket refilled continuously (S4). Per process;
/// behind a load balancer each instance limits on its own, and account lockout (in the
/// database) bounds guessing against one account whatever the instance count.
final class LoginRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    private let perMinute: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    init(perMinute: Int) {
        self.perMinute = Double(max(1, perMinute))
    }

    func allow(_ address: String, now: ContinuousClock.Instant = .now) -> Bool {
        buckets.withLockedValue { buckets in
            if buckets.count > 100_000 { buckets.removeAll() }
            var bucket = buckets[address] ?? Bucket(tokens: perMinute, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(perMinute, bucket.tokens + seconds * perMinute / 60)
            bucket.updated = now
            guard bucket.tokens >= 1 else {
                buckets[address] = bucket
                return false
            }
            bucket.tokens -= 1
            buckets[address] = bucket
            return true
        }
    }
}
