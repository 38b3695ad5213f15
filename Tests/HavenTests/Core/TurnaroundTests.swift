import Foundation
import HavenCore
import Testing

/// What a turnaround report publishes (S18): a median or p90 only over at least 11 referrals,
/// counts through the same small-cell suppression as every other report.
@Suite struct TurnaroundTests {
    static func group(_ key: String, answered: Int, median: Double? = 4.04, p90: Double? = 9.96, completed: Int = 0) -> Turnaround.Group {
        Turnaround.Group(key: key, firstAnswer: .init(count: answered, median: answered > 0 ? median : nil, p90: answered > 0 ? p90 : nil),
                         completion: .init(count: completed, median: completed > 0 ? 2.5 : nil, p90: completed > 0 ? 6.25 : nil))
    }

    @Test("a time over 11 referrals is published, rounded to a tenth; over 10 it is hidden")
    func threshold() {
        #expect(Turnaround.publishesTime(over: 11))
        #expect(!Turnaround.publishesTime(over: 10))
        #expect(!Turnaround.publishesTime(over: 0))
        let published = Turnaround.publish([Self.group("medical", answered: 11), Self.group("legal_aid", answered: 10)],
                                           overall: Self.group("all", answered: 21))
        let medical = published.groups[0].firstAnswer
        #expect(medical.median == 4.0 && medical.p90 == 10.0)
        let legal = published.groups[1].firstAnswer
        #expect(legal.median == nil && legal.p90 == nil)
        #expect(Turnaround.Figure.shown(legal.median) == "<11")
        #expect(Turnaround.Figure.shown(medical.median) == "4.0")
        #expect(published.overall.firstAnswer.median == 4.0)
    }

    @Test("a small group's count shows <11, and a second count is hidden so the total does not give it back")
    func countsAreSuppressed() {
        let published = Turnaround.publish([Self.group("medical", answered: 30), Self.group("legal_aid", answered: 4), Self.group("counselling", answered: 12)],
                                           overall: Self.group("all", answered: 46))
        let counts = published.groups.map(\.firstAnswer)
        #expect(counts[1].count == nil && counts[1].countIsSmall && counts[1].shownCount == "<11")
        #expect(counts.filter { $0.count == nil }.count >= 2, "complementary suppression: \(counts)")
        // A group hidden only to protect another still publishes its times: it has 11 or more.
        for figure in counts where figure.count == nil && !figure.countIsSmall {
            #expect(figure.shownCount == "suppressed" && figure.median != nil)
        }
        #expect(published.overall.firstAnswer.count == 46)
    }

    @Test("nothing completed: the count is 0 and the times are hidden, not zero")
    func nothingReached() {
        let published = Turnaround.publish([Self.group("medical", answered: 15)], overall: Self.group("all", answered: 15))
        let completion = published.groups[0].completion
        #expect(completion.count == 0 && completion.median == nil && completion.p90 == nil)
        #expect(Turnaround.Figure.shown(completion.p90) == "<11")
    }
}
