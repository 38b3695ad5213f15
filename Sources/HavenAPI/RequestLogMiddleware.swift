import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The one middleware: gives each request its id, finds the client address (from a trusted
/// proxy's `X-Forwarded-For` only), refuses what no route should see (`RequestGuard`), turns
/// every error into a problem answer (405 told from 404 by the route table), sets the headers
/// every answer carries, and writes exactly one log line: method, route pattern, status,
/// duration, request id. Never a body, a token, a query string or an identifying value. One
/// layer rather than several: each costs every request an async frame and a context copy.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = HavenRequestContext
    let metrics: HTTPMetrics
    let trustedProxies: TrustedProxies
    let routes: RouteTable
    let bodyLimit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var context = context
        if let incoming = RequestIDs.accept(request.headers[.requestID]) { context.requestID = incoming }
        context.clientAddress = ClientAddress.resolve(peer: context.peerAddress, forwardedFor: request.headers[.forwardedFor], trusted: trustedProxies)
        context.maxUploadSize = bodyLimit
        var response: Response
        do {
            try RequestGuard.check(request, bodyLimit: bodyLimit)
            response = try await next(request, context)
        } catch {
            response = ProblemResponse.make(for: error, request: request, context: context, routes: routes)
        }
        // HEAD runs the GET handler (the router's `autoGenerateHeadEndpoints`) and answers without the body (RFC 9110 §9.3.2),
        // a refusal included.
        if request.method == .head {
            let length = response.headers[.contentLength]
            response.body = ResponseBody()
            if let length { response.headers[.contentLength] = length }
        }
        response.headers.set(.requestID, context.requestID)
        response.headers.set(.cacheControl, "no-store")
        response.headers.set(.contentTypeOptions, "nosniff")
        let elapsed = ContinuousClock.now - start
        let route = context.endpointPath ?? "NotFound"
        metrics.record(method: request.method.rawValue, route: route, status: response.status.code, duration: elapsed)
        context.logger.info("request", metadata: [
            "method": "\(request.method.rawValue)",
            "route": "\(route)",
            "status": "\(response.status.code)",
            "ms": "\(elapsed.milliseconds)",
            "request_id": "\(context.requestID)",
        ])
        return response
    }
}

enum ClientAddress {
    /// The peer, unless the peer is a trusted proxy: then the right-most address in
    /// `X-Forwarded-For` that is not itself a trusted proxy.
    static func resolve(peer: String?, forwardedFor: String?, trusted: TrustedProxies) -> String? {
        guard let peer, trusted.contains(peer), let forwardedFor else { return peer }
        let hops = forwardedFor.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        for hop in hops.reversed() where !trusted.contains(hop) {
            return IPNetwork.bytes(hop) != nil ? hop : peer
        }
        return peer
    }
}

extension HTTPFields {
    /// `self[name] = value`, appending when the field is absent: the subscript's setter
    /// rebuilds the whole field list, and every answer sets a few fields.
    mutating func set(_ name: HTTPField.Name, _ value: String) {
        if self[name] == nil { append(HTTPField(name: name, value: value)) } else { self[name] = value }
    }
}

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}

extension Duration {
    /// Milliseconds with microsecond resolution, for logs.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds / 1_000_000_000_000) / 1000
    }
}
