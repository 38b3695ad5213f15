import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// Checks the bearer token of a request: a hash lookup, idle and absolute expiry, the user
/// still active. Only the token's SHA-256 is ever stored or compared.
struct Authenticator: Sendable {
    let store: Store
    let auth: AuthService
    let configuration: AppConfiguration
    let cache: SessionCache
    /// Rejected tokens per client address: each is an audit event, so an address sending
    /// garbage tokens is slowed down (429) before it can grow the append-only trail at will.
    let rejections: LoginRateLimiter

    /// The hash of the token in `Bearer <token>` (the scheme in any case), read in place.
    static func bearerTokenHash(_ header: String) -> [UInt8]? {
        var header = header
        return header.withUTF8 { bytes in
            let scheme: StaticString = "bearer "
            guard bytes.count >= scheme.utf8CodeUnitCount else { return nil }
            for index in 0..<scheme.utf8CodeUnitCount where bytes[index] | 0x20 != scheme.utf8Start[index] { return nil }
            return SessionTokens.hash(utf8: UnsafeBufferPointer(rebasing: bytes[scheme.utf8CodeUnitCount...]))
        }
    }

    /// Sets the actor and session on the context (in place: the context is large to copy).
    func authenticate(_ request: Request, context: inout HavenRequestContext) async throws {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
        guard let hash = Authenticator.bearerTokenHash(header) else {
            try await reject(context, reason: "malformed")
            throw APIError.unauthorized("the bearer token is malformed")
        }
        guard let session = try await session(for: hash) else {
            try await reject(context, reason: "unknown-expired-or-revoked")
            throw APIError.unauthorized("the token is unknown, expired or revoked; log in again")
        }
        context.actor = session.actor
        context.tokenHash = hash
        context.passwordChangeRequired = session.passwordChangeRequired
        context.secondFactorEnrolmentRequired = session.secondFactorEnrolmentRequired
        context.session = session
    }

    /// The live session behind a token hash (bearer token or console cookie), from the cache
    /// or the database; nil when unknown, expired or revoked.
    func session(for hash: [UInt8]) async throws -> AuthenticatedSession? {
        if let cached = cache.session(for: hash) { return cached }
        let found = try await auth.session(tokenHash: hash, idleTimeout: configuration.tokenIdleTimeout)
        if let found { cache.remember(found, for: hash) }
        return found
    }

    /// The answer to a user who must change their password and asked for anything else: 403,
    /// recorded like every refusal.
    func refuseUntilPasswordChange(_ context: HavenRequestContext) async throws -> Never {
        try await auth.recordPasswordChangeRequired(context: context.access)
        throw APIError(.forbidden, kind: .passwordChangeRequired, detail: "change your password first: POST /v1/me/password")
    }

    /// The answer to a user who must enrol a second factor and asked for anything else: 403,
    /// recorded like every refusal.
    func refuseUntilEnrolment(_ context: HavenRequestContext) async throws -> Never {
        try await auth.recordEnrolmentRequired(context: context.access)
        throw APIError(.forbidden, kind: .secondFactorEnrolmentRequired,
                       detail: "enrol your authenticator first: POST /v1/me/second-factor, then POST /v1/me/second-factor/confirm")
    }

    /// Audits a rejected token, unless the address has sent too many: then 429, and one event
    /// when the address starts being held back.
    func reject(_ context: HavenRequestContext, reason: String) async throws {
        if case .heldBack(let first) = rejections.check(context.clientAddress ?? "unknown") {
            if first { await auth.recordRateLimited(context: context.access, limit: "rejected-tokens") }
            throw APIError(.tooManyRequests, kind: .rateLimited, detail: "too many rejected tokens from this address; wait a minute",
                           headers: [.retryAfter: "60"])
        }
        try await auth.recordRejectedToken(context: context.access, reason: reason)
    }
}
