import Foundation

/// A JSON value, the common form of the API document (read from YAML) and of response bodies,
/// so the schema validator never has to guess whether an `NSNumber` was a number or a boolean.
indirect enum ContractJSON: Equatable, Sendable, CustomStringConvertible {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([ContractJSON])
    case object([String: ContractJSON])

    subscript(key: String) -> ContractJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    var intValue: Int? {
        switch self {
        case .int(let value): return value
        case .double(let value) where value == value.rounded(): return Int(value)
        default: return nil
        }
    }

    var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    var arrayValue: [ContractJSON]? {
        if case .array(let values) = self { return values }
        return nil
    }

    var objectValue: [String: ContractJSON]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The JSON type name as JSON Schema spells it.
    var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double(let value): return value == value.rounded() ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .int(let value): return String(value)
        case .double(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { "\"\($0)\": \(members[$0]!.description)" }.joined(separator: ", ") + "}"
        }
    }

    /// A value as Yams (or JSONSerialization) builds it.
    init(any value: Any?) throws {
        guard let value else { self = .null; return }
        switch value {
        case is NSNull: self = .null
        case let text as String: self = .string(text)
        case let flag as Bool: self = .bool(flag)
        case let number as Int: self = .int(number)
        case let number as Double: self = .double(number)
        case let values as [Any]: self = .array(try values.map { try ContractJSON(any: $0) })
        case let members as [AnyHashable: Any]:
            var object: [String: ContractJSON] = [:]
            for (key, member) in members {
                guard let name = key.base as? String else { throw ContractError("non-string key \(key) in the API document") }
                object[name] = try ContractJSON(any: member)
            }
            self = .object(object)
        case let members as [String: Any]:
            self = .object(try members.mapValues { try ContractJSON(any: $0) })
        default:
            throw ContractError("unexpected value \(value) of type \(type(of: value)) in the API document")
        }
    }

    /// Parses a JSON text with JSONDecoder, which keeps `true` and `1` apart.
    static func parse(_ data: Data) throws -> ContractJSON {
        try JSONDecoder().decode(ContractJSON.self, from: data)
    }

    /// JSON text of a value, for request bodies.
    func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

extension ContractJSON: Codable {
    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([ContractJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: ContractJSON].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let values): try container.encode(values)
        case .object(let members): try container.encode(members)
        }
    }
}

extension ContractJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    init(stringLiteral value: String) { self = .string(value) }
    init(integerLiteral value: Int) { self = .int(value) }
    init(booleanLiteral value: Bool) { self = .bool(value) }
    init(arrayLiteral elements: ContractJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, ContractJSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    init(nilLiteral: ()) { self = .null }

    /// A UUID as the API sends it (upper case).
    static func id(_ uuid: UUID) -> ContractJSON { .string(uuid.uuidString) }
}

struct ContractError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
