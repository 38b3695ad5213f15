import Foundation
import HavenCore
import HTTPTypes
import Hummingbird

/// An error answered as RFC 9457 `application/problem+json`.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// The problem `type` is `/problems/<kind>`.
    public var kind: ProblemKind
    public var detail: String
    public var errors: [FieldError]
    /// Extra members of the problem object (e.g. `allowed`, `missing_categories`, `organisations`).
    public var extensions: [String: JSONValue]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, kind: ProblemKind, detail: String, errors: [FieldError] = [], extensions: [String: JSONValue] = [:], headers: HTTPFields = [:]) {
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = errors
        self.extensions = extensions
        self.headers = headers
    }

    public static func unauthorized(_ detail: String = "authentication is required: send Authorization: Bearer <token>") -> APIError {
        APIError(.unauthorized, kind: .unauthorized, detail: detail, headers: [.wwwAuthenticate: "Bearer"])
    }

    public static func notFound(_ detail: String = "no such resource") -> APIError {
        APIError(.notFound, kind: .notFound, detail: detail)
    }

    public static func forbidden(_ detail: String = "your role does not allow this on this record") -> APIError {
        APIError(.forbidden, kind: .forbidden, detail: detail)
    }

    public static func badRequest(_ field: String, _ reason: String) -> APIError {
        APIError(.badRequest, kind: .badRequest, detail: "\(field) \(reason)", errors: [FieldError(field, reason)])
    }

    public static func invalid(_ failure: ValidationFailure) -> APIError {
        let detail = failure.errors.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        return APIError(.unprocessableContent, kind: .invalidField, detail: detail, errors: failure.errors)
    }

    public static func invalid(_ field: String, _ reason: String) -> APIError {
        invalid(ValidationFailure(field, reason))
    }

    public static func unavailable(_ detail: String = "the database is unavailable; try again shortly") -> APIError {
        APIError(.serviceUnavailable, kind: .unavailable, detail: detail, headers: [.retryAfter: "1"])
    }
}

/// Hummingbird's error protocol: an `APIError` that reaches the framework answers itself.
/// `RequestLogMiddleware` catches first and answers every other error through `ProblemResponse`,
/// which maps the services' and the store's errors to one of these.
extension APIError: HTTPResponseError {
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        ProblemResponse.render(self, requestID: (context as? HavenRequestContext)?.requestID ?? "")
    }
}

/// A JSON value for problem extensions and other free-form answers.
public indirect enum JSONValue: Sendable, Codable, Equatable {
    case string(String), int(Int), double(Double), bool(Bool), array([JSONValue]), object([String: JSONValue]), null

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Int.self) { self = .int(value) }
        else if let value = try? container.decode(Double.self) { self = .double(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode([JSONValue].self) { self = .array(value) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        case .null: try container.encodeNil()
        }
    }

    public init(_ detail: AuditDetail) {
        switch detail {
        case .string(let value): self = .string(value)
        case .int(let value): self = .int(value)
        case .bool(let value): self = .bool(value)
        case .array(let values): self = .array(values.map(JSONValue.init))
        case .object(let fields): self = .object(fields.mapValues(JSONValue.init))
        case .null: self = .null
        }
    }

    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }
}
