import Foundation
import HavenCore
import Sealing

/// Opaque keyset-pagination cursors: the sort key of the last row a page showed, never an
/// identifying value (they travel in query strings).
public enum Cursor {
    public static func encode(_ values: [String]) -> String {
        let json = (try? JSONEncoder().encode(values)) ?? Data()
        return Base64URL.encode([UInt8](json))
    }

    /// The values, or a 400-worthy failure naming `cursor`.
    public static func decode(_ text: String, count: Int) throws -> [String] {
        guard text.utf8.count <= 512, let bytes = Base64URL.decode(text),
              let values = try? JSONDecoder().decode([String].self, from: Data(bytes)), values.count == count
        else { throw Cursor.invalid }
        return values
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
