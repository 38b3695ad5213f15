import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// Login, logout, the first login's password change and second-factor enrolment, and the
/// language switch.
extension ConsoleController {
    func loginPage(_ request: Request, language: Language, status: HTTPResponse.Status, username: String = "", error: String? = nil) -> Response {
        var model = layout(nil, language: language, path: "/login", title: catalogue.text("login.title", language))
        model["username"] = username
        if let error { model["error"] = catalogue.text(error, language) }
        return renderer.render("login", model, status: status)
    }

    /// The same check as `POST /v1/auth/login` (lockout, rate limit, audit), answered with a
    /// session cookie instead of a token in JSON.
    func login(_ request: Request, _ context: HavenRequestContext) async -> Response {
        let language = language(request)
        guard ConsoleController.sameOrigin(request) else { return forbiddenPage(language, reason: "console.forbidden_origin") }
        do {
            let form = try await ConsoleForm.read(request, limit: context.maxUploadSize)
            let username = form["username"]?.trimmingCharacters(in: .whitespaces) ?? ""
            let password = form["password"] ?? ""
            // One field takes the authenticator's code or, in its place, a recovery code.
            let code = form.text("totp")?.trimmingCharacters(in: .whitespaces)
            let isTOTP = code.map { $0.count <= 10 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) } ?? true
            let totp = isTOTP ? code : nil, recoveryCode = isTOTP ? nil : code
            guard (try? LoginInput.check(username: username, password: password, totp: totp, recoveryCode: recoveryCode)) != nil else {
                return loginPage(request, language: language, status: .unprocessableContent, username: username, error: "login.missing")
            }
            if case .heldBack(let first) = loginLimiter.check(context.clientAddress ?? "unknown") {
                if first { await auth.recordRateLimited(context: context.access, limit: "login") }
                return loginPage(request, language: language, status: .tooManyRequests, username: username, error: "login.rate_limited")
            }
            let success: AuthService.LoginSuccess
            do {
                success = try await auth.login(username: username, password: password, totp: totp, recoveryCode: recoveryCode, context: context.access)
            } catch is AuthService.LoginFailure {
                // One answer for every failure: it must not tell which part was wrong or whether the user exists.
                return loginPage(request, language: language, status: .unauthorized, username: username, error: "login.failed")
            }
            let secure = isSecure(request, context)
            var headers: HTTPFields = [.setCookie: sessionCookie(success.token, secure: secure)]
            if let chosen = try await accounts.language(of: success.user.id) {
                headers.append(HTTPField(name: .setCookie, value: languageCookie(chosen, secure: secure)))
            }
            let enrolling = success.user.role.requiresSecondFactor && !success.user.hasSecondFactor
            return ConsoleRenderer.redirect(success.user.passwordMustChange ? "/password" : enrolling ? "/second-factor" : "/worklist", headers: headers)
        } catch {
            return errorPage(error, language: language, context: context)
        }
    }

    func logout(_ visit: ConsoleVisit) async throws -> Response {
        sessions.forget(tokenHash: visit.tokenHash)
        try await auth.logout(tokenHash: visit.tokenHash, context: visit.access)
        return ConsoleRenderer.redirect("/login", headers: [.setCookie: clearedSessionCookie(secure: visit.secure)])
    }

    func passwordPage(_ visit: ConsoleVisit, messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok) -> Response {
        var model = ConsoleController.errorModel(messages)
        model["required"] = visit.session.passwordChangeRequired
        model["minimum"] = String(PasswordPolicy.minimumLength)
        return render("password", visit, title: "password.title", model, status: status)
    }

    func changePassword(_ visit: ConsoleVisit, _ form: ConsoleForm) async throws -> Response {
        do {
            try await auth.changePassword(current: form["current_password"] ?? "", new: form["new_password"] ?? "", username: visit.session.username,
                                          tokenHash: visit.tokenHash, context: visit.access)
        } catch StoreError.invalid(let failure) {
            return passwordPage(visit, messages: messages(for: failure, visit.language), status: .unprocessableContent)
        }
        sessions.forget(user: visit.actor.userID)
        return ConsoleRenderer.redirect(visit.session.secondFactorEnrolmentRequired ? "/second-factor" : "/worklist")
    }

    /// The secret to add to an authenticator app, as text (the `otpauth://` URI and the key in
    /// groups of four): nothing is fetched from elsewhere to draw it. The same secret shows
    /// again until it is confirmed; once enrolled it never shows.
    func secondFactorPage(_ visit: ConsoleVisit, messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        guard visit.session.secondFactorEnrolmentRequired else { return ConsoleRenderer.redirect("/worklist") }
        let enrolment = try await auth.pendingEnrolment(fresh: false, context: visit.access)
        var model = ConsoleController.errorModel(messages)
        let key = Array(enrolment.secret)
        model["secret"] = stride(from: 0, to: key.count, by: 4).map { String(key[$0..<min($0 + 4, key.count)]) }.joined(separator: " ")
        model["uri"] = enrolment.uri
        return render("second-factor", visit, title: "second_factor.title", model, status: status)
    }

    /// A code from the new authenticator confirms it; the recovery codes show this once.
    func confirmSecondFactor(_ visit: ConsoleVisit, _ form: ConsoleForm) async throws -> Response {
        guard visit.session.secondFactorEnrolmentRequired else { return ConsoleRenderer.redirect("/worklist") }
        let codes: [String]
        do {
            codes = try await auth.confirmEnrolment(code: form.text("code")?.filter { $0 != " " } ?? "", context: visit.access)
        } catch StoreError.invalid(let failure) {
            return try await secondFactorPage(visit, messages: messages(for: failure, visit.language), status: .unprocessableContent)
        }
        sessions.forget(user: visit.actor.userID)
        return render("recovery-codes", visit, title: "second_factor.codes_title", ["codes": codes])
    }

    /// A path of this site, or nil: one slash, then only the characters Haven's own paths and
    /// queries use, so no browser can read it as another host (`//x`, `/\x`, a tab or a newline).
    static func localPath(_ text: String) -> String? {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.?=&%#")
        guard text.hasPrefix("/"), !text.hasPrefix("//"), text.count <= 512, text.allSatisfy(allowed.contains) else { return nil }
        return text
    }

    /// The switch on every page: stored with the user when signed in, in a cookie always.
    func switchLanguage(_ request: Request, _ context: HavenRequestContext) async -> Response {
        let current = language(request)
        guard ConsoleController.sameOrigin(request) else { return forbiddenPage(current, reason: "console.forbidden_origin") }
        do {
            let form = try await ConsoleForm.read(request, limit: context.maxUploadSize)
            guard let chosen = form["language"].flatMap(Language.init(rawValue:)) else { return forbiddenPage(current, reason: "console.bad_request") }
            if let hash = await sessionHash(request), let session = try await authenticator.session(for: hash) {
                guard forms.accepts(form["csrf"], for: hash) else { return forbiddenPage(current, reason: "console.forbidden_token") }
                var context = context
                context.actor = session.actor
                try await accounts.setLanguage(chosen, context: context.access)
            }
            // Back to the page the switch was on: a path of this site only.
            let back = form["back"].flatMap(ConsoleController.localPath) ?? "/"
            return ConsoleRenderer.redirect(back, headers: [.setCookie: languageCookie(chosen, secure: isSecure(request, context))])
        } catch {
            return errorPage(error, language: current, context: context)
        }
    }
}
