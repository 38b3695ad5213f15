import Foundation
import NIOConcurrencyHelpers

/// Login attempts per client address: a token bucket refilled continuously (S4). Per process;
/// behind a load balancer each instance limits on its own, and account lockout (in the
/// database) bounds guessing against one account whatever the instance count.
final class LoginRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
        /// Refused since the bucket was last full: one spell of being held back, however many
        /// single attempts the trickle of refills lets through meanwhile.
        var holding = false

        /// The tokens it holds at `now`, refilled continuously up to `perMinute` in `refill` seconds.
        func tokens(at now: ContinuousClock.Instant, perMinute: Double, refill: Double) -> Double {
            min(perMinute, tokens + (now - updated).seconds * perMinute / refill)
        }
    }

    enum Verdict: Equatable {
        case allowed
        /// `first`: the first refusal of a spell (see `Bucket.holding`), the one worth recording.
        case heldBack(first: Bool)
    }

    private let perMinute: Double
    /// Seconds an empty bucket takes to fill: a minute, as the name says, except where a test
    /// must not depend on how fast the machine sends its requests.
    private let refill: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    private let capacity: Int

    init(perMinute: Int, refill: Duration = .seconds(60), capacity: Int = 100_000) {
        self.perMinute = Double(max(1, perMinute))
        self.refill = max(1, refill.seconds)
        self.capacity = capacity
    }

    /// The bucket an address draws on: an IPv6 client holds a whole /64, so it counts as one.
    static func key(_ address: String) -> String {
        guard address.contains(":"), let bytes = IPNetwork.bytes(address), bytes.count == 16 else { return address }
        return bytes[0..<8].map { String(format: "%02x", $0) }.joined() + "/64"
    }

    func allow(_ address: String, now: ContinuousClock.Instant = .now) -> Bool {
        check(address, now: now) == .allowed
    }

    func check(_ address: String, now: ContinuousClock.Instant = .now) -> Verdict {
        let address = LoginRateLimiter.key(address)
        return buckets.withLockedValue { buckets in
            if buckets.count > capacity {
                // Forget the buckets that have refilled, then (if still too many) those that may
                // still try: an address held back stays held back, however many others come along.
                let (perMinute, refill) = (self.perMinute, self.refill)
                buckets = buckets.filter { $0.value.tokens(at: now, perMinute: perMinute, refill: refill) < perMinute }
                if buckets.count > capacity { buckets = buckets.filter { $0.value.tokens(at: now, perMinute: perMinute, refill: refill) < 1 } }
            }
            var bucket = buckets[address] ?? Bucket(tokens: perMinute, updated: now)
            bucket.tokens = bucket.tokens(at: now, perMinute: perMinute, refill: refill)
            bucket.updated = now
            if bucket.tokens >= perMinute { bucket.holding = false }
            guard bucket.tokens >= 1 else {
                let first = !bucket.holding
                bucket.holding = true
                buckets[address] = bucket
                return .heldBack(first: first)
            }
            bucket.tokens -= 1
            buckets[address] = bucket
            return .allowed
        }
    }

    /// How many addresses are remembered.
    var count: Int { buckets.withLockedValue { $0.count } }
}
