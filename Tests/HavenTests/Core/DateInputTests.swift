import Foundation
import HavenCore
import Testing

/// Dates and instants from clients are read strictly: no rolling over, no leap second, an offset
/// always, years 1900–2200.
@Suite struct DateInputTests {
    @Test(arguments: ["2026-02-28", "2024-02-29", "1900-01-01", "2200-12-31"])
    func acceptsRealDays(_ text: String) {
        #expect(DateInput.day(text)?.description == text)
    }

    @Test(arguments: ["2026-02-30", "2025-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "0001-01-01", "1899-12-31", "2201-01-01",
                      "99999-01-01", "2026-1-01", "2026-01-01T00:00:00Z", " 2026-01-01", "２０２６-01-01"])
    func refusesOtherDays(_ text: String) {
        #expect(DateInput.day(text) == nil)
    }

    @Test func readsInstantsWithTheirOffset() throws {
        let utc = try #require(DateInput.instant("2026-11-22T10:00:00Z"))
        #expect(utc.timeIntervalSince1970 == 1_795_341_600)
        #expect(DateInput.instant("2026-11-22t10:00:00z") == utc)
        #expect(DateInput.instant("2026-11-22T12:30:00+02:30") == utc)
        #expect(DateInput.instant("2026-11-22T05:00:00-05:00") == utc)
        let fraction = try #require(DateInput.instant("2026-11-22T10:00:00.250Z"))
        #expect(fraction.timeIntervalSince1970 == 1_795_341_600.25)
        #expect(DateInput.instant("1900-01-01T00:00:00Z")?.timeIntervalSince1970 == -2_208_988_800)
        #expect(DateInput.instant("2026-03-01T00:00:00+00:00")?.timeIntervalSince1970 == 1_772_323_200)
    }

    @Test(arguments: [
        "2026-02-30T10:00:00Z", "2026-11-22T25:00:00Z", "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2026-11-22T23:59:60Z",
        "2026-11-22T10:00:00+24:00", "2026-11-22T10:00:00+02:60", "2026-11-22T10:00:00", "2026-11-22T10:00Z", "2026-11-22",
        "2026-11-22 10:00:00Z", "2026-11-22T10:00:00.Z", "2026-11-22T10:00:00.1234567890Z", "2026-11-22T10:00:00+0200",
        "2026-11-22T10:00:00 02:00", "0001-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "2201-01-01T00:00:00Z", "2026-11-22T10:00:00Zjunk",
    ])
    func refusesOtherInstants(_ text: String) {
        #expect(DateInput.instant(text) == nil)
    }

    @Test("days since 1970 and back agree across the whole range")
    func daysRoundTrip() throws {
        for days in stride(from: -25_567, through: 84_000, by: 37) {
            let date = try #require(CalendarDate(daysSince1970: days))
            #expect(date.daysSince1970 == days)
        }
    }
}
