import Foundation

/// How long recipients take with referrals, published without identifying anyone (S18).
///
/// For the referrals created in a period: the **first answer** is the hours from creation to
/// the recipient's first `accepted` or `rejected` (a `received` is an acknowledgement, not an
/// answer); **completion** is the days from creation to `completed` (a `failed` referral never
/// completes). Each is reported per group as a median and a 90th percentile with the count of
/// referrals behind them. The first answer is also set against the deadline of the referral's
/// priority (`NeedPriority`: emergency 24 hours, urgent 72, normal 14 days): of the referrals
/// answered or past their deadline unanswered, the share answered by it, in whole percent.
///
/// A median or p90 of fewer than k (11) referrals is never published: with so few, the slowest
/// answer is one organisation's handling of one person. The counts themselves go through
/// `Suppression.table`, so a small group's count can be worked out neither from the others nor
/// from the total.
public enum Turnaround {
    public enum Measure: String, ClosedSet {
        case firstAnswer = "first_answer"
        case completion
    }

    /// One measure of one group as the database computed it: how many referrals reached the
    /// event, and the median and p90 of their times (nil when none did).
    public struct Measured: Sendable, Equatable {
        public var count: Int
        public var median: Double?
        public var p90: Double?
        /// First answers only: the referrals that were due (answered, or past their deadline
        /// unanswered) and those of them answered by their deadline.
        public var due: Int
        public var inTime: Int

        public init(count: Int, median: Double?, p90: Double?, due: Int = 0, inTime: Int = 0) {
            (self.count, self.median, self.p90, self.due, self.inTime) = (count, median, p90, due, inTime)
        }
    }

    /// One group's figures before publication; `key` is the group's code.
    public struct Group: Sendable, Equatable {
        public var key: String
        public var firstAnswer: Measured
        public var completion: Measured

        public init(key: String, firstAnswer: Measured, completion: Measured) {
            (self.key, self.firstAnswer, self.completion) = (key, firstAnswer, completion)
        }
    }

    /// One measure as published. A nil count is hidden (`countIsSmall`: shown `<11`, else
    /// `suppressed`); a nil median or p90 is hidden and shown `<11`.
    public struct Figure: Sendable, Equatable {
        public var count: Int?
        public var countIsSmall: Bool
        public var median: Double?
        public var p90: Double?
        /// First answers only: the share answered by the deadline, in whole percent; nil when
        /// hidden (fewer than k due, shown `<11`) or, unsuppressed, when none was due.
        public var inTimePercent: Int?

        public var shownCount: String { Suppression.display(count, small: countIsSmall) }
        public static func shown(_ time: Double?) -> String { time.map { String(format: "%.1f", $0) } ?? "<11" }
    }

    public struct PublishedGroup: Sendable, Equatable {
        public var key: String
        public var firstAnswer: Figure
        public var completion: Figure
    }

    public struct Published: Sendable, Equatable {
        public var groups: [PublishedGroup]
        public var overall: PublishedGroup
    }

    /// Whether a time measured over `count` referrals may be published.
    public static func publishesTime(over count: Int) -> Bool { count >= Suppression.k }

    /// The groups (in the order given) and the whole scope, as they may be released: exactly
    /// for an operational release; else counts suppressed (consistently with `within`, the
    /// measures of the months a quarter or year is made of) and times over fewer than k hidden.
    public static func publish(_ groups: [Group], overall: Group, release: ReportRelease = .published,
                               within months: [(groups: [Group], overall: Group)] = []) -> Published {
        func counts(_ groups: [Group], _ overall: Group, _ measure: KeyPath<Group, Measured>, within: [Suppression.Table]) -> Suppression.Table {
            let (keys, values, total) = (groups.map(\.key), groups.map { [$0[keyPath: measure].count] }, overall[keyPath: measure].count)
            if !release.suppresses { return Suppression.exact(rowKeys: keys, columnKeys: [], counts: values, rowTotals: [], columnTotals: [], total: total) }
            if within.isEmpty { return Suppression.table(rowKeys: keys, columnKeys: [], counts: values, rowTotals: [], columnTotals: [], total: total) }
            return Suppression.table(rowKeys: keys, columnKeys: [], counts: values, rowTotals: [], columnTotals: [], total: total, within: within)
        }
        func measure(_ path: KeyPath<Group, Measured>) -> Suppression.Table {
            counts(groups, overall, path, within: months.map { counts($0.groups, $0.overall, path, within: []) })
        }
        let answered = measure(\.firstAnswer), completed = measure(\.completion)
        func figure(_ measured: Measured, count: Int?, small: Bool) -> Figure {
            let shown = release.suppresses ? publishesTime(over: measured.count) : measured.count > 0
            // A share over fewer than k due referrals would tell one organisation's handling of one person.
            let share = release.suppresses ? publishesTime(over: measured.due) : measured.due > 0
            return Figure(count: count, countIsSmall: small, median: shown ? measured.median.map(rounded) : nil,
                          p90: shown ? measured.p90.map(rounded) : nil,
                          inTimePercent: share ? Int((Double(measured.inTime) * 100 / Double(measured.due)).rounded()) : nil)
        }
        let published = groups.indices.map { index in
            PublishedGroup(
                key: groups[index].key,
                firstAnswer: figure(groups[index].firstAnswer, count: answered.cells[index][0], small: answered.cellIsSmall(row: index, column: 0)),
                completion: figure(groups[index].completion, count: completed.cells[index][0], small: completed.cellIsSmall(row: index, column: 0)))
        }
        let whole = PublishedGroup(
            key: overall.key,
            firstAnswer: figure(overall.firstAnswer, count: answered.total, small: answered.totalIsSmall),
            completion: figure(overall.completion, count: completed.total, small: completed.totalIsSmall))
        return Published(groups: published, overall: whole)
    }

    /// To a tenth: finer would only echo single timestamps back.
    static func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
}
