import Foundation
import Postgres
import Testing

/// A value that does not fit the requested Swift type is an error, never a crash or a guess.
@Suite struct PGDecodingErrorTests {
    static func expectMismatch<T: PGDecodable>(_ row: PGRow, _ column: Int, as type: T.Type, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = PGTestSupport.pgError(sourceLocation: sourceLocation) { _ = try row.decode(T.self, at: column) }
        #expect(error?.kind == .typeMismatch, "decoding column \(column) as \(T.self)", sourceLocation: sourceLocation)
    }

    @Test func wrongTypesThrowTypeMismatch() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("""
                SELECT 'text'::text AS t, 42::int8 AS i, true AS b, gen_random_uuid() AS u, now() AS ts,
                       '\\x01'::bytea AS by, 1.5::float8 AS f, '{"a":1}'::jsonb AS j, ARRAY['a'] AS arr,
                       1.5::numeric AS n, 3000000000::int8 AS big, 'abc'::text AS notjson
                """)[0]
            Self.expectMismatch(row, 0, as: Int.self)
            Self.expectMismatch(row, 0, as: Int64.self)
            Self.expectMismatch(row, 0, as: Double.self)
            Self.expectMismatch(row, 0, as: Bool.self)
            Self.expectMismatch(row, 0, as: UUID.self)
            Self.expectMismatch(row, 0, as: Date.self)
            Self.expectMismatch(row, 0, as: [UInt8].self)
            Self.expectMismatch(row, 1, as: String.self)
            Self.expectMismatch(row, 1, as: Bool.self)
            Self.expectMismatch(row, 1, as: UUID.self)
            Self.expectMismatch(row, 1, as: Date.self)
            Self.expectMismatch(row, 2, as: Int.self)
            Self.expectMismatch(row, 2, as: String.self)
            Self.expectMismatch(row, 3, as: String.self)
            Self.expectMismatch(row, 4, as: Int.self)
            Self.expectMismatch(row, 4, as: String.self)
            Self.expectMismatch(row, 5, as: String.self)
            Self.expectMismatch(row, 6, as: Int.self)
            Self.expectMismatch(row, 7, as: Int.self)
            Self.expectMismatch(row, 8, as: String.self)
            Self.expectMismatch(row, 9, as: Int.self)  // 1.5 is no integer
            Self.expectMismatch(row, 10, as: Int32.self)  // 3e9 does not fit
            // Optional does not soften a mismatch.
            Self.expectMismatch(row, 0, as: Int?.self)
            // Out-of-range columns.
            Self.expectMismatch(row, 12, as: Int.self)
            Self.expectMismatch(row, -1, as: Int.self)
            let byName = PGTestSupport.pgError { _ = try row.decode(Int.self, "nope") }
            #expect(byName?.kind == .typeMismatch)
            // Not JSON, or JSON of another shape.
            let notJSON = PGTestSupport.pgError { _ = try row.decodeJSON([String: Int].self, at: 11) }
            #expect(notJSON?.kind == .typeMismatch)
            let wrongShape = PGTestSupport.pgError { _ = try row.decodeJSON([String].self, at: 7) }
            #expect(wrongShape?.kind == .typeMismatch)
            // An array of another element type.
            let wrongElements = PGTestSupport.pgError { _ = try row.decodeArray(Int.self, at: 8) }
            #expect(wrongElements?.kind == .typeMismatch)
        }
    }

    @Test func nullIntoANonOptionalThrows() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("SELECT NULL::int8 AS nothing, NULL::text, NULL::uuid, NULL::bool, NULL::timestamptz, NULL::bytea")[0]
            Self.expectMismatch(row, 0, as: Int.self)
            Self.expectMismatch(row, 1, as: String.self)
            Self.expectMismatch(row, 2, as: UUID.self)
            Self.expectMismatch(row, 3, as: Bool.self)
            Self.expectMismatch(row, 4, as: Date.self)
            Self.expectMismatch(row, 5, as: [UInt8].self)
            // The message names the column (never a value).
            let error = PGTestSupport.pgError { _ = try row.decode(Int.self, at: 0) }
            #expect(error?.message.contains("nothing") == true)
            // A NULL element in an array decoded as non-optional elements.
            let array = try connection.query("SELECT ARRAY['a', NULL]::text[]")[0]
            let element = PGTestSupport.pgError { _ = try array.decodeArray(String.self, at: 0) }
            #expect(element?.kind == .typeMismatch)
            #expect(try array.decodeArray(String?.self, at: 0) == ["a", nil])
        }
    }

    @Test func multidimensionalArraysAreRefused() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("SELECT ARRAY[ARRAY['a','b'], ARRAY['c','d']]")[0]
            let error = PGTestSupport.pgError { _ = try row.decodeArray(String.self, at: 0) }
            #expect(error?.kind == .typeMismatch)
        }
    }

    /// A NUL cannot travel in a text parameter: refuse it rather than cut the value short.
    @Test func nulCharacterInAStringParameterThrows() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE notes (body text)")
            for value in ["before\u{0}after", "\u{0}", "trailing\u{0}"] {
                let error = PGTestSupport.pgError { try connection.execute("INSERT INTO notes VALUES ($1)", [value]) }
                #expect(error?.kind == .invalidTextRepresentation)
            }
            let substring = "ab\u{0}cd".dropFirst()
            let fromSubstring = PGTestSupport.pgError { try connection.execute("INSERT INTO notes VALUES ($1)", [substring]) }
            #expect(fromSubstring?.kind == .invalidTextRepresentation)
            let inArray = PGTestSupport.pgError { _ = try connection.query("SELECT $1::text[]", [PGTextArray(["ok", "bad\u{0}"])]) }
            #expect(inArray?.kind == .invalidTextRepresentation)
            let inJSON = PGTestSupport.pgError { _ = try connection.query("SELECT $1::jsonb", [PGJSON(text: "\"a\u{0}b\"")]) }
            #expect(inJSON?.kind == .invalidTextRepresentation)
            // Nothing was stored, and the connection is fine.
            #expect(try connection.query("SELECT count(*) FROM notes")[0].decode(Int.self, at: 0) == 0)
            #expect(connection.isUsable())
            // NUL is fine in bytea.
            #expect(try connection.query("SELECT $1::bytea", [[UInt8]([0x61, 0, 0x62])])[0].decode([UInt8].self, at: 0) == [0x61, 0, 0x62])
        }
    }

    /// A Codable string holding NUL encodes as JSON `\u0000`, which jsonb refuses: an error, not a crash.
    @Test func escapedNulInJSONIsRefusedByTheServer() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let parameter = try PGJSON(encoding: ["note": "a\u{0}b"])
            let error = PGTestSupport.pgError { _ = try connection.query("SELECT $1::jsonb", [parameter]) }
            #expect(error?.sqlState != nil)
            #expect(connection.isUsable())
        }
    }

    @Test func badTextForATypedParameterIsInvalidTextRepresentation() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for (sql, value) in [("SELECT $1::int8", "twelve"), ("SELECT $1::uuid", "not-a-uuid"), ("SELECT $1::bool", "maybe")] {
                let error = PGTestSupport.pgError { _ = try connection.query(sql, [value]) }
                #expect(error?.kind == .invalidTextRepresentation, "\(sql)")
                #expect(error?.sqlState == "22P02")
            }
            #expect(connection.isUsable())
        }
    }
}
