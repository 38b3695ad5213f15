import HavenCore
import Postgres

/// A `date` column as a calendar date: the binary form (days since 2000-01-01) or, from a
/// `::text` cast, `YYYY-MM-DD`. Neither goes through a string or a `Date`.
extension CalendarDate: PGDecodable {
    public static func pgDecode(_ bytes: UnsafeRawBufferPointer, type: PGType) throws -> CalendarDate {
        if type == .date, bytes.count == 4 {
            let days = Int(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
            // 10 957 days from 1970-01-01 to PostgreSQL's epoch; infinity lands outside 1–9999.
            if let date = CalendarDate(daysSince1970: days + 10_957) { return date }
        } else if type == .text || type == .varchar, let date = CalendarDate(utf8: bytes) {
            return date
        }
        throw PGError(kind: .typeMismatch, message: "cannot decode \(type) as a calendar date")
    }
}
