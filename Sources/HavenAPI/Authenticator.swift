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

    func authenticate(_ request: Request, context: HavenRequestContext) async throws -> HavenRequestContext {
        guard let header = request.headers[.authorization] else { throw APIError.unauthorized() }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer", let hash = SessionTokens.hash(of: String(parts[1])) else {
            try await auth.recordRejectedToken(context: context.access, reason: "malformed")
            throw APIError.unauthorized("the bearer token is malformed")
        }
        let idle = configuration.tokenIdleTimeout
        var found = cache.session(for: hash)
        if found == nil {
            found = try await store.withConnection { connection in
                try SessionStore.authenticate(tokenHash: hash, idleTimeout: idle, on: connection)
            }
            if let found { cache.remember(found, for: hash) }
        }
        guard let session = found else {
            try await auth.recordRejectedToken(context: context.access, reason: "unknown-expired-or-revoked")
            throw APIError.unauthorized("the token is unknown, expired or revoked; log in again")
        }
        var context = context
        context.actor = session.actor
        context.tokenHash = hash
        context.passwordChangeRequired = session.passwordChangeRequired
        context.session = session
        return context
    }
}
