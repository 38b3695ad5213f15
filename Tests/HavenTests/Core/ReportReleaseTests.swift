import Foundation
import HavenCore
import Testing

/// How reports are released (issue 25 §2), without a database: which release applies, which
/// periods a published release allows, quarters and years consistent with their months, and the
/// k-anonymous statistics export.
@Suite struct ReportReleaseTests {
    static let organisation = UUID(), other = UUID()
    static func actor(_ role: Role, in organisation: UUID = organisation) -> Actor { Actor(userID: UUID(), organisationID: organisation, role: role) }
    static func day(_ text: String) -> CalendarDate { CalendarDate(text)! }

    // MARK: Which release

    @Test func aSupervisorReadsTheirOrganisationExactlyAndEverythingElseIsPublished() {
        #expect(AccessPolicy.release(Self.actor(.supervisor)) == .operational)
        #expect(AccessPolicy.release(Self.actor(.auditor)) == .published, "national figures leave every organisation")
        #expect(AccessPolicy.release(Self.actor(.supervisor), rowLevel: true) == .published, "the row-level export always leaves")
        for role in [Role.caseworker, .partner, .admin] {
            #expect(AccessPolicy.release(Self.actor(role)) == .published, "\(role) reads no report; were it let in, it would be suppressed")
        }
        #expect(!ReportRelease.operational.suppresses && ReportRelease.published.suppresses)
    }

    // MARK: Periods

    @Test func periodsAreNamedMonthsQuartersAndYears() throws {
        #expect(ReportPeriod(name: "2026")?.unit == .year)
        #expect(ReportPeriod(name: "2026")?.last == Self.day("2026-12-31"))
        #expect(ReportPeriod(name: "2026-Q1")?.unit == .quarter)
        #expect(ReportPeriod(name: "2026-Q1")?.last == Self.day("2026-03-31"))
        #expect(ReportPeriod(name: "2024-02")?.last == Self.day("2024-02-29"), "a leap year's February")
        #expect(ReportPeriod(name: "2026-02")?.months.count == 1)
        #expect(ReportPeriod(name: "2026-Q4")?.months.map(\.description) == ["2026-10", "2026-11", "2026-12"])
        #expect(ReportPeriod(name: "2026")?.months.count == 12)
        for bad in ["", "2026-Q", "2026-Q5", "2026-Q0", "2026-13", "2026-00", "+2026", "26", "2026-1", "1899", "2201", "2026-03-01", "٢٠٢٦"] {
            #expect(ReportPeriod(name: bad) == nil, "\(bad)")
        }
        for name in ["2026", "2026-Q3", "2026-07"] { #expect(ReportPeriod(name: name)?.description == name) }
    }

    @Test func aPublishedReleaseTakesOnlyOneWholeMonthQuarterOrYearWithToIncluded() throws {
        let today = Self.day("2026-12-07")
        func asked(_ from: String, _ to: String) -> ReportPeriod { ReportPeriod(first: Self.day(from), last: Self.day(to))! }
        for (from, to) in [("2026-03-01", "2026-03-31"), ("2026-01-01", "2026-03-31"), ("2025-01-01", "2025-12-31"), ("2024-02-01", "2024-02-29")] {
            #expect(try ReportRelease.published.period(asked(from, to), fields: ["from", "to"], today: today) == asked(from, to))
        }
        // A day short or long, two months, a quarter out of step, a span across years: refused, naming both fields.
        for (from, to) in [("2026-03-01", "2026-03-30"), ("2026-03-01", "2026-04-01"), ("2026-03-02", "2026-03-31"), ("2026-01-01", "2026-02-28"),
                           ("2026-02-01", "2026-04-30"), ("2025-12-01", "2026-11-30"), ("2026-03-01", "2026-03-01"), ("2025-01-01", "2026-12-31")] {
            #expect(throws: ValidationFailure.self, "\(from)…\(to)") {
                try ReportRelease.published.period(asked(from, to), fields: ["from", "to"], today: today)
            }
            do {
                _ = try ReportRelease.published.period(asked(from, to), fields: ["from", "to"], today: today)
            } catch let failure as ValidationFailure {
                #expect(failure.errors.map(\.field) == ["from", "to"])
            } catch {}
            // An organisation's own supervisors may ask for any span.
            #expect(try ReportRelease.operational.period(asked(from, to), fields: ["from", "to"], today: today) == asked(from, to))
        }
        #expect(try ReportRelease.published.period(nil, fields: [], today: today)?.description == "2026-Q3", "no period: the latest published quarter")
        #expect(try ReportRelease.operational.period(nil, fields: [], today: today) == nil, "no period: every day")
    }

    @Test func aPublishedPeriodIsReleasedThirtyDaysAfterItEndsAndNotBefore() throws {
        #expect(ReportRelease.graceDays == 30)
        #expect(ReportPeriod(name: "2026-10")?.publishedOn == Self.day("2026-12-01"))
        #expect(ReportPeriod(name: "2026-02")?.publishedOn == Self.day("2026-03-31"))
        #expect(ReportPeriod(name: "2026-Q3")?.publishedOn == Self.day("2026-10-31"))
        #expect(ReportPeriod(name: "2025")?.publishedOn == Self.day("2026-01-31"))
        #expect(ReportPeriod(name: "2024-12")?.publishedOn == Self.day("2025-01-31"), "across a year's end")
        let today = Self.day("2026-12-07")
        // The running month, quarter and year, and a month ended a week ago: each still changes.
        for name in ["2026-12", "2026-Q4", "2026", "2026-11"] {
            let period = try #require(ReportPeriod(name: name))
            do {
                _ = try ReportRelease.published.period(period, fields: ["period"], today: today)
                Issue.record("\(name) is not published on \(today)")
            } catch let failure as ValidationFailure {
                #expect(failure.errors.map(\.field) == ["period"])
                #expect(failure.errors.first?.reason.contains("published from") == true, "\(failure.errors)")
            }
            #expect(try ReportRelease.operational.period(period, fields: ["period"], today: today) == period, "a supervisor's own figures run to today")
        }
        #expect(try ReportRelease.published.period(ReportPeriod(name: "2026-10"), fields: ["period"], today: today)?.description == "2026-10")
        #expect(throws: ValidationFailure.self, "refused the day before") {
            try ReportRelease.published.period(ReportPeriod(name: "2026-10"), fields: ["period"], today: Self.day("2026-11-30"))
        }
    }

    @Test func theLatestPublishedPeriodOfEachUnit() {
        let today = Self.day("2026-12-07")
        #expect(ReportPeriod.latestPublished(.month, today: today)?.description == "2026-10")
        #expect(ReportPeriod.latestPublished(.quarter, today: today)?.description == "2026-Q3")
        #expect(ReportPeriod.latestPublished(.year, today: today)?.description == "2025")
        #expect(ReportPeriod.latestPublished(.quarter, today: Self.day("2026-01-30"))?.description == "2025-Q3", "Q4 2025 comes out on 30 January")
        #expect(ReportPeriod.latestPublished(.quarter, today: Self.day("2026-01-31"))?.description == "2025-Q4")
    }

    @Test func recentChoicesAreMonthsQuartersAndYearsNewestFirst() {
        let recent = ReportPeriod.recent(Self.day("2026-02-10"))
        #expect(recent.filter { $0.unit == .month }.prefix(3).map(\.description) == ["2026-02", "2026-01", "2025-12"])
        #expect(recent.filter { $0.unit == .quarter }.prefix(2).map(\.description) == ["2026-Q1", "2025-Q4"])
        #expect(recent.filter { $0.unit == .year }.map(\.description) == ["2026", "2025", "2024"])
        #expect(recent.allSatisfy { $0.unit != nil })
    }

    // MARK: A quarter consistent with its months

    @Test func aQuarterHidesWhatAnyOfItsMonthsHides() {
        // By sex: January 20 female, 1 male; February 15 female; March 12 female.
        let months = [[20, 1], [15, 0], [12, 0]].map { counts in
            Suppression.table(rowKeys: ["female", "male"], columnKeys: [], counts: counts.map { [$0] }, rowTotals: [], columnTotals: [], total: counts.reduce(0, +))
        }
        #expect(months[0].cells[1][0] == nil && months[0].cellIsSmall(row: 1, column: 0))
        #expect(months[0].cells[0][0] == nil || months[0].total == nil, "January hides a complement for its one man")
        let quarter = Suppression.table(rowKeys: ["female", "male"], columnKeys: [], counts: [[47], [1]], rowTotals: [], columnTotals: [], total: 48,
                                        within: months)
        // Alone, the quarter would publish female 47 and total 48 beside a <11 male: 48 − 47 gives January's one man.
        #expect(quarter.cells[1][0] == nil && quarter.cellIsSmall(row: 1, column: 0))
        let januaryHidden = months[0].cells[0][0] == nil
        #expect((quarter.cells[0][0] == nil) == januaryHidden, "female is hidden in the quarter exactly when a month hides it")
        #expect((quarter.total == nil) == (months[0].total == nil))
        // Every published count of the quarter is the sum of its months' published counts.
        if let female = quarter.cells[0][0] { #expect(female == months.compactMap { $0.cells[0][0] }.reduce(0, +)) }
        if let total = quarter.total { #expect(total == months.compactMap(\.total).reduce(0, +)) }
        #expect(!(quarter.cells[0][0] != nil && quarter.total != nil), "female and total are never both published beside a hidden man")
    }

    @Test func anOperationalTableIsExact() {
        let table = Suppression.exact(rowKeys: ["a", "b"], columnKeys: ["x", "y"], counts: [[1, 2], [0, 30]], rowTotals: [3, 30], columnTotals: [1, 32], total: 33)
        #expect(table.cells == [[1, 2], [0, 30]])
        #expect(table.rowTotals == [3, 30] && table.columnTotals == [1, 32] && table.total == 33)
        #expect(!table.cellIsSmall(row: 0, column: 0))
    }

    // MARK: The export

    static func exported(_ count: Int, on day: String = "2026-02-10", citizenship: String = "MD", country: String? = "RU", months: Int? = 4,
                         means: [String] = ["threats"], ageBand: String = "21-23", sex: String = "female") -> [StatisticsExport.Case] {
        Array(repeating: StatisticsExport.Case(identifiedOn: Self.day(day), caseType: "trafficking", sex: sex, ageBand: ageBand, citizenship: citizenship,
                                               countryOfExploitation: country, monthsExploited: months, meansOfControl: means), count: count)
    }

    @Test func theExportGeneralisesEachColumn() {
        let row = StatisticsExport.generalised(Self.exported(1, on: "2026-05-31", citizenship: "UA", country: "JP", months: 31,
                                                             means: ["debt_bondage", "substances"], ageBand: "48+")[0])
        #expect(row == ["2026-Q2", "trafficking", "female", "30+", "eastern_europe", "rest_of_asia", "12+", "several"])
        #expect(StatisticsExport.header.count == row.count)
        #expect(StatisticsExport.ageGroup("9-17") == "0-17" && StatisticsExport.ageGroup(nil) == "unknown")
        #expect(StatisticsExport.monthsBand(0) == "0-5" && StatisticsExport.monthsBand(6) == "6-11" && StatisticsExport.monthsBand(nil) == "unknown")
        #expect(StatisticsExport.meansBand([]) == "none" && StatisticsExport.meansBand(["threats"]) == "one")
        #expect(Region.of("MD") == "eastern_europe" && Region.of(nil) == "unknown" && Region.of("ZZ") == "other")
        #expect(CountryCode.all.filter { Region.of($0) == "other" }.sorted() == ["AQ", "BV", "HM"], "every inhabited country has a region")
    }

    @Test func everyExportedRowSharesAllItsValuesWithAtLeastTenOthers() {
        var generator = SplitMix64(seed: 25)
        var cases = Self.exported(14) + Self.exported(11, on: "2026-04-02") + Self.exported(3, on: "2026-02-11", citizenship: "UA")
        cases += Self.exported(1, on: "2026-03-14", citizenship: "NG", country: "JP", months: 31, means: ["debt_bondage", "substances"], ageBand: "48+")
        // And 200 of assorted descriptions.
        let bands = ["18-20", "21-23", "30-38", "48+", "9-17"], countries = ["MD", "UA", "RO", "RU", "NG", "VN"]
        for _ in 0..<200 {
            cases += Self.exported(1, on: "2026-0\(Int.random(in: 1...9, using: &generator))-01", citizenship: countries.randomElement(using: &generator)!,
                                   country: countries.randomElement(using: &generator), months: Int.random(in: 0...30, using: &generator),
                                   means: Array(["threats", "debt_bondage"].prefix(Int.random(in: 0...2, using: &generator))),
                                   ageBand: bands.randomElement(using: &generator)!, sex: ["female", "male"].randomElement(using: &generator)!)
        }
        let release = StatisticsExport.release(cases)
        var classes: [[String]: Int] = [:]
        for row in release.rows { classes[row, default: 0] += 1 }
        #expect(classes.values.allSatisfy { $0 >= Suppression.k }, "\(classes.filter { $0.value < Suppression.k })")
        #expect(release.rows.count + release.leftOut == cases.count)
        #expect((classes[["2026-Q1", "trafficking", "female", "18-29", "eastern_europe", "eastern_europe", "0-5", "one"]] ?? 0) >= 14, "the 14 alike stay")
        #expect((classes[["2026-Q2", "trafficking", "female", "18-29", "eastern_europe", "eastern_europe", "0-5", "one"]] ?? 0) >= 11, "and the 11 of April")
        #expect(!release.rows.contains { $0.contains("africa") && $0.contains("rest_of_asia") && $0.contains("several") && $0.contains("12+") },
                "the one exploited in Japan for 31 months is not published as such")
        #expect(release.rows.contains { $0[3] == "*" }, "rows of small classes are generalised once more before any is left out")
    }

    @Test func fewerThanElevenAlikeAreLeftOut() {
        let release = StatisticsExport.release(Self.exported(10))
        #expect(release.rows.isEmpty && release.leftOut == 10)
        #expect(StatisticsExport.release(Self.exported(11)).rows.count == 11)
    }
}
