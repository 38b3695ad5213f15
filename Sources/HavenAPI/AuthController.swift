import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// `POST /v1/auth/login`, `POST /v1/auth/logout`, `GET /v1/me`, `POST /v1/me/password`.
struct AuthController: Sendable {
    let store: Store
    let auth: AuthService
    let limiter: LoginRateLimiter
    let sessions: SessionCache
    let bodyLimit: Int

    struct LoginRequest: Decodable {
        var username: String
        var password: String
        var totp: String?
    }

    struct LoginResponse: Encodable, Sendable {
        var token: String
        var expiresAt: Date
        var user: UserDTO
    }

    struct MeResponse: Encodable, Sendable {
        var user: UserDTO
        var organisation: Organisation?
        var passwordChangeRequired: Bool
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    func register(_ routes: Routes) {
        routes.post("/v1/auth/login", access: .open) { request, context in
            var request = request
            let body = try await request.decodeJSON(LoginRequest.self, limit: bodyLimit)
            try LoginInput.check(username: body.username, password: body.password, totp: body.totp)
            if case .heldBack(let first) = limiter.check(context.clientAddress ?? "unknown") {
                if first { await auth.recordRateLimited(context: context.access, limit: "login") }
                throw APIError(.tooManyRequests, kind: "rate-limited", detail: "too many login attempts from this address; wait a minute", headers: [.retryAfter: "60"])
            }
            do {
                let success = try await auth.login(username: body.username, password: body.password, totp: body.totp, context: context.access)
                return JSONResponse(LoginResponse(token: success.token, expiresAt: success.expiresAt, user: UserDTO(success.user)))
            } catch is AuthService.LoginFailure {
                // One answer for every failure: it must not tell which part was wrong or whether the user exists.
                throw APIError.unauthorized("the username, password or second factor is wrong, or the account is locked")
            }
        }
        routes.post("/v1/auth/logout", access: .authenticatedDuringPasswordChange) { _, context in
            if let hash = context.tokenHash {
                sessions.forget(tokenHash: hash)
                try await auth.logout(tokenHash: hash, context: context.access)
            }
            return Response(status: .noContent)
        }
        routes.get("/v1/me", access: .authenticatedDuringPasswordChange) { _, context in
            // The token check already read the user and the organisation.
            guard let session = context.session, let hash = context.tokenHash else { throw APIError.unauthorized() }
            let body = try sessions.meBody(for: hash) {
                try JSONCoding.buffer(MeResponse(user: UserDTO(session.user), organisation: session.organisation,
                                                 passwordChangeRequired: session.passwordChangeRequired))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        routes.post("/v1/me/password", access: .authenticatedDuringPasswordChange) { request, context in
            var request = request
            let body = try await request.decodeJSON(PasswordChange.self, limit: bodyLimit)
            let actor = try context.requireActor()
            // The token check already read the user.
            let username = context.session?.username ?? ""
            try await auth.changePassword(current: body.currentPassword, new: body.newPassword, username: username, tokenHash: context.tokenHash, context: context.access)
            sessions.forget(user: actor.userID)
            return Response(status: .noContent)
        }
    }
}
