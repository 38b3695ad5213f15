import Foundation
import HavenStore
import Testing

/// A list's next-page cursor carries the last row's sort key back unchanged, whatever its bytes.
@Suite struct CursorTests {
    @Test(arguments: [
        ["1763856000123456", "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"],
        ["MD-2026-000123", "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"],
        ["quote \" backslash \\ slash /", "tab\tnewline\ncontrol\u{01}"],
        ["Chișinău – 東京 – 🙂", ""],
    ])
    func roundTrips(_ values: [String]) throws {
        let cursor = Cursor.encode(values)
        #expect(cursor.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") })
        #expect(try Cursor.decode(cursor, count: values.count) == values)
    }

    @Test("a key holding a NUL byte is no cursor a list returned: PostgreSQL text cannot hold one")
    func rejectsANulByte() {
        #expect(throws: (any Error).self) { try Cursor.decode(Cursor.encode(["MD-2026\u{0}", "7D444840-9DC0-11D1-B245-5FFDCE74FAD2"]), count: 2) }
    }

    @Test func rejectsACursorOfAnotherShape() {
        #expect(throws: (any Error).self) { try Cursor.decode(Cursor.encode(["only-one"]), count: 2) }
    }
}
