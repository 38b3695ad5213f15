import Foundation
import HavenCore
import Testing

@Suite struct LockoutPolicyTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)
    static let clean = LockoutPolicy.State(failures: 0, firstFailure: nil, lockedUntil: nil)

    @Test func defaultsAreFiveFailuresInFifteenMinutesLockFifteenMinutes() {
        let policy = LockoutPolicy()
        #expect(policy.threshold == 5)
        #expect(policy.window == 900)
        #expect(policy.duration == 900)
    }

    @Test func locksOnTheThresholdthFailureWithinTheWindow() {
        let policy = LockoutPolicy(threshold: 5, window: 900, duration: 600)
        var state = Self.clean
        for attempt in 1...4 {
            state = policy.afterFailure(state, now: Self.start.addingTimeInterval(Double(attempt) * 10))
            #expect(state.failures == attempt)
            #expect(state.firstFailure == Self.start.addingTimeInterval(10))
            #expect(state.lockedUntil == nil)
            #expect(!policy.isLocked(state, now: Self.start.addingTimeInterval(Double(attempt) * 10)))
        }
        let fifth = Self.start.addingTimeInterval(50)
        state = policy.afterFailure(state, now: fifth)
        #expect(state.lockedUntil == fifth.addingTimeInterval(600))
        // The counter starts again for after the lock.
        #expect(state.failures == 0)
        #expect(state.firstFailure == nil)
        #expect(policy.isLocked(state, now: fifth))
        #expect(policy.isLocked(state, now: fifth.addingTimeInterval(599)))
        // Unlocked exactly when the lock ends, and after.
        #expect(!policy.isLocked(state, now: fifth.addingTimeInterval(600)))
        #expect(!policy.isLocked(state, now: fifth.addingTimeInterval(601)))
    }

    @Test func failuresOutsideTheWindowStartANewCount() {
        let policy = LockoutPolicy(threshold: 3, window: 60, duration: 300)
        var state = policy.afterFailure(Self.clean, now: Self.start)
        state = policy.afterFailure(state, now: Self.start.addingTimeInterval(30))
        #expect(state.failures == 2)
        // 61 s after the first failure: the window has passed, this is failure 1 of a new window.
        let late = Self.start.addingTimeInterval(61)
        state = policy.afterFailure(state, now: late)
        #expect(state.failures == 1)
        #expect(state.firstFailure == late)
        #expect(state.lockedUntil == nil)
        state = policy.afterFailure(state, now: late.addingTimeInterval(1))
        state = policy.afterFailure(state, now: late.addingTimeInterval(2))
        #expect(policy.isLocked(state, now: late.addingTimeInterval(2)))
    }

    @Test func windowBoundaryIsInclusive() {
        let policy = LockoutPolicy(threshold: 2, window: 60, duration: 300)
        let state = policy.afterFailure(Self.clean, now: Self.start)
        let atBoundary = policy.afterFailure(state, now: Self.start.addingTimeInterval(60))
        #expect(policy.isLocked(atBoundary, now: Self.start.addingTimeInterval(60)))
        let pastBoundary = policy.afterFailure(state, now: Self.start.addingTimeInterval(60.001))
        #expect(!policy.isLocked(pastBoundary, now: Self.start.addingTimeInterval(60.001)))
        #expect(pastBoundary.failures == 1)
    }

    @Test func afterALockExpiresTheCountStartsFromOne() {
        let policy = LockoutPolicy(threshold: 2, window: 60, duration: 100)
        var state = policy.afterFailure(Self.clean, now: Self.start)
        state = policy.afterFailure(state, now: Self.start.addingTimeInterval(1))
        let lockedUntil = try! #require(state.lockedUntil)
        let later = lockedUntil.addingTimeInterval(5)
        #expect(!policy.isLocked(state, now: later))
        state = policy.afterFailure(state, now: later)
        #expect(state.failures == 1)
        #expect(!policy.isLocked(state, now: later))
    }

    @Test func thresholdOfOneLocksAtOnce() {
        let policy = LockoutPolicy(threshold: 1, window: 60, duration: 30)
        let state = policy.afterFailure(Self.clean, now: Self.start)
        #expect(policy.isLocked(state, now: Self.start))
        #expect(state.lockedUntil == Self.start.addingTimeInterval(30))
    }

    @Test func cleanStateIsNotLocked() {
        #expect(!LockoutPolicy().isLocked(Self.clean, now: Self.start))
        let expired = LockoutPolicy.State(failures: 0, firstFailure: nil, lockedUntil: Self.start.addingTimeInterval(-1))
        #expect(!LockoutPolicy().isLocked(expired, now: Self.start))
    }
}
