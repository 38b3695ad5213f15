import Foundation

/// The days a report covers, `first` to `last`, both included. A release that leaves the
/// organisation covers exactly one calendar month, quarter or year (`unit`): any two such
/// periods are disjoint or one is made of whole months of the other, so two reports never
/// differ by a day (`ReportRelease`).
public struct ReportPeriod: Sendable, Equatable, CustomStringConvertible {
    public enum Unit: String, Sendable, CaseIterable { case month, quarter, year }

    public var first: CalendarDate
    public var last: CalendarDate

    /// Any span of days, `last` not before `first`.
    public init?(first: CalendarDate, last: CalendarDate) {
        guard first <= last else { return nil }
        (self.first, self.last) = (first, last)
    }

    /// `2026` (a year), `2026-Q4` (a quarter) or `2026-03` (a month), in the years 1900–2200;
    /// exactly those shapes.
    public init?(name: String) {
        let bytes = Array(name.utf8)
        guard bytes.count >= 4, bytes.prefix(4).allSatisfy({ (48...57).contains($0) }), let year = Int(String(decoding: bytes.prefix(4), as: UTF8.self)),
              (1900...2200).contains(year) else { return nil }
        let rest = Array(bytes.dropFirst(4))
        let digits = rest.count == 3 && rest[0] == UInt8(ascii: "-") ? Int(String(decoding: rest.dropFirst(), as: UTF8.self)) : nil
        switch rest.count {
        case 0:
            self.init(year: year, months: 1...12)
        case 3 where rest[0] == UInt8(ascii: "-") && rest[1] == UInt8(ascii: "Q") && (49...52).contains(rest[2]):
            let quarter = Int(rest[2]) - 48
            self.init(year: year, months: (3 * quarter - 2)...(3 * quarter))
        case 3 where rest[1...].allSatisfy({ (48...57).contains($0) }):
            guard let month = digits, (1...12).contains(month) else { return nil }
            self.init(year: year, months: month...month)
        default:
            return nil
        }
    }

    init?(year: Int, months: ClosedRange<Int>) {
        guard let first = CalendarDate(year: year, month: months.lowerBound, day: 1),
              let last = CalendarDate(year: year, month: months.upperBound, day: CalendarDate.days(in: months.upperBound, year: year)) else { return nil }
        (self.first, self.last) = (first, last)
    }

    /// What whole calendar unit this period is, if it is one.
    public var unit: Unit? {
        guard first.day == 1, first.year == last.year, last.day == CalendarDate.days(in: last.month, year: last.year) else { return nil }
        switch (first.month, last.month) {
        case (1, 12): return .year
        case let (from, to) where from == to: return .month
        case let (from, to) where to == from + 2 && from % 3 == 1: return .quarter
        default: return nil
        }
    }

    /// The whole months of a whole period, in order (empty for any other span).
    public var months: [ReportPeriod] {
        guard unit != nil else { return [] }
        return (first.month...last.month).compactMap { ReportPeriod(year: first.year, months: $0...$0) }
    }

    /// `2026`, `2026-Q4` or `2026-03` for a whole period; otherwise the two days.
    public var description: String {
        switch unit {
        case .year: return String(first.year)
        case .quarter: return "\(first.year)-Q\((first.month - 1) / 3 + 1)"
        case .month: return "\(first.year)-\(first.month < 10 ? "0" : "")\(first.month)"
        case nil: return "\(first)…\(last)"
        }
    }

    /// The calendar year, quarter or month holding `day`.
    public static func containing(_ day: CalendarDate, _ unit: Unit) -> ReportPeriod? {
        switch unit {
        case .year: return ReportPeriod(year: day.year, months: 1...12)
        case .quarter: return ReportPeriod(year: day.year, months: ((day.month - 1) / 3 * 3 + 1)...((day.month - 1) / 3 * 3 + 3))
        case .month: return ReportPeriod(year: day.year, months: day.month...day.month)
        }
    }

    /// Choices for a form, newest first: the last `months` months, `quarters` quarters and `years` years up to `today`.
    public static func recent(_ today: CalendarDate, months: Int = 12, quarters: Int = 8, years: Int = 3) -> [ReportPeriod] {
        var result: [ReportPeriod] = []
        var (year, month) = (today.year, today.month)
        for _ in 0..<months {
            if let period = ReportPeriod(year: year, months: month...month) { result.append(period) }
            (year, month) = month == 1 ? (year - 1, 12) : (year, month - 1)
        }
        var quarter = (today.month - 1) / 3 + 1
        year = today.year
        for _ in 0..<quarters {
            if let period = ReportPeriod(year: year, months: (3 * quarter - 2)...(3 * quarter)) { result.append(period) }
            (year, quarter) = quarter == 1 ? (year - 1, 4) : (year, quarter - 1)
        }
        result += (0..<years).compactMap { ReportPeriod(year: today.year - $0, months: 1...12) }
        return result
    }
}
