import Foundation
import HavenCore
import Hummingbird
import NIOCore

/// JSON as the API speaks it: snake_case keys, ISO 8601 dates.
enum JSONCoding {
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamps.format(date))
        }
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = Timestamps.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be an ISO 8601 date-time such as 2026-11-22T10:00:00Z")
            }
            return date
        }
        return decoder
    }()

    /// `toOrganisation` → `to_organisation`, for naming fields as the client wrote them.
    static func snakeCase(_ key: String) -> String {
        var output = ""
        for character in key {
            if character.isUppercase {
                output += "_" + character.lowercased()
            } else {
                output.append(character)
            }
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

/// Dates on the wire: RFC 3339 in UTC, with milliseconds when there are any.
public enum Timestamps {
    public static func format(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
            .replacingOccurrences(of: "+0000", with: "Z")
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) { return date }
        if let date = try? Date(text, strategy: .iso8601) { return date }
        return nil
    }
}

extension Request {
    /// Decodes a JSON body: 415 unless `Content-Type: application/json`, 413 past the limit,
    /// 400 for broken JSON, 422 naming the field for a missing, mistyped or unknown value.
    mutating func decodeJSON<T: Decodable>(_ type: T.Type, limit: Int) async throws -> T {
        try await decodeJSONWithBytes(type, limit: limit).0
    }
}

extension APIError {
    static func decoding(_ error: DecodingError) -> APIError {
        switch error {
        case .keyNotFound(let key, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath + [key]), "is required")
        case .valueNotFound(_, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath), "must not be null")
        case .typeMismatch(let type, let context):
            return .invalid(JSONCoding.fieldPath(context.codingPath), "must be \(describe(type))")
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return .badRequest("body", "is not valid JSON")
            }
            let reason = context.debugDescription.hasPrefix("Cannot initialize") ? "is not one of the allowed values" : context.debugDescription
            return .invalid(JSONCoding.fieldPath(context.codingPath), reason)
        @unknown default:
            return .badRequest("body", "could not be read")
        }
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
