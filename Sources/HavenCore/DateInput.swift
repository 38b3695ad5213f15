import Foundation

/// Dates and instants as clients write them, read strictly: a calendar date is `YYYY-MM-DD`, an
/// instant RFC 3339 (`2026-11-22T10:00:00Z`, `2026-11-22T12:00:00.5+02:00`) with its offset.
/// Nothing is rolled over (30 February is not 2 March, 25:00 is not the next day), a leap
/// second is refused rather than guessed, and years stay within `years`: a case's dates lie in
/// living memory or a plannable future, and anything else is a typing slip that would otherwise
/// be stored and shown as some other day.
public enum DateInput {
    public static let years: ClosedRange<Int> = 1900...2200

    /// Set (to `true`) in a decoder's `userInfo` when it reads a client's input: a `CalendarDate`
    /// then holds to `years`. Stored values are read as they were stored, so an older record
    /// outside the range still opens.
    public static let userInfoKey = CodingUserInfoKey(rawValue: "haven.date-input")!

    /// `YYYY-MM-DD`, a real day within `years`.
    public static func day(_ text: some StringProtocol) -> CalendarDate? {
        var text = String(text)
        return text.withUTF8 { day(utf8: UnsafeRawBufferPointer($0)) }
    }

    public static func day(utf8 bytes: UnsafeRawBufferPointer) -> CalendarDate? {
        guard let date = CalendarDate(utf8: bytes), years.contains(date.year) else { return nil }
        return date
    }

    /// An RFC 3339 date-time with a `Z` or `±HH:MM` offset, its day within `years`.
    public static func instant(_ text: some StringProtocol) -> Date? {
        var text = String(text)
        return text.withUTF8 { instant(utf8: UnsafeRawBufferPointer($0)) }
    }

    public static func instant(utf8 bytes: UnsafeRawBufferPointer) -> Date? {
        guard bytes.count >= 20, bytes.count <= 35, let day = day(utf8: UnsafeRawBufferPointer(rebasing: bytes[0..<10])),
              bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: "t"),
              bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":"),
              let hour = number(bytes, 11), let minute = number(bytes, 14), let second = number(bytes, 17),
              hour <= 23, minute <= 59, second <= 59
        else { return nil }
        var index = 19
        var fraction = 0.0
        if bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            let start = index
            while index < bytes.count, let digit = digit(bytes[index]) {
                fraction += Double(digit) * scale
                scale /= 10
                index += 1
            }
            guard index > start, index - start <= 9 else { return nil }
        }
        guard index < bytes.count else { return nil }
        var offset = 0
        switch bytes[index] {
        case UInt8(ascii: "Z"), UInt8(ascii: "z"):
            index += 1
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                  let hours = number(bytes, index + 1), let minutes = number(bytes, index + 4), hours <= 23, minutes <= 59
            else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "-") ? -1 : 1)
            index += 6
        default:
            return nil
        }
        guard index == bytes.count else { return nil }
        let seconds = day.daysSince1970 * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(seconds) + fraction)
    }

    private static func digit(_ byte: UInt8) -> Int? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int(byte - UInt8(ascii: "0")) : nil
    }

    /// Two digits at `index`.
    private static func number(_ bytes: UnsafeRawBufferPointer, _ index: Int) -> Int? {
        guard index + 1 < bytes.count, let tens = digit(bytes[index]), let ones = digit(bytes[index + 1]) else { return nil }
        return tens * 10 + ones
    }
}

extension CalendarDate {
    /// Days from 1970-01-01 (negative before it): the inverse of `init(daysSince1970:)`.
    public var daysSince1970: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }
}
