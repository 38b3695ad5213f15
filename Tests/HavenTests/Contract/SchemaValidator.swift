import Foundation

/// A JSON Schema (2020-12) validator for the subset the API document uses: `type` (also as an
/// array, for nullable members), `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `const`, `format` (uuid, date, date-time; others ignored), `pattern`, numeric and
/// length bounds, `$ref` into the document, and `allOf`/`anyOf`/`oneOf`. A keyword outside the
/// subset is reported as a mismatch, so the document cannot silently use something unchecked.
struct SchemaValidator {
    /// The whole document, for `$ref` resolution.
    let root: ContractJSON
    /// Also report object members a schema with `properties` does not declare (and does not
    /// allow through `additionalProperties`): the document stays free to grow, but the tests
    /// notice a member the implementation sends that the document forgot.
    var reportsUndocumentedMembers = true

    struct Mismatch: CustomStringConvertible {
        /// JSON pointer into the instance (`/items/0/person/sex`).
        var pointer: String
        var message: String
        var description: String { "\(pointer.isEmpty ? "/" : pointer): \(message)" }
    }

    static let annotations: Set<String> = [
        "description", "title", "default", "example", "examples", "deprecated", "readOnly", "writeOnly", "$comment",
    ]
    static let supported: Set<String> = annotations.union([
        "$ref", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "format", "pattern",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength", "minItems", "maxItems",
        "uniqueItems",
        "allOf", "anyOf", "oneOf",
    ])

    func validate(_ value: ContractJSON, against schema: ContractJSON, pointer: String = "") -> [Mismatch] {
        var mismatches: [Mismatch] = []
        check(value, schema, pointer, &mismatches, depth: 0)
        return mismatches
    }

    /// Follows a local reference such as `#/components/schemas/Case`.
    func resolve(_ reference: String) -> ContractJSON? {
        guard reference.hasPrefix("#") else { return nil }
        var node = root
        for raw in reference.dropFirst().split(separator: "/", omittingEmptySubsequences: true) {
            let token = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
            switch node {
            case .object(let members):
                guard let next = members[token] else { return nil }
                node = next
            case .array(let values):
                guard let index = Int(token), values.indices.contains(index) else { return nil }
                node = values[index]
            default:
                return nil
            }
        }
        return node
    }

    private func check(_ value: ContractJSON, _ schema: ContractJSON, _ pointer: String, _ out: inout [Mismatch], depth: Int) {
        func fail(_ message: String) { out.append(Mismatch(pointer: pointer, message: message)) }
        guard depth < 64 else { return fail("schema nesting too deep (a $ref cycle?)") }
        if case .bool(let allowed) = schema {
            if !allowed { fail("no value is allowed here") }
            return
        }
        guard let keywords = schema.objectValue else { return fail("schema is not an object: \(schema)") }
        for keyword in keywords.keys where !SchemaValidator.supported.contains(keyword) {
            fail("the validator does not support the schema keyword '\(keyword)'")
        }

        if let reference = keywords["$ref"]?.stringValue {
            guard let target = resolve(reference) else { return fail("unresolvable $ref \(reference)") }
            check(value, target, pointer, &out, depth: depth + 1)
        }

        if let type = keywords["type"] {
            let allowed = type.arrayValue?.compactMap(\.stringValue) ?? [type.stringValue ?? "?"]
            let actual = value.typeName
            let matches = allowed.contains(actual) || (actual == "integer" && allowed.contains("number"))
            if !matches {
                fail("expected \(allowed.joined(separator: " or ")), got \(actual) \(abbreviated(value))")
                return
            }
        }

        if let options = keywords["enum"]?.arrayValue, !options.contains(value) {
            fail("\(abbreviated(value)) is not one of \(options.map(\.description).joined(separator: ", "))")
        }
        if let constant = keywords["const"], constant != value {
            fail("expected \(constant), got \(abbreviated(value))")
        }

        switch value {
        case .string(let text):
            if let format = keywords["format"]?.stringValue, !SchemaValidator.matches(format: format, text) {
                fail("\(abbreviated(value)) is not a valid \(format)")
            }
            if let pattern = keywords["pattern"]?.stringValue {
                if let regex = try? NSRegularExpression(pattern: pattern) {
                    let range = NSRange(text.startIndex..., in: text)
                    if regex.firstMatch(in: text, range: range) == nil { fail("\(abbreviated(value)) does not match /\(pattern)/") }
                } else {
                    fail("invalid pattern /\(pattern)/ in the schema")
                }
            }
            if let minimum = keywords["minLength"]?.intValue, text.count < minimum { fail("shorter than \(minimum) characters") }
            if let maximum = keywords["maxLength"]?.intValue, text.count > maximum { fail("longer than \(maximum) characters") }
        case .int, .double:
            let number = value.doubleValue ?? 0
            if let minimum = keywords["minimum"]?.doubleValue, number < minimum { fail("\(number) is below the minimum \(minimum)") }
            if let maximum = keywords["maximum"]?.doubleValue, number > maximum { fail("\(number) is above the maximum \(maximum)") }
            if let bound = keywords["exclusiveMinimum"]?.doubleValue, number <= bound { fail("\(number) is not above \(bound)") }
            if let bound = keywords["exclusiveMaximum"]?.doubleValue, number >= bound { fail("\(number) is not below \(bound)") }
        case .array(let items):
            if let minimum = keywords["minItems"]?.intValue, items.count < minimum { fail("fewer than \(minimum) items") }
            if let maximum = keywords["maxItems"]?.intValue, items.count > maximum { fail("more than \(maximum) items") }
            if keywords["uniqueItems"] == .bool(true),
               let repeated = items.indices.first(where: { index in items[..<index].contains(items[index]) }) {
                fail("item \(repeated) repeats an earlier one")
            }
            if let itemSchema = keywords["items"] {
                for (index, item) in items.enumerated() {
                    check(item, itemSchema, pointer + "/\(index)", &out, depth: depth + 1)
                }
            }
        case .object(let members):
            if let required = keywords["required"]?.arrayValue?.compactMap(\.stringValue) {
                for name in required where members[name] == nil {
                    fail("required member '\(name)' is missing")
                }
            }
            let properties = keywords["properties"]?.objectValue ?? [:]
            for (name, member) in members.sorted(by: { $0.key < $1.key }) {
                let memberPointer = pointer + "/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                if let propertySchema = properties[name] {
                    check(member, propertySchema, memberPointer, &out, depth: depth + 1)
                } else if let additional = keywords["additionalProperties"] {
                    if case .bool(false) = additional {
                        out.append(Mismatch(pointer: memberPointer, message: "member '\(name)' is not allowed"))
                    } else {
                        check(member, additional, memberPointer, &out, depth: depth + 1)
                    }
                } else if reportsUndocumentedMembers && !properties.isEmpty {
                    out.append(Mismatch(pointer: memberPointer, message: "member '\(name)' is not documented in the schema"))
                }
            }
        default:
            break
        }

        if let all = keywords["allOf"]?.arrayValue {
            for subschema in all { check(value, subschema, pointer, &out, depth: depth + 1) }
        }
        if let any = keywords["anyOf"]?.arrayValue {
            let passing = any.filter { validate(value, against: $0, pointer: pointer).isEmpty }
            if passing.isEmpty { fail("matches none of the anyOf schemas") }
        }
        if let one = keywords["oneOf"]?.arrayValue {
            let results = one.map { validate(value, against: $0, pointer: pointer) }
            let passing = results.filter(\.isEmpty).count
            if passing != 1 {
                let reasons = results.enumerated().map { "[\($0.offset)] " + $0.element.map(\.description).joined(separator: "; ") }
                fail("matches \(passing) of the oneOf schemas, not exactly one (\(reasons.joined(separator: " | ")))")
            }
        }
    }

    private func abbreviated(_ value: ContractJSON) -> String {
        let text = value.description
        return text.count > 80 ? String(text.prefix(77)) + "..." : text
    }

    // MARK: Formats (loosely: the shape, not every calendar rule)

    static let uuidPattern = try! NSRegularExpression(pattern: "^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
    static let datePattern = try! NSRegularExpression(pattern: "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")
    static let dateTimePattern = try! NSRegularExpression(
        pattern: "^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$")

    static func matches(format: String, _ text: String) -> Bool {
        let regex: NSRegularExpression
        switch format {
        case "uuid": regex = uuidPattern
        case "date": regex = datePattern
        case "date-time": regex = dateTimePattern
        default: return true
        }
        return regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }
}
