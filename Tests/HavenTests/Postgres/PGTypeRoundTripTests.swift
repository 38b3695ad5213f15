import Foundation
import Postgres
import Testing

/// Every Swift type the layer decodes goes to the server as a bound parameter and comes back
/// in binary, unchanged.
@Suite struct PGTypeRoundTripTests {
    static func echo<T: PGDecodable>(_ connection: PGConnection, _ sql: String, _ value: (any PGEncodable)?, as: T.Type = T.self) throws -> T {
        try connection.query(sql, [value])[0].decode(T.self, at: 0)
    }

    @Test func integers() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for value in [0, 1, -1, 42, Int(Int32.max) + 1, Int.max, Int.min] {
                #expect(try Self.echo(connection, "SELECT $1::int8", value, as: Int.self) == value)
            }
            for value in [Int64.max, Int64.min, 0, -9_007_199_254_740_993] {
                #expect(try Self.echo(connection, "SELECT $1::int8", value, as: Int64.self) == value)
            }
            for value in [Int32.max, Int32.min, 0, -1] {
                #expect(try Self.echo(connection, "SELECT $1::int4", value, as: Int32.self) == value)
                // int4 widens to Int and Int64.
                #expect(try Self.echo(connection, "SELECT $1::int4", value, as: Int.self) == Int(value))
                #expect(try Self.echo(connection, "SELECT $1::int4", value, as: Int64.self) == Int64(value))
            }
            #expect(try Self.echo(connection, "SELECT $1::int2", 32767, as: Int.self) == 32767)
            #expect(try Self.echo(connection, "SELECT $1::int2", -32768, as: Int32.self) == -32768)
            // An int8 that fits decodes as Int32.
            #expect(try Self.echo(connection, "SELECT $1::int8", 7, as: Int32.self) == 7)
        }
    }

    @Test func doubles() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let values: [Double] = [0, 0.1, 1.0 / 3.0, -2.5, 1e-300, 1e300, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
                                    .leastNormalMagnitude, .leastNonzeroMagnitude, .pi, .infinity, -.infinity]
            for value in values {
                let back = try Self.echo(connection, "SELECT $1::float8", value, as: Double.self)
                #expect(back == value, "\(value)")
                #expect(back.bitPattern == value.bitPattern, "\(value)")
            }
            let negativeZero = try Self.echo(connection, "SELECT $1::float8", -0.0, as: Double.self)
            #expect(negativeZero == 0)
            #expect(negativeZero.sign == .minus)
            #expect(try Self.echo(connection, "SELECT $1::float8", Double.nan, as: Double.self).isNaN)
            // float4 and integers decode as Double too.
            #expect(try Self.echo(connection, "SELECT $1::float4", 1.5, as: Double.self) == 1.5)
            #expect(try Self.echo(connection, "SELECT $1::int8", 12, as: Double.self) == 12)
        }
    }

    @Test func booleans() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            #expect(try Self.echo(connection, "SELECT $1::bool", true, as: Bool.self) == true)
            #expect(try Self.echo(connection, "SELECT $1::bool", false, as: Bool.self) == false)
            #expect(try connection.query("SELECT $1::bool = true", [true])[0].decode(Bool.self, at: 0))
        }
    }

    @Test func strings() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let hundredKB = String((0..<100_000).map { index in Character(Unicode.Scalar(UInt8(0x20 + index % 95))) })
            let values = [
                "", " ", "plain ascii", "Ĉu vi parolas? Чи говорите? هل تتكلم؟ 日本語",
                "🇲🇩 👩‍👩‍👧‍👦 🏳️‍🌈", "e\u{301} vs \u{e9}", "a\u{300}\u{316}\u{35c}",  // combining marks, kept as sent
                "tab\tnewline\ncr\r", "quote ' double \" backslash \\ percent % dollar $1",
                String(repeating: "ü", count: 3000), hundredKB,
            ]
            for value in values {
                let back = try Self.echo(connection, "SELECT $1::text", value, as: String.self)
                #expect(Array(back.utf8) == Array(value.utf8), "\(value.prefix(40))")
            }
            #expect(try Self.echo(connection, "SELECT length($1::text)", hundredKB, as: Int.self) == 100_000)
            // varchar, char(n), name and unknown-typed literals all decode as String.
            #expect(try Self.echo(connection, "SELECT $1::varchar(20)", "var", as: String.self) == "var")
            #expect(try Self.echo(connection, "SELECT $1::char(5)", "ab", as: String.self) == "ab   ")
            #expect(try connection.query("SELECT current_user")[0].decode(String.self, at: 0) == "haven_app")
            #expect(try connection.query("SELECT 'literal'")[0].decode(String.self, at: 0) == "literal")
            #expect(try connection.query("SELECT '{\"a\": 1}'::json")[0].decode(String.self, at: 0) == "{\"a\": 1}")
        }
    }

    /// S20: a value that looks like SQL is stored literally and runs nothing.
    @Test func sqlLookingValueIsStoredLiterally() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            try connection.run(script: "CREATE TEMP TABLE x (id int PRIMARY KEY, note text NOT NULL)")
            let hostile = ["'); DROP TABLE x; --", "1; DELETE FROM x", "$1", "' OR '1'='1", "\\'; DROP TABLE x; --", "E'\\x00'"]
            for (index, value) in hostile.enumerated() {
                try connection.execute("INSERT INTO x (id, note) VALUES ($1, $2)", [index, value])
            }
            let rows = try connection.query("SELECT note FROM x ORDER BY id").rows
            #expect(try rows.map { try $0.decode(String.self, at: 0) } == hostile)
            #expect(try connection.query("SELECT count(*) FROM x WHERE note = $1", ["' OR '1'='1"])[0].decode(Int.self, at: 0) == 1)
            #expect(try connection.query("SELECT to_regclass('pg_temp.x') IS NOT NULL")[0].decode(Bool.self, at: 0))
            #expect(try connection.query("SELECT count(*) FROM x")[0].decode(Int.self, at: 0) == hostile.count)
        }
    }

    @Test func uuids() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            for value in [UUID(), UUID(uuidString: "00000000-0000-0000-0000-000000000000")!, UUID(uuidString: "FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF")!] {
                #expect(try Self.echo(connection, "SELECT $1::uuid", value, as: UUID.self) == value)
                // The server sees the same value (its text form is lower case).
                #expect(try Self.echo(connection, "SELECT $1::uuid::text", value, as: String.self) == value.uuidString.lowercased())
                // Bound where text is expected, it is Foundation's spelling.
                #expect(try Self.echo(connection, "SELECT $1::text", value, as: String.self) == value.uuidString)
            }
            let fromServer = try connection.query("SELECT '6f1c2a4e-1b2c-4d3e-8f40-0123456789ab'::uuid")[0].decode(UUID.self, at: 0)
            #expect(fromServer == UUID(uuidString: "6F1C2A4E-1B2C-4D3E-8F40-0123456789AB"))
        }
    }

    @Test func byteArrays() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let everyByte = (0...255).map { UInt8($0) }
            let values: [[UInt8]] = [[], [0], [0, 0, 0], [0, 1, 0, 0xFF, 0], everyByte, everyByte.reversed(), [UInt8](repeating: 0, count: 70_000)]
            for value in values {
                #expect(try Self.echo(connection, "SELECT $1::bytea", value, as: [UInt8].self) == value)
                #expect(try Self.echo(connection, "SELECT length($1::bytea)", value, as: Int.self) == value.count)
            }
            // The server sees the bytes, not a text rendering of them.
            #expect(try Self.echo(connection, "SELECT encode($1::bytea, 'hex')", [UInt8]([0x00, 0x5C, 0x27, 0xFF]), as: String.self) == "005c27ff")
            #expect(try connection.query("SELECT '\\x00ff'::bytea")[0].decode([UInt8].self, at: 0) == [0x00, 0xFF])
        }
    }

    struct Document: Codable, Equatable {
        var name: String
        var count: Int
        var tags: [String]
        var nested: [String: Bool]
        var note: String?
    }

    @Test func jsonDocuments() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let document = Document(name: "Ĉu \"quoted\" \\ 🇲🇩", count: -3, tags: ["a", "b,c", "{d}"], nested: ["x": true, "y": false], note: nil)
            let parameter = try PGJSON(encoding: document)
            let jsonb = try connection.query("SELECT $1::jsonb", [parameter])[0]
            #expect(try jsonb.decodeJSON(Document.self, at: 0) == document)
            // Through a jsonb column of a temp table, and as json (text kept as sent).
            try connection.run(script: "CREATE TEMP TABLE docs (id int, body jsonb, raw json)")
            try connection.execute("INSERT INTO docs VALUES (1, $1, $2)", [parameter, parameter])
            let row = try connection.query("SELECT body, raw, body->>'name', (body->>'count')::int FROM docs")[0]
            #expect(try row.decodeJSON(Document.self, at: 0) == document)
            #expect(try row.decodeJSON(Document.self, at: 1) == document)
            #expect(try row.decode(String.self, at: 1) == parameter.text)
            #expect(try row.decode(String.self, at: 2) == document.name)
            #expect(try row.decode(Int.self, at: 3) == -3)
            // jsonb decodes as its (normalised) text too.
            let text = try connection.query("SELECT $1::jsonb", [PGJSON(text: #"{"b": [1, 2], "a": "x"}"#)])[0].decode(String.self, at: 0)
            #expect(text == #"{"a": "x", "b": [1, 2]}"#)
            // A JSON scalar, array and null.
            #expect(try connection.query("SELECT $1::jsonb", [PGJSON(text: "[1,2,3]")])[0].decodeJSON([Int].self, at: 0) == [1, 2, 3])
            #expect(try connection.query("SELECT $1::jsonb", [PGJSON(text: "\"s\"")])[0].decodeJSON(String.self, at: 0) == "s")
            #expect(try connection.query("SELECT NULL::jsonb")[0].decodeJSON(Document.self, at: 0) == nil)
        }
    }

    /// `bigint[]` and `bytea[]` bound in binary come back element for element, empty ones too,
    /// and the server sees them as arrays of their type.
    @Test func binaryArrays() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let numbers: [Int64] = [0, 1, -1, Int64.max, Int64.min, 4_294_967_296]
            #expect(try connection.query("SELECT $1::bigint[]", [PGInt64Array(numbers)])[0].decodeArray(Int64.self, at: 0) == numbers)
            #expect(try connection.query("SELECT $1::bigint[]", [PGInt64Array([])])[0].decodeArray(Int64.self, at: 0) == [])
            let blobs: [[UInt8]] = [[], [0], [0, 255, 1], [UInt8](repeating: 0xAB, count: 300)]
            #expect(try connection.query("SELECT $1::bytea[]", [PGByteaArray(blobs)])[0].decodeArray([UInt8].self, at: 0) == blobs)
            #expect(try connection.query("SELECT cardinality($1::bytea[])", [PGByteaArray([])])[0].decode(Int.self, at: 0) == 0)
            let row = try connection.query(
                "SELECT ($1::bigint[])[4], octet_length(($2::bytea[])[4]), array_ndims($1::bigint[]), (SELECT count(*) FROM unnest($1::bigint[]) n WHERE n BETWEEN -1 AND 1)",
                [PGInt64Array(numbers), PGByteaArray(blobs)])[0]
            #expect(try row.decode(Int64.self, at: 0) == Int64.max)
            #expect(try row.decode(Int.self, at: 1) == 300)
            #expect(try row.decode(Int.self, at: 2) == 1)
            #expect(try row.decode(Int.self, at: 3) == 3)
        }
    }

    @Test func textArrays() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let tricky: [String?] = [
                "plain", "", "with space", " padded ", "comma,inside", "{braces}", "\"quotes\"", "back\\slash", "\\\"",
                "NULL", "null", nil, "ünï 🇲🇩", "new\nline", "}{", ",", "\\",
            ]
            let back = try connection.query("SELECT $1::text[]", [PGTextArray(tricky)])[0].decodeArray(String?.self, at: 0)
            #expect(back == tricky)
            // The server sees the same elements: a real NULL and the string "NULL" differ.
            let row = try connection.query(
                "SELECT cardinality($1::text[]), ($1::text[])[10], ($1::text[])[12] IS NULL, array_position($1::text[], 'comma,inside')",
                [PGTextArray(tricky)])[0]
            #expect(try row.decode(Int.self, at: 0) == tricky.count)
            #expect(try row.decode(String.self, at: 1) == "NULL")
            #expect(try row.decode(Bool.self, at: 2))
            #expect(try row.decode(Int.self, at: 3) == 5)

            let plain = ["a", "b", "c"]
            #expect(try connection.query("SELECT $1::text[]", [PGTextArray(plain)])[0].decodeArray(String.self, at: 0) == plain)
            #expect(try connection.query("SELECT $1::text[]", [PGTextArray([String]())])[0].decodeArray(String.self, at: 0) == [])
            #expect(try connection.query("SELECT cardinality($1::text[])", [PGTextArray([String]())])[0].decode(Int.self, at: 0) == 0)
            #expect(try connection.query("SELECT NULL::text[]")[0].decodeArray(String.self, at: 0) == nil)
            // Other element types.
            #expect(try connection.query("SELECT ARRAY[1, NULL, 3]::int8[]")[0].decodeArray(Int?.self, at: 0) == [1, nil, 3])
            #expect(try connection.query("SELECT $1::int4[]", [PGTextArray(["7", "-8"])])[0].decodeArray(Int32.self, at: 0) == [7, -8])
            let ids = [UUID(), UUID()]
            #expect(try connection.query("SELECT $1::uuid[]", [PGTextArray(ids.map(\.uuidString))])[0].decodeArray(UUID.self, at: 0) == ids)
            // Lookups by array parameter.
            try connection.run(script: "CREATE TEMP TABLE tags (name text)")
            for name in ["a,b", "c\"d", "e"] { try connection.execute("INSERT INTO tags VALUES ($1)", [name]) }
            let hits = try connection.query("SELECT count(*) FROM tags WHERE name = ANY($1::text[])", [PGTextArray(["a,b", "c\"d", "zzz"])])
            #expect(try hits[0].decode(Int.self, at: 0) == 2)
        }
    }

    @Test func numerics() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let exact = [
                "0", "1", "-1", "12345.6789", "0.0001", "0.00001234", "-0.5", "100000000", "10000", "9999", "1.50",
                "123456789012345678901234567890.123456789", "-98765432109876543210", "0.000000000000000000001", "NaN",
                "Infinity", "-Infinity",
            ]
            for text in exact {
                #expect(try Self.echo(connection, "SELECT $1::numeric", text, as: String.self) == text)
                // The same text as the server prints it.
                #expect(try Self.echo(connection, "SELECT $1::numeric::text", text, as: String.self) == text)
            }
            #expect(try Self.echo(connection, "SELECT $1::numeric", "12345.6789", as: Double.self) == 12345.6789)
            #expect(try Self.echo(connection, "SELECT $1::numeric", "-0.5", as: Double.self) == -0.5)
            #expect(try Self.echo(connection, "SELECT $1::numeric", "Infinity", as: Double.self) == .infinity)
            #expect(try Self.echo(connection, "SELECT $1::numeric", "42", as: Int.self) == 42)
            #expect(try Self.echo(connection, "SELECT $1::numeric", "-9223372036854775808", as: Int64.self) == Int64.min)
            // sum(int8) is numeric: the usual way one meets it.
            #expect(try connection.query("SELECT sum(x) FROM (VALUES (1::int8), (2), (3)) t(x)")[0].decode(Int.self, at: 0) == 6)
            // A Double parameter into numeric.
            #expect(try Self.echo(connection, "SELECT $1::numeric", 0.1, as: String.self) == "0.1")
        }
    }

    @Test func nullDecodesAsNilForEveryOptional() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let row = try connection.query("""
                SELECT NULL::int8, NULL::int4, NULL::int2, NULL::float8, NULL::bool, NULL::text, NULL::uuid,
                       NULL::timestamptz, NULL::bytea, NULL::jsonb, NULL::text[], NULL::numeric, NULL::date
                """)[0]
            #expect(try row.decode(Int?.self, at: 0) == nil)
            #expect(try row.decode(Int64?.self, at: 0) == nil)
            #expect(try row.decode(Int32?.self, at: 1) == nil)
            #expect(try row.decode(Int?.self, at: 2) == nil)
            #expect(try row.decode(Double?.self, at: 3) == nil)
            #expect(try row.decode(Bool?.self, at: 4) == nil)
            #expect(try row.decode(String?.self, at: 5) == nil)
            #expect(try row.decode(UUID?.self, at: 6) == nil)
            #expect(try row.decode(Date?.self, at: 7) == nil)
            #expect(try row.decode([UInt8]?.self, at: 8) == nil)
            #expect(try row.decodeJSON([String: Int].self, at: 9) == nil)
            #expect(try row.decode(String?.self, at: 9) == nil)
            #expect(try row.decodeArray(String.self, at: 10) == nil)
            #expect(try row.decode(Double?.self, at: 11) == nil)
            #expect(try row.decode(Date?.self, at: 12) == nil)
            for column in 0..<13 { #expect(row.isNull(column)) }
            // Optionals of non-NULL values decode the value.
            let values = try connection.query("SELECT 5::int8, 'x'::text")[0]
            #expect(try values.decode(Int?.self, at: 0) == 5)
            #expect(try values.decode(String?.self, at: 1) == "x")
            #expect(!values.isNull(0))
        }
    }

    @Test func nilParametersAreNull() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let none: Int? = nil
            let some: String? = "here"
            let row = try connection.query("SELECT $1::int8 IS NULL, $2::text, $3::uuid IS NULL, $4::bytea IS NULL", [none, some, nil, nil])[0]
            #expect(try row.decode(Bool.self, at: 0))
            #expect(try row.decode(String.self, at: 1) == "here")
            #expect(try row.decode(Bool.self, at: 2))
            #expect(try row.decode(Bool.self, at: 3))
            #expect(try connection.query("SELECT $1::text", [nil])[0].decode(String?.self, at: 0) == nil)
        }
    }

    /// A round trip's statements share one parameter buffer: each must still get exactly its
    /// own values, an empty value must not turn into NULL, and the buffer is reused next time.
    @Test func everyStatementOfARoundTripGetsItsOwnParameters() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let many = (1...18).map { "$\($0)::text" }.joined(separator: " || ',' || ")
            for round in 0..<2 {
                let id = UUID()
                let results = try connection.pipeline([
                    PGStatement("SELECT 1"),
                    PGStatement("SELECT $1::text, $2::bytea, $3::text IS NULL, $4::bytea", ["", [UInt8](), nil, [0, 255, UInt8(round)]]),
                    PGStatement("SELECT $1::uuid, $2::int8, $3::bool", [id, Int64.min + Int64(round), round == 0]),
                    PGStatement("SELECT \(many)", (1...18).map { String($0 + round) }),
                ])
                #expect(results.count == 4)
                let mixed = results[1][0]
                #expect(try mixed.decode(String?.self, at: 0) == "")
                #expect(try mixed.decode([UInt8]?.self, at: 1) == [])
                #expect(try mixed.decode(Bool.self, at: 2))
                #expect(try mixed.decode([UInt8].self, at: 3) == [0, 255, UInt8(round)])
                let typed = results[2][0]
                #expect(try typed.decode(UUID.self, at: 0) == id)
                #expect(try typed.decode(Int64.self, at: 1) == Int64.min + Int64(round))
                #expect(try typed.decode(Bool.self, at: 2) == (round == 0))
                #expect(try results[3][0].decode(String.self, at: 0) == (1...18).map { String($0 + round) }.joined(separator: ","))
            }
            // A NUL in any statement's text stops the whole round trip before anything is sent.
            #expect(throws: PGError.self) {
                try connection.pipeline([PGStatement("SELECT $1::text", ["fine"]), PGStatement("SELECT $1::text", ["a\u{0}b"])])
            }
            #expect(try connection.query("SELECT $1::text", ["after"])[0].decode(String.self, at: 0) == "after")
        }
    }

    @Test func decodeByColumnName() async throws {
        try await withTestDatabase { database in
            let connection = try database.connect()
            let result = try connection.query("SELECT 1::int8 AS one, 'two'::text AS two")
            #expect(result.rowCount == 1)
            #expect(result.columnCount == 2)
            #expect(result.columnName(1) == "two")
            #expect(result.columnIndex("one") == 0)
            #expect(result.columnIndex("three") == nil)
            #expect(try result[0].decode(Int.self, "one") == 1)
            #expect(try result[0].decode(String.self, "two") == "two")
            #expect(try connection.query("SELECT 1 WHERE false").first == nil)
        }
    }
}
