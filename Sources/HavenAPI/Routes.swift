import Foundation
import NIOCore
import HavenCore
import HTTPTypes
import Hummingbird

/// Who may call a route before the access policy looks at the record.
enum RouteAccess: Sendable {
    /// No token needed (health, metrics, login, the API document).
    case open
    /// A valid bearer token.
    case authenticated
    /// A valid bearer token, even while the user must still change their password or enrol
    /// their second factor (the first login's steps).
    case authenticatedDuringPasswordChange
}

/// Registers routes on the router, records them for 405 answers and OpenAPI checks, and runs
/// authentication for the routes that need it.
struct Routes {
    let router: Router<HavenRequestContext>
    let table: RouteTable
    let authenticator: Authenticator?

    func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: RouteAccess = .authenticated,
        _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output
    ) {
        table.add(method, path)
        // HEAD runs the GET handler; `RequestLogMiddleware` drops the body.
        for routed in method == .get ? [method, .head] : [method] {
            on(routed, path, access: access, handler)
        }
    }

    private func on<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: RouteAccess,
        _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output
    ) {
        let authenticator = self.authenticator
        router.on(RouterPath(path), method: method) { request, context -> Output in
            var context = context
            if access != .open {
                guard let authenticator else { throw APIError.unavailable("authentication is not configured") }
                try await authenticator.authenticate(request, context: &context)
                if context.passwordChangeRequired && access != .authenticatedDuringPasswordChange {
                    try await authenticator.refuseUntilPasswordChange(context)
                }
                if context.secondFactorEnrolmentRequired && access != .authenticatedDuringPasswordChange {
                    try await authenticator.refuseUntilEnrolment(context)
                }
            }
            return try await handler(request, context)
        }
    }

    func get<Output: ResponseGenerator>(_ path: String, access: RouteAccess = .authenticated, _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output) {
        add(.get, path, access: access, handler)
    }

    func post<Output: ResponseGenerator>(_ path: String, access: RouteAccess = .authenticated, _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output) {
        add(.post, path, access: access, handler)
    }

    func patch<Output: ResponseGenerator>(_ path: String, access: RouteAccess = .authenticated, _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output) {
        add(.patch, path, access: access, handler)
    }

    func delete<Output: ResponseGenerator>(_ path: String, access: RouteAccess = .authenticated, _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output) {
        add(.delete, path, access: access, handler)
    }
}

/// A JSON answer with a status and extra headers.
struct JSONResponse<Body: Encodable & Sendable>: ResponseGenerator {
    var status: HTTPResponse.Status = .ok
    var headers: HTTPFields = [:]
    var body: Body

    init(_ body: Body, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) {
        self.body = body
        self.status = status
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = self.headers
        headers.set(.contentType, "application/json")
        return Response(status: status, headers: headers, body: .init(byteBuffer: try JSONCoding.buffer(body)))
    }
}
