import Foundation
import HavenCore
import Testing

/// A failing webhook is tried with growing, jittered waits for at least a day, then given up.
@Suite struct WebhookScheduleTests {
    static func total(_ schedule: WebhookSchedule, fraction: Double) -> (attempts: Int, waited: Duration) {
        var waited = Duration.zero
        var attempt = 1
        while let delay = schedule.delay(afterAttempt: attempt, fraction: fraction) {
            waited += delay
            attempt += 1
        }
        return (attempt, waited)
    }

    @Test(arguments: [0.0, 0.37, 1.0])
    func theStandardScheduleTriesForAtLeastADayThenGivesUp(fraction: Double) {
        let (attempts, waited) = Self.total(.standard, fraction: fraction)
        #expect(waited >= .seconds(24 * 3600), "gave up after \(waited)")
        #expect(waited <= .seconds(50 * 3600), "went on for \(waited)")
        #expect(attempts < 80)
    }

    @Test func waitsDoubleUpToTheCapWithJitterBetweenHalfAndAll() {
        let schedule = WebhookSchedule.standard
        #expect(schedule.ceiling(afterAttempt: 1) == .seconds(5))
        #expect(schedule.ceiling(afterAttempt: 2) == .seconds(10))
        #expect(schedule.ceiling(afterAttempt: 4) == .seconds(40))
        #expect(schedule.ceiling(afterAttempt: 30) == .seconds(3600))
        #expect(schedule.delay(afterAttempt: 3, fraction: 0) == .seconds(10))
        #expect(schedule.delay(afterAttempt: 3, fraction: 1) == .seconds(20))
        let middle = schedule.delay(afterAttempt: 3, fraction: 0.5) ?? .zero
        #expect(middle > .seconds(10) && middle < .seconds(20))
    }
}
