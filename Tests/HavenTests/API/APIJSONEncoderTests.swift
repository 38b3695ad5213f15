import Foundation
import HavenCore
@testable import HavenAPI
import Testing

/// The API's JSON writer says what Foundation's encoder said with the API's settings (snake-case
/// keys, RFC 3339 dates with milliseconds, unescaped slashes), members in the order the type
/// encodes them and dictionary keys sorted.
@Suite("API JSON encoder")
struct APIJSONEncoderTests {
    struct Inner: Encodable {
        var innerValue: Bool
        var caseID: UUID
    }

    struct Sample: Encodable {
        var aB: Int
        var createdAt: Date
        var list: [String]
        var nested: Inner
        var ratio: Double
        var whole: Double
        var missing: String?
        var present: String?
        var counts: [String: Int]
        var nothing: [Int]
        var empty: [String: String]
    }

    static let id = UUID(uuidString: "0A1B2C3D-0000-4000-8000-00000000000F") ?? UUID()
    static let sample = Sample(
        aB: 1, createdAt: Date(timeIntervalSince1970: 1_795_000_000.123), list: ["x", "y\"z"],
        nested: Inner(innerValue: true, caseID: id), ratio: 1.5, whole: 100, missing: nil, present: "a/b",
        counts: ["zeta": 2, "alpha": 1], nothing: [], empty: [:])

    static func text(_ value: some Encodable) throws -> String {
        String(decoding: try APIJSONEncoder().encode(value), as: UTF8.self)
    }

    @Test("a known answer: keys converted, in the type's order, dictionaries sorted, nil omitted, dates and UUIDs as the API writes them")
    func knownAnswer() throws {
        let expected = #"{"a_b":1,"created_at":"2026-11-18T11:06:40.123Z","list":["x","y\"z"],"#
            + #""nested":{"inner_value":true,"case_id":"0A1B2C3D-0000-4000-8000-00000000000F"},"ratio":1.5,"whole":100,"present":"a/b","#
            + #""counts":{"alpha":1,"zeta":2},"nothing":[],"empty":{}}"#
        #expect(try Self.text(Self.sample) == expected)
        // The same bytes every time: dictionaries do not follow hash order.
        let many = JSONValue.object(Dictionary(uniqueKeysWithValues: (0..<40).map { ("key\($0)", JSONValue.int($0)) }))
        let first = try Self.text(many)
        for _ in 0..<5 { #expect(try Self.text(many) == first) }
        #expect(first.hasPrefix(#"{"key0":0,"key1":1,"key10":10,"#))
    }

    /// Hand-written conformances the stream must follow: nested containers written before the
    /// parent moves on, a container asked for twice, super encoders, a value that writes nothing.
    struct Handwritten: Encodable {
        enum Keys: String, CodingKey { case outer, list, after, parent, quiet, single }
        struct Quiet: Encodable { func encode(to encoder: any Encoder) throws {} }
        struct Wrapped: Encodable {
            var value: Int
            func encode(to encoder: any Encoder) throws {
                var container = encoder.singleValueContainer()
                try container.encode(value)
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            var outer = container.nestedContainer(keyedBy: Keys.self, forKey: .outer)
            try outer.encode("in", forKey: .single)
            var list = container.nestedUnkeyedContainer(forKey: .list)
            try list.encode(1)
            var inner = list.nestedContainer(keyedBy: Keys.self)
            try inner.encodeNil(forKey: .quiet)
            try list.encode(Wrapped(value: 3))
            var again = encoder.container(keyedBy: Keys.self)
            try again.encode(true, forKey: .after)
            let parent = container.superEncoder(forKey: .parent)
            var parentContainer = parent.unkeyedContainer()
            try parentContainer.encode("p")
            try container.encode(Quiet(), forKey: .quiet)
        }
    }

    @Test("hand-written conformances: nested, repeated and super containers; a value that writes nothing is {}")
    func handwritten() throws {
        #expect(try Self.text(Handwritten()) == #"{"outer":{"single":"in"},"list":[1,{"quiet":null},3],"after":true,"parent":["p"],"quiet":{}}"#)
    }

    @Test("a container written to after its parent moved on is an error, not a wrong document")
    func misuse() throws {
        struct Late: Encodable {
            enum Keys: String, CodingKey { case first, second }
            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: Keys.self)
                var first = container.nestedContainer(keyedBy: Keys.self, forKey: .first)
                try container.encode(1, forKey: .second)
                try first.encode(2, forKey: .second)
            }
        }
        #expect(throws: EncodingError.self) { try APIJSONEncoder().encode(Late()) }
    }

    @Test("the same document as Foundation's JSONEncoder with the API's former settings")
    func matchesFoundation() throws {
        let foundation = JSONEncoder()
        foundation.keyEncodingStrategy = .convertToSnakeCase
        foundation.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamps.format(date))
        }
        foundation.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let values: [any Encodable] = [Self.sample, ["one", "two"], [1, 2, 3], JSONValue.object(["count": .int(3), "median_hours": .double(12.5)]),
                                       Handwritten(), [Self.sample, Self.sample], ["a": [Self.sample]], Optional<Int>.none, Date(timeIntervalSince1970: -1.5)]
        for value in values {
            let ours = try JSONSerialization.jsonObject(with: Data(try APIJSONEncoder().encode(value)), options: .fragmentsAllowed) as? NSObject
            let theirs = try JSONSerialization.jsonObject(with: try foundation.encode(value), options: .fragmentsAllowed) as? NSObject
            #expect(ours != nil && ours == theirs, "\(value)")
        }
    }

    @Test("control characters are escaped, other characters and slashes are not")
    func escaping() throws {
        #expect(try Self.text(["\u{01}\n\t\r\u{08}\u{0C}\\ é ✓ /"]) == #"["\u0001\n\t\r\b\f\\ é ✓ /"]"#)
    }

    @Test("a number JSON cannot hold is an error, not output")
    func nonFinite() throws {
        #expect(throws: EncodingError.self) { try APIJSONEncoder().encode([Double.nan]) }
        #expect(throws: EncodingError.self) { try APIJSONEncoder().encode(["x": Double.infinity]) }
    }

    @Test("key names: the byte-level conversion agrees with the general one")
    func keyNames() {
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        for key in ["id", "eventID", "caseId", "URLValue", "x1Y", "already_snake", "ABC", "aBC", "dueAt24h", "ÉtéName", "nameÉté"] {
            #expect(SnakeCaseKey.name(Key(stringValue: key)) == JSONCoding.snakeCase(key), "\(key)")
        }
    }

    @Test("UUIDs are written as Foundation's uuidString writes them")
    func uuids() {
        for uuid in (0..<200).map({ _ in UUID() }) + [Self.id] {
            #expect(uuid.upperString == uuid.uuidString)
            #expect(uuid.lowercasedString == uuid.uuidString.lowercased())
        }
    }

    @Test("UUIDs are read as Foundation reads them: 8-4-4-4-12 hex digits in either case, nothing else")
    func parsedUUIDs() {
        for uuid in (0..<200).map({ _ in UUID() }) + [Self.id] {
            #expect(UUID(text: uuid.uuidString) == uuid)
            #expect(UUID(text: uuid.lowercasedString) == uuid)
        }
        #expect(UUID(text: "6f1C2a4E-1b2c-4d3e-8F40-0123456789ab") == UUID(uuidString: "6F1C2A4E-1B2C-4D3E-8F40-0123456789AB"))
        let malformed = [
            "", "6f1c2a4e", "6f1c2a4e-1b2c-4d3e-8f40-0123456789a", "6f1c2a4e-1b2c-4d3e-8f40-0123456789abc",
            "6f1c2a4e1b2c-4d3e-8f40-0123456789abcd", "6f1c2a4e-1b2c-4d3e-8f40-0123456789ag", "{6f1c2a4e-1b2c-4d3e-8f40-0123456789ab}",
            "6f1c2a4e-1b2c-4d3e-8f40-0123456789ab ", " 6f1c2a4e-1b2c-4d3e-8f40-0123456789ab", "6f1c2a4e-1b2c-4d3e-8f40_0123456789ab",
            "6f1c2a4e-1b2c-4d3e-8f40-01234567é9ab",
        ]
        for text in malformed {
            #expect(UUID(text: text) == nil, "\(text)")
            #expect(UUID(uuidString: text) == nil, "Foundation agrees: \(text)")
        }
    }
}
