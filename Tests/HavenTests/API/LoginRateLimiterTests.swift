@testable import HavenAPI
import Testing

/// Per-address limits on logins and rejected tokens (S4).
@Suite struct LoginRateLimiterTests {
    @Test func anAddressGetsItsAllowanceThenWaits() {
        let limiter = LoginRateLimiter(perMinute: 3)
        let now = ContinuousClock.now
        #expect((0..<3).allSatisfy { _ in limiter.allow("192.0.2.7", now: now) })
        #expect(!limiter.allow("192.0.2.7", now: now))
        #expect(limiter.allow("192.0.2.8", now: now), "another address has its own allowance")
        #expect(limiter.allow("192.0.2.7", now: now + .seconds(20)), "a third of a minute refills one attempt")
    }

    @Test func aLongerRefillGivesTheAllowanceBackMoreSlowly() {
        let limiter = LoginRateLimiter(perMinute: 3, refill: .seconds(3600))
        let now = ContinuousClock.now
        #expect((0..<3).allSatisfy { _ in limiter.allow("192.0.2.7", now: now) })
        #expect(!limiter.allow("192.0.2.7", now: now + .seconds(600)), "a sixth of the hour is half an attempt")
        #expect(limiter.allow("192.0.2.7", now: now + .seconds(1200)), "a third of the hour refills one")
    }

    /// A spell of being held back is reported once: the single attempts that refills let through
    /// during a steady flood do not start a new spell; only a bucket full again does.
    @Test func aSpellOfBeingHeldBackStartsOnce() {
        let limiter = LoginRateLimiter(perMinute: 3)
        let start = ContinuousClock.now
        let address = "192.0.2.9"
        #expect((0..<3).allSatisfy { _ in limiter.check(address, now: start) == .allowed })
        #expect(limiter.check(address, now: start) == .heldBack(first: true))
        #expect(limiter.check(address, now: start) == .heldBack(first: false))
        // A refill lets one attempt through mid-flood; the next refusal is the same spell.
        #expect(limiter.check(address, now: start + .seconds(20)) == .allowed)
        #expect(limiter.check(address, now: start + .seconds(20)) == .heldBack(first: false))
        // Quiet for a whole minute: the bucket is full, and a new flood is a new spell.
        let later = start + .seconds(120)
        #expect((0..<3).allSatisfy { _ in limiter.check(address, now: later) == .allowed })
        #expect(limiter.check(address, now: later) == .heldBack(first: true))
    }

    /// An IPv6 client holds a /64: its addresses share one allowance.
    @Test func anIPv6SlashSixtyFourIsOneClient() {
        let limiter = LoginRateLimiter(perMinute: 2)
        let now = ContinuousClock.now
        #expect(limiter.allow("2001:db8:1:2::1", now: now))
        #expect(limiter.allow("2001:db8:1:2::ffff", now: now))
        #expect(!limiter.allow("2001:db8:1:2:aaaa::3", now: now))
        #expect(limiter.allow("2001:db8:1:3::1", now: now), "another /64 is another client")
    }

    /// Many new addresses do not free an address that is held back.
    @Test func aFloodOfAddressesDoesNotResetAHeldBackOne() {
        let limiter = LoginRateLimiter(perMinute: 2, capacity: 10)
        let now = ContinuousClock.now
        _ = limiter.allow("198.51.100.1", now: now)
        _ = limiter.allow("198.51.100.1", now: now)
        for index in 0..<50 { _ = limiter.allow("203.0.113.\(index)", now: now) }
        #expect(!limiter.allow("198.51.100.1", now: now))
        // And the table stays bounded: only addresses held back are kept past the capacity.
        _ = limiter.allow("203.0.113.200", now: now)
        #expect(limiter.count <= 10)
    }
}
