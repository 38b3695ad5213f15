import Foundation
import HavenCore
import Hummingbird
import NIOCore

/// JSON as the API speaks it: snake_case keys, ISO 8601 dates.
enum JSONCoding {
    static let encoder = APIJSONEncoder()

    static func buffer(_ value: some Encodable) throws -> ByteBuffer {
        try encoder.encode(value) { ByteBuffer(bytes: $0) }
    }

    static func bytes(_ value: some Encodable) throws -> [UInt8] {
        try encoder.encode(value)
    }

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamps.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: Timestamps.expected)
            }
            return date
        }
        decoder.userInfo[DateInput.userInfoKey] = true
        return decoder
    }()

    /// `toOrganisation` → `to_organisation`, `eventID` → `event_id`: words split where a lower-case
    /// letter or digit meets a capital, and before the last capital of a run followed by a
    /// lower-case letter (as Foundation's snake-case strategy does).
    static func snakeCase(_ key: String) -> String {
        let characters = Array(key)
        var output = ""
        for (index, character) in characters.enumerated() {
            if character.isUppercase && index > 0 {
                let previous = characters[index - 1]
                let nextIsLower = index + 1 < characters.count && characters[index + 1].isLowercase
                if previous.isLowercase || previous.isNumber || (previous.isUppercase && nextIsLower) { output += "_" }
            }
            output += character.lowercased()
        }
        return output
    }

    static func fieldPath(_ codingPath: [any CodingKey]) -> String {
        let parts = codingPath.map { key -> String in
            if let index = key.intValue { return "[\(index)]" }
            return snakeCase(key.stringValue)
        }
        var path = ""
        for part in parts {
            if part.hasPrefix("[") || path.isEmpty { path += part } else { path += "." + part }
        }
        return path.isEmpty ? "body" : path
    }
}

/// snake_case key names: encoding is on every answer's path.
enum SnakeCaseKey {
    /// A key's name on the wire. ASCII keys are converted byte by byte (keys with no capital,
    /// the most common, come back as they are); others go through `JSONCoding.snakeCase`.
    static func name(_ key: some CodingKey) -> String {
        key.intValue != nil ? key.stringValue : name(key.stringValue)
    }

    static func name(_ name: String) -> String {
        var output: [UInt8] = []
        guard appendQuoted(name, to: &output) else { return JSONCoding.snakeCase(name) }
        return String(decoding: output.dropFirst().dropLast(), as: UTF8.self)
    }

    /// Appends the key's wire name in quotes, byte by byte. False, with nothing appended, for a
    /// key that is not plain ASCII or holds a byte JSON must escape: those take the general path.
    static func appendQuoted(_ name: String, to output: inout some ByteOutput) -> Bool {
        var name = name
        return name.withUTF8 { bytes in
            for byte in bytes where byte >= 0x80 || byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            func isUpper(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") }
            func isLower(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
            func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
            output.append(UInt8(ascii: "\""))
            for index in bytes.indices {
                let byte = bytes[index]
                guard isUpper(byte) else {
                    output.append(byte)
                    continue
                }
                if index > 0 {
                    let previous = bytes[index - 1]
                    let nextIsLower = index + 1 < bytes.count && isLower(bytes[index + 1])
                    if isLower(previous) || isDigit(previous) || (isUpper(previous) && nextIsLower) { output.append(UInt8(ascii: "_")) }
                }
                output.append(byte + 32)
            }
            output.append(UInt8(ascii: "\""))
            return true
        }
    }
}

/// Dates on the wire: RFC 3339 in UTC with milliseconds, e.g. `2026-11-22T10:00:00.123Z`.
public enum Timestamps {
    public static func format(_ date: Date) -> String {
        var output: [UInt8] = []
        write(date, into: &output)
        return String(decoding: output.dropFirst().dropLast(), as: UTF8.self)
    }

    /// The date as a JSON string, quotes included, appended to `output`.
    static func write(_ date: Date, into output: inout some ByteOutput) {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var days = millis / 86_400_000
        var rest = Int(millis % 86_400_000)
        if rest < 0 {
            rest += 86_400_000
            days -= 1
        }
        let day = CalendarDate.of(Date(timeIntervalSince1970: Double(days) * 86_400))
        output.append(UInt8(ascii: "\""))
        output.append(day: day)
        output.append(UInt8(ascii: "T"))
        output.appendDigits(rest / 3_600_000, width: 2)
        output.append(UInt8(ascii: ":"))
        output.appendDigits(rest / 60_000 % 60, width: 2)
        output.append(UInt8(ascii: ":"))
        output.appendDigits(rest / 1000 % 60, width: 2)
        output.append(UInt8(ascii: "."))
        output.appendDigits(rest % 1000, width: 3)
        output.append("Z\"" as StaticString)
    }

    /// A client's instant, read strictly (`DateInput.instant`): a query filter or a body member.
    public static func parse(_ text: String) -> Date? { DateInput.instant(text) }

    /// What a refusal of `parse` tells the client.
    public static let expected = "must be an RFC 3339 date-time with its offset, such as 2026-11-22T10:00:00Z, in the years 1900–2200"
}

extension Request {
    /// Decodes a JSON body: 415 unless `Content-Type: application/json`, 413 past the limit,
    /// 400 for broken JSON, 422 naming the field for a missing, mistyped or unknown value.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        try await decodeJSONWithBytes(type, limit: limit).0
    }
}

extension APIError {
    /// A request body as `T`, strictly (`JSONTree`, `BodyDecoder`): 400 for broken JSON or a
    /// member sent twice, 422 naming the field for a missing, mistyped, out-of-range or unknown one.
    static func decodingBody<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        let tree: JSONTree
        do {
            tree = try JSONTree.parse(bytes)
        } catch .syntax {
            throw APIError.badRequest("body", "is not valid JSON")
        } catch .duplicate(let path) {
            throw APIError.badRequest(path, "is sent more than once")
        } catch .numberOutOfRange(let path) {
            throw APIError.invalid(path, "must be a number within range")
        }
        do {
            return try BodyDecoder.decode(T.self, from: tree)
        } catch let invalid as BodyDecoder.Invalid {
            throw refusal(invalid)
        }
    }

    /// Every wrong member at once, with the rules the rest of the body breaks (`RuleChecked`),
    /// so the client fixes them all in one go; a body that is not even an object is 400 alone.
    static func refusal(_ invalid: BodyDecoder.Invalid) -> APIError {
        let answers = invalid.failures.map(member)
        if answers.count == 1, answers[0].status != .unprocessableContent { return answers[0] }
        var errors = answers.flatMap(\.errors)
        if let checked = invalid.value as? any RuleChecked {
            errors += checked.ruleFailures().filter { !invalid.covers($0.field) }
        }
        return .invalid(ValidationFailure(errors))
    }

    /// What one wrong member tells the client.
    static func member(_ error: any Error) -> APIError {
        switch error {
        case let error as BodyDecoder.NumberOutOfRange:
            return .invalid(error.path, error.integer ? "must be an integer within range" : "must be a number within range")
        case let error as BodyDecoder.UnknownMember:
            return .invalid(error.path, "is not a field of this request")
        case let error as DecodingError:
            return .decoding(error)
        default:
            return .badRequest("body", "could not be read")
        }
    }

    static func decoding(_ error: DecodingError, body: [UInt8]? = nil) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                // The decoder says the same of a number an integer field cannot hold, without a
                // path: find that number, so the answer names the field.
                if let body, let path = misfitNumber(in: body) { return .invalid(path, "must be an integer within range") }
                return .badRequest("body", "is not valid JSON")
            }
            let reason: String
            if context.debugDescription.hasPrefix("must ") {
                // Haven's own decoders say what the field must be.
                reason = context.debugDescription
            } else if context.debugDescription.hasPrefix("Cannot initialize") {
                reason = "is not one of the allowed values"
            } else if context.debugDescription.contains("UUID") {
                reason = "must be a UUID"
            } else {
                reason = "is not a valid value"
            }
            return .invalid(JSONCoding.fieldPath(context.codingPath), reason)
        @unknown default:
            return .badRequest("body", "could not be read")
        }
    }

    /// The path of the first number in a valid JSON body that no integer field could hold (a
    /// fraction, or past 64 bits), if the body is valid JSON.
    static func misfitNumber(in body: [UInt8]) -> String? {
        guard let root = try? JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed]) else { return nil }
        func walk(_ value: Any, _ path: String) -> String? {
            switch value {
            case let object as [String: Any]:
                for key in object.keys.sorted() {
                    if let found = walk(object[key] as Any, path.isEmpty ? key : path + "." + key) { return found }
                }
            case let array as [Any]:
                for (index, element) in array.enumerated() {
                    if let found = walk(element, path + "[\(index)]") { return found }
                }
            case is Bool:
                break
            case let number as NSNumber:
                if Int64(exactly: number.doubleValue) == nil { return path.isEmpty ? "body" : path }
            default:
                break
            }
            return nil
        }
        return walk(root, "")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Int.Type, is Int64.Type, is Int32.Type: return "an integer"
        case is Double.Type: return "a number"
        case is Bool.Type: return "true or false"
        case is [Any].Type: return "an array"
        default: return type is any Decodable.Type && "\(type)".hasPrefix("Array") ? "an array" : "an object"
        }
    }
}
