import Foundation

/// Conversions between `Date` and PostgreSQL's timestamp representations, exact over the whole
/// range PostgreSQL accepts (4713 BC to 294276 AD), without a `DateFormatter`.
enum PGTimestamp {
    static let microsecondsPerDay: Int64 = 86_400_000_000
    /// Seconds from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
    static let postgresEpochOffset: Int64 = 946_684_800

    /// Microseconds since PostgreSQL's epoch, the form its own range (4713 BC – 294276 AD)
    /// fits in; nil for an instant no Int64 holds (PostgreSQL could not store it either).
    static func postgresMicroseconds(_ date: Date) -> Int64? {
        let micros = ((date.timeIntervalSince1970 - Double(postgresEpochOffset)) * 1_000_000).rounded()
        return Int64(exactly: micros)
    }

    static func date(fromPostgresMicroseconds value: Int64) -> Date {
        let seconds = Double(value / 1_000_000) + Double(value % 1_000_000) / 1_000_000
        return Date(timeIntervalSince1970: seconds + Double(postgresEpochOffset))
    }

    static func date(fromPostgresDays days: Int32) -> Date {
        Date(timeIntervalSince1970: Double(Int64(days) * 86_400 + postgresEpochOffset))
    }

    /// ISO 8601 text in UTC, e.g. `2026-11-22 10:00:00.000001+00` or `4713-01-01 00:00:00+00 BC`.
    static func text(fromPostgresMicroseconds micros: Int64) -> String {
        let days = floorDivide(micros, microsecondsPerDay)
        var rest = micros - days * microsecondsPerDay
        // 10957 days from 1970-01-01 to 2000-01-01.
        let (year, month, day) = civil(fromDays: days + 10_957)
        let hour = rest / 3_600_000_000
        rest -= hour * 3_600_000_000
        let minute = rest / 60_000_000
        rest -= minute * 60_000_000
        let second = rest / 1_000_000
        let fraction = rest - second * 1_000_000
        let displayYear = year <= 0 ? 1 - year : year
        var text = pad(displayYear, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        text += " " + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2)
        if fraction != 0 { text += "." + pad(fraction, 6) }
        text += "+00"
        if year <= 0 { text += " BC" }
        return text
    }

    static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    /// Proleptic Gregorian (year, month, day) for days since 1970-01-01 (H. Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
