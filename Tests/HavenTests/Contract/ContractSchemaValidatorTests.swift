import Foundation
import Testing

/// The contract checks are only as good as the validator: it must say no, and say where.
@Suite("Contract: the schema validator")
struct ContractSchemaValidatorTests {
    static let document: ContractJSON = [
        "components": [
            "schemas": [
                "Status": ["type": "string", "enum": ["open", "closed"]],
                "Thing": [
                    "type": "object",
                    "required": ["id", "status", "tags"],
                    "properties": [
                        "id": ["type": "string", "format": "uuid"],
                        "status": ["$ref": "#/components/schemas/Status", "description": "a $ref with a sibling"],
                        "on": ["type": "string", "format": "date"],
                        "at": ["type": "string", "format": "date-time"],
                        "count": ["type": "integer", "minimum": 0, "maximum": 10],
                        "code": ["type": "string", "pattern": "^[A-Z]{2}$"],
                        "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2],
                        "next": ["type": ["string", "null"]],
                        "free": ["type": "object", "additionalProperties": ["type": "integer"]],
                        "either": ["oneOf": [["type": "integer"], ["type": "string"]]],
                    ],
                ],
            ],
        ],
    ]

    let validator = SchemaValidator(root: ContractSchemaValidatorTests.document)
    let thing: ContractJSON = ["$ref": "#/components/schemas/Thing"]

    func problems(_ value: ContractJSON) -> [String] {
        validator.validate(value, against: thing).map(\.description)
    }

    @Test("a value that fits passes, null included where the type array allows it")
    func valid() {
        let value: ContractJSON = [
            "id": "2CE9381E-EC09-47BE-9666-1CBD49F27292", "status": "open", "on": "2026-11-22", "at": "2026-11-22T10:00:00.123Z",
            "count": 3, "code": "MD", "tags": ["a"], "next": nil, "free": ["x": 1], "either": "text",
        ]
        #expect(problems(value) == [])
    }

    @Test("each kind of mismatch is reported with its JSON pointer")
    func mismatches() {
        let value: ContractJSON = [
            "id": "not-a-uuid", "status": "pending", "on": "22/11/2026", "at": "2026-11-22 10:00", "count": 11, "code": "md",
            "tags": ["a", 2, "c"], "next": 5, "free": ["x": "one"], "either": true, "extra": 1,
        ]
        let found = problems(value)
        let expected = [
            "/id: \"not-a-uuid\" is not a valid uuid",
            "/status: \"pending\" is not one of \"open\", \"closed\"",
            "/on: \"22/11/2026\" is not a valid date",
            "/at: \"2026-11-22 10:00\" is not a valid date-time",
            "/count: 11.0 is above the maximum 10.0",
            "/code: \"md\" does not match /^[A-Z]{2}$/",
            "/tags: more than 2 items",
            "/tags/1: expected string, got integer 2",
            "/next: expected string or null, got integer 5",
            "/free/x: expected integer, got string \"one\"",
            "/extra: member 'extra' is not documented in the schema",
        ]
        for message in expected {
            #expect(found.contains(message), "missing \(message) in \(found)")
        }
        #expect(found.contains { $0.hasPrefix("/either: matches 0 of the oneOf schemas") }, "\(found)")
    }

    @Test("missing required members, wrong top-level types, unknown keywords and dangling references are reported")
    func structure() {
        #expect(problems(["status": "open"]).sorted() == [
            "/: required member 'id' is missing", "/: required member 'tags' is missing",
        ])
        #expect(problems(["open"]) == ["/: expected object, got array [\"open\"]"])
        let unique: ContractJSON = ["type": "array", "uniqueItems": true]
        #expect(validator.validate(["a", "b"], against: unique).isEmpty)
        #expect(validator.validate(["a", "b", "a"], against: unique).map(\.description) == ["/: item 2 repeats an earlier one"])
        let odd = validator.validate("x", against: ["type": "string", "contentEncoding": "base64"]).map(\.description)
        #expect(odd == ["/: the validator does not support the schema keyword 'contentEncoding'"])
        let dangling = validator.validate("x", against: ["$ref": "#/components/schemas/Nothing"]).map(\.description)
        #expect(dangling == ["/: unresolvable $ref #/components/schemas/Nothing"])
    }

    @Test("booleans and integers stay apart when a body is parsed")
    func parsing() throws {
        let parsed = try ContractJSON.parse(Data("{\"a\": true, \"b\": 1, \"c\": 1.5, \"d\": null}".utf8))
        #expect(parsed == ["a": true, "b": 1, "c": .double(1.5), "d": nil])
        #expect(validator.validate(parsed["a"]!, against: ["type": "integer"]).count == 1)
        #expect(validator.validate(parsed["b"]!, against: ["type": "boolean"]).count == 1)
    }
}
