import Foundation
import HavenCore
import HavenStore
import Hummingbird

/// `POST /v1/auth/login`, `POST /v1/auth/logout`, `GET /v1/me`, `POST /v1/me/password`, and the
/// first login's enrolment of a second factor (`POST /v1/me/second-factor`, `.../confirm`).
struct AuthController: Sendable {
    let store: Store
    let auth: AuthService
    let limiter: LoginRateLimiter
    let sessions: SessionCache

    struct LoginRequest: Decodable {
        var username: String
        var password: String
        var totp: String?
        var recoveryCode: String?
    }

    struct LoginResponse: Encodable, Sendable {
        var token: String
        var expiresAt: Date
        var user: UserDTO
        var secondFactorEnrolmentRequired: Bool
    }

    struct MeResponse: Encodable, Sendable {
        var user: UserDTO
        var organisation: Organisation?
        var passwordChangeRequired: Bool
        var secondFactorEnrolmentRequired: Bool
    }

    /// The secret to enrol, shown while enrolment is under way and never after.
    struct EnrolmentResponse: Encodable, Sendable {
        var secret: String
        var otpauthUri: String
    }

    struct EnrolmentConfirmation: Decodable {
        var code: String
    }

    struct RecoveryCodesResponse: Encodable, Sendable {
        var recoveryCodes: [String]
    }

    struct PasswordChange: Decodable {
        var currentPassword: String
        var newPassword: String
    }

    func register(_ routes: Routes) {
        routes.post("/v1/auth/login", access: .open) { request, context in
            var request = request
            let body = try await request.decodeJSON(LoginRequest.self, limit: context.maxUploadSize)
            try LoginInput.check(username: body.username, password: body.password, totp: body.totp, recoveryCode: body.recoveryCode)
            if case .heldBack(let first) = limiter.check(context.clientAddress ?? "unknown") {
                if first { await auth.recordRateLimited(context: context.access, limit: "login") }
                throw APIError(.tooManyRequests, kind: .rateLimited, detail: "too many login attempts from this address; wait a minute", headers: [.retryAfter: "60"])
            }
            do {
                let success = try await auth.login(username: body.username, password: body.password, totp: body.totp,
                                                   recoveryCode: body.recoveryCode, context: context.access)
                let enrolling = success.user.role.requiresSecondFactor && !success.user.hasSecondFactor
                return JSONResponse(LoginResponse(token: success.token, expiresAt: success.expiresAt, user: UserDTO(success.user),
                                                  secondFactorEnrolmentRequired: enrolling))
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
                                                 passwordChangeRequired: session.passwordChangeRequired,
                                                 secondFactorEnrolmentRequired: session.secondFactorEnrolmentRequired))
            }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        routes.post("/v1/me/password", access: .authenticatedDuringPasswordChange) { request, context in
            var request = request
            let body = try await request.decodeJSON(PasswordChange.self, limit: context.maxUploadSize)
            let actor = try context.requireActor()
            // The token check already read the user.
            let username = context.session?.username ?? ""
            try await auth.changePassword(current: body.currentPassword, new: body.newPassword, username: username, tokenHash: context.tokenHash, context: context.access)
            sessions.forget(user: actor.userID)
            return Response(status: .noContent)
        }
        routes.post("/v1/me/second-factor", access: .authenticatedDuringPasswordChange) { _, context in
            _ = try context.requireActor()
            let enrolment = try await auth.pendingEnrolment(fresh: true, context: context.access)
            return JSONResponse(EnrolmentResponse(secret: enrolment.secret, otpauthUri: enrolment.uri), headers: [.cacheControl: "no-store"])
        }
        routes.post("/v1/me/second-factor/confirm", access: .authenticatedDuringPasswordChange) { request, context in
            var request = request
            let body = try await request.decodeJSON(EnrolmentConfirmation.self, limit: context.maxUploadSize)
            let actor = try context.requireActor()
            let codes = try await auth.confirmEnrolment(code: body.code, context: context.access)
            // The cached session still says "not enrolled".
            sessions.forget(user: actor.userID)
            return JSONResponse(RecoveryCodesResponse(recoveryCodes: codes), headers: [.cacheControl: "no-store"])
        }
    }
}
