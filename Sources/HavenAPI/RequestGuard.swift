import Foundation
import HavenCore
import HTTPTypes
import Hummingbird

/// Refuses what no route should ever see, before any route runs: a declared body over the
/// limit (413), a body that is not JSON (415), a body on GET/HEAD/DELETE (400). Checked by
/// `RequestLogMiddleware`, the only middleware.
enum RequestGuard {
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return false }
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
        return mediaType == "application/json" || (mediaType?.hasPrefix("application/") == true && mediaType?.hasSuffix("+json") == true)
    }

    static func check(_ request: Request, bodyLimit: Int) throws {
        let declaredLength = request.headers[.contentLength].flatMap { Int($0) }
        let chunked = request.headers[.transferEncoding]?.lowercased().contains("chunked") == true
        let hasBody = (declaredLength ?? 0) > 0 || chunked
        if let declaredLength, declaredLength > bodyLimit {
            throw APIError(.contentTooLarge, kind: "body-too-large", detail: "the request body is larger than \(bodyLimit) bytes")
        }
        if hasBody {
            switch request.method {
            case .get, .head, .delete, .options:
                throw APIError.badRequest("body", "is not allowed on \(request.method.rawValue)")
            default:
                if !isJSON(request.headers[.contentType]) {
                    throw APIError(.unsupportedMediaType, kind: "unsupported-media-type", detail: "send the body as application/json",
                                   errors: [FieldError("Content-Type", "must be application/json")])
                }
            }
        }
    }
}
