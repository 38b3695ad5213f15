import Foundation
import HavenCore
import HTTPTypes
import Hummingbird

/// Refuses what no route should ever see, before any route runs: a declared body over the
/// limit (413), a body that is not JSON (415; the console's pages take URL-encoded forms), a body on GET/HEAD/DELETE (400). Checked by
/// `RequestLogMiddleware`, the only middleware.
enum RequestGuard {
    /// JSON in UTF-8 (RFC 8259 §8.1): `application/json` or `application/…+json`, with no
    /// charset or `charset=utf-8`.
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let parts = contentType.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let mediaType = parts.first,
              mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
        else { return false }
        let charset = parts.dropFirst().first { $0.hasPrefix("charset=") }?.dropFirst("charset=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        return charset == nil || charset == "utf-8"
    }

    static func isForm(_ contentType: String?) -> Bool {
        contentType?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() == "application/x-www-form-urlencoded"
    }

    static func check(_ request: Request, bodyLimit: Int) throws {
        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[.transferEncoding]?.lowercased().contains("chunked") == true
        let hasBody = (declaredLength ?? 0) > 0 || chunked
        if let declaredLength, declaredLength > bodyLimit {
            throw APIError(.contentTooLarge, kind: .bodyTooLarge, detail: "the request body is larger than \(bodyLimit) bytes")
        }
        if hasBody {
            switch request.method {
            case .get, .head, .delete, .options:
                throw APIError.badRequest("body", "is not allowed on \(request.method.rawValue)")
            default:
                // The console's forms post URL-encoded bodies; the API takes JSON only.
                let consoleForm = !request.uri.path.hasPrefix("/v1/") && isForm(request.headers[.contentType])
                if !consoleForm && !isJSON(request.headers[.contentType]) {
                    throw APIError(.unsupportedMediaType, kind: .unsupportedMediaType, detail: "send the body as application/json",
                                   errors: [FieldError("Content-Type", "must be application/json, in UTF-8")])
                }
                // A compressed body would be read as broken JSON; say what is wrong instead.
                if let encoding = request.headers[.contentEncoding]?.lowercased(), encoding != "identity" {
                    throw APIError(.unsupportedMediaType, kind: .unsupportedMediaType, detail: "send the body uncompressed",
                                   errors: [FieldError("Content-Encoding", "is not supported; send the body uncompressed")])
                }
            }
        }
    }
}
