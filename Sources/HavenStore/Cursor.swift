import Foundation
import HavenCore
import Sealing

/// Opaque keyset-pagination cursors: the sort key of the last row a page showed, never an
/// identifying value (they travel in query strings).
public enum Cursor {
    public static func encode(_ values: [String]) -> String {
        // A JSON array of strings, written by hand: Foundation's encoder cost more than the
        // rest of a list page's bookkeeping.
        var json: [UInt8] = [UInt8(ascii: "[")]
        for (index, value) in values.enumerated() {
            if index > 0 { json.append(UInt8(ascii: ",")) }
            json.append(UInt8(ascii: "\""))
            for byte in value.utf8 {
                switch byte {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                    json.append(UInt8(ascii: "\\"))
                    json.append(byte)
                case 0..<0x20:
                    json.append(contentsOf: "\\u00".utf8)
                    json.append(hexDigits[Int(byte >> 4)])
                    json.append(hexDigits[Int(byte & 0xF)])
                default:
                    json.append(byte)
                }
            }
            json.append(UInt8(ascii: "\""))
        }
        json.append(UInt8(ascii: "]"))
        return Base64URL.encode(json)
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// The values, or a 400-worthy failure naming `cursor`.
    public static func decode(_ text: String, count: Int) throws -> [String] {
        guard text.utf8.count <= 512, let bytes = Base64URL.decode(text),
              let values = try? JSONDecoder().decode([String].self, from: Data(bytes)), values.count == count,
              // PostgreSQL text cannot hold a NUL: a forged key with one would fail in the database.
              !values.contains(where: { $0.utf8.contains(0) })
        else { throw Cursor.invalid }
        return values
    }

    /// A sort key and the row's id, as every two-part cursor holds them: the id must be a UUID,
    /// so a forged cursor is a 400 here and never a cast that fails in the database.
    public static func keyAndID(_ text: String) throws -> (key: String, id: UUID) {
        let values = try decode(text, count: 2)
        guard let id = UUID(uuidString: values[1]) else { throw invalid }
        return (values[0], id)
    }

    /// A time key (microseconds since 1970) and an id. The time is bounded well inside what
    /// PostgreSQL can add to its epoch, so a forged one cannot make the query fail.
    public static func timeAndID(_ text: String) throws -> (microseconds: Int64, id: UUID) {
        let (key, id) = try keyAndID(text)
        guard let microseconds = Int64(key), (-microsecondsBound...microsecondsBound).contains(microseconds) else { throw invalid }
        return (microseconds, id)
    }

    /// About 3,000 years either side of 1970.
    static let microsecondsBound: Int64 = 100_000_000_000_000_000

    /// A calendar date key and an id.
    public static func dateAndID(_ text: String) throws -> (date: CalendarDate, id: UUID) {
        let (key, id) = try keyAndID(text)
        guard let date = CalendarDate(key) else { throw invalid }
        return (date, id)
    }

    /// A cursor this list did not return: a bad query parameter (400).
    public static let invalid = StoreError.badQuery(FieldError("cursor", "is not a cursor this list returned"))
}

/// One page of a list and the cursor for the next, if any.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}
