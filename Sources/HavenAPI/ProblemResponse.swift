import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turns every error into an RFC 9457 problem answer. Nothing reaches the client as a bare
/// 500 page, and no error text that might hold a value (a constraint's detail) is echoed.
enum ProblemResponse {
    static func make(for error: any Error, request: Request, context: HavenRequestContext) -> Response {
        let problem = apiError(for: error, context: context)
        return render(problem, requestID: context.requestID)
    }

    /// The same, telling 405 from 404 by the route table when no route matched.
    static func make(for error: any Error, request: Request, context: HavenRequestContext, routes: RouteTable) -> Response {
        guard let error = error as? HTTPError, error.status == .notFound, context.endpointPath == "NotFound" else {
            return make(for: error, request: request, context: context)
        }
        let allowed = routes.allowedMethods(for: request.uri.path)
        if !allowed.isEmpty {
            let list = allowed.map(\.rawValue).joined(separator: ", ")
            return render(
                APIError(.methodNotAllowed, kind: .methodNotAllowed, detail: "\(request.method.rawValue) is not allowed here; use \(list)",
                         extensions: ["allowed": .strings(allowed.map(\.rawValue))], headers: [.allow: list]),
                requestID: context.requestID)
        }
        return render(.notFound("no route for \(request.method.rawValue) on this path"), requestID: context.requestID)
    }

    static func apiError(for error: any Error, context: HavenRequestContext) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as StoreError:
            switch error {
            case .notFound(let text): return .notFound(text)
            case .forbidden(let text): return .forbidden(text)
            case .conflict(let text, let field, let detail):
                var extensions = detail.mapValues(JSONValue.init)
                if let field { extensions["field"] = .string(field) }
                return APIError(.conflict, kind: .conflict, detail: text, errors: field.map { [FieldError($0, text)] } ?? [], extensions: extensions)
            case .preconditionFailed(let text):
                return APIError(.preconditionFailed, kind: .staleVersion, detail: text, errors: [FieldError("If-Match", text)])
            case .invalid(let failure): return .invalid(failure)
            case .badQuery(let error): return .badRequest(error.field, error.reason)
            case .unavailable(let text): return .unavailable(text)
            case .undecryptable(let text):
                context.logger.error("sealed data did not open", metadata: ["error": "\(text)"])
                return APIError(.internalServerError, kind: .undecryptable,
                                detail: "encrypted data could not be read with the configured keys; quote request id \(context.requestID)")
            case .configuration(let text):
                context.logger.error("configuration error", metadata: ["error": "\(text)"])
                return APIError(.internalServerError, kind: .internal, detail: "internal error; quote request id \(context.requestID)")
            case .rejected:
                return APIError(.unprocessableContent, kind: .invalidField, detail: "a value was rejected by the database")
            case .database(let text):
                context.logger.error("database error", metadata: ["error": "\(text)"])
                return APIError(.internalServerError, kind: .internal, detail: "internal error; quote request id \(context.requestID)")
            }
        case let error as ValidationFailure:
            return .invalid(error)
        case let refused as ReferralService.Refused:
            return ReferralController.problem(refused.refusal, from: refused.from, side: refused.side)
        case let refused as ReferralService.NotCovered:
            return ReferralController.problem(refused)
        case let refused as ReferralService.OutsideMandate:
            return ReferralController.problem(refused)
        case let limited as DuplicateHintLimited:
            return APIError(.tooManyRequests, kind: .rateLimited,
                            detail: "you have had as many duplicate checks against other organisations as an hour allows; nothing was saved, try again later",
                            headers: [.retryAfter: String(limited.retryAfter)])
        case let error as any HTTPResponseError:
            let status = error.status
            switch status {
            case .notFound: return .notFound()
            case .contentTooLarge: return APIError(.contentTooLarge, kind: .bodyTooLarge, detail: "the request body is larger than the server accepts")
            default: return APIError(status, kind: ProblemKind(rawValue: slug(status)), detail: status.reasonPhrase)
            }
        case is CancellationError:
            return .unavailable("the request was cancelled")
        default:
            context.logger.error("unexpected error", metadata: ["type": "\(String(reflecting: type(of: error)))"])
            return APIError(.internalServerError, kind: .internal, detail: "internal error; quote request id \(context.requestID)")
        }
    }

    static func slug(_ status: HTTPResponse.Status) -> String {
        status.reasonPhrase.lowercased().replacingOccurrences(of: " ", with: "-")
    }

    static func render(_ problem: APIError, requestID: String) -> Response {
        var members: [String: JSONValue] = problem.extensions
        members["type"] = .string(problem.status == .notFound && problem.kind == .notFound ? "about:blank" : "/problems/\(problem.kind.rawValue)")
        members["title"] = .string(problem.status.reasonPhrase)
        members["status"] = .int(problem.status.code)
        members["detail"] = .string(problem.detail)
        members["request_id"] = .string(requestID)
        if !problem.errors.isEmpty {
            members["errors"] = .array(problem.errors.map { .object(["field": .string($0.field), "detail": .string($0.reason), "reason": .string($0.reason)]) })
        }
        let data = (try? JSONCoding.encoder.encode(JSONValue.object(members))) ?? Array("{}".utf8)
        var headers = problem.headers
        headers.set(.contentType, "application/problem+json")
        return Response(status: problem.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
