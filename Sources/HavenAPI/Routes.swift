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

/// Registers the API's routes on the router: open ones on the router itself, the others on a
/// group whose `AuthenticationMiddleware` checks the bearer token first. HEAD comes from the
/// router's `autoGenerateHeadEndpoints`, and the route list (405 answers, the contract tests) from
/// `router.routes`.
struct Routes {
    let router: Router<HavenRequestContext>
    private let signedIn: RouterGroup<HavenRequestContext>
    private let firstLogin: RouterGroup<HavenRequestContext>

    init(router: Router<HavenRequestContext>, authenticator: Authenticator?) {
        self.router = router
        signedIn = router.group().add(middleware: AuthenticationMiddleware(authenticator: authenticator, access: .authenticated))
        firstLogin = router.group().add(middleware: AuthenticationMiddleware(authenticator: authenticator, access: .authenticatedDuringPasswordChange))
    }

    func add<Output: ResponseGenerator>(
        _ method: HTTPRequest.Method, _ path: String, access: RouteAccess = .authenticated,
        _ handler: @escaping @Sendable (Request, HavenRequestContext) async throws -> Output
    ) {
        switch access {
        case .open: router.on(RouterPath(path), method: method, use: handler)
        case .authenticated: signedIn.on(RouterPath(path), method: method, use: handler)
        case .authenticatedDuringPasswordChange: firstLogin.on(RouterPath(path), method: method, use: handler)
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

/// Checks the bearer token before a route that needs one, and holds back a user who must first
/// change their password or enrol a second factor from everything but those steps.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let authenticator: Authenticator?
    let access: RouteAccess

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let authenticator else { throw APIError.unavailable("authentication is not configured") }
        var context = context
        try await authenticator.authenticate(request, context: &context)
        if context.passwordChangeRequired && access != .authenticatedDuringPasswordChange {
            try await authenticator.refuseUntilPasswordChange(context)
        }
        if context.secondFactorEnrolmentRequired && access != .authenticatedDuringPasswordChange {
            try await authenticator.refuseUntilEnrolment(context)
        }
        return try await next(request, context)
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
