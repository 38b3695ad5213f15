import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The console: HTML pages under `/` over the same application services as the JSON API.
/// It holds no rule of its own: the services ask the access policy and write the audit trail;
/// this layer reads forms, keeps the session cookie, checks the form token and origin, and
/// renders (docs/console.md).
struct ConsoleController: Sendable {
    let store: Store
    let auth: AuthService
    /// Hashes the passwords an administrator sets.
    let hasher: Credentials
    let authenticator: Authenticator
    let sessions: SessionCache
    let loginLimiter: LoginRateLimiter
    let renderer: ConsoleRenderer
    let forms: FormTokens
    let trustedProxies: TrustedProxies
    var webhookSettings = WebhookService.Settings()

    var cases: CaseService { CaseService(store: store) }
    var referrals: ReferralService { ReferralService(store: store) }
    var directory: DirectoryService { DirectoryService(store: store) }
    var worklists: WorklistService { WorklistService(store: store) }
    var accounts: AccountService { AccountService(store: store) }
    var catalogue: Catalogue { renderer.catalogue }

    func register(_ router: Router<HavenRequestContext>) {
        router.get("/static/haven.css") { _, _ in renderer.stylesheetResponse() }
        router.get("/") { request, context in
            await sessionHash(request) == nil ? ConsoleRenderer.redirect("/login") : ConsoleRenderer.redirect("/worklist")
        }
        router.get("/login") { request, context in loginPage(request, language: language(request), status: .ok) }
        router.post("/login") { request, context in await login(request, context) }
        router.post("/logout") { request, context in await action(request, context, duringPasswordChange: true) { visit, _ in try await logout(visit) } }
        router.post("/language") { request, context in await switchLanguage(request, context) }
        router.get("/password") { request, context in await page(request, context, duringPasswordChange: true) { visit in passwordPage(visit) } }
        router.post("/password") { request, context in
            await action(request, context, duringPasswordChange: true) { visit, form in try await changePassword(visit, form) }
        }
        router.get("/second-factor") { request, context in
            await page(request, context, duringPasswordChange: true) { visit in try await secondFactorPage(visit) }
        }
        router.post("/second-factor") { request, context in
            await action(request, context, duringPasswordChange: true) { visit, form in try await confirmSecondFactor(visit, form) }
        }
        registerIntakePages(router)
        registerCaseForms(router)
        registerWorkPages(router)
        registerOversightPages(router)
        registerAdminPages(router)
        registerWebhookPages(router)
        registerBreakGlassPages(router)
        registerCaseActions(router)
        registerReferralPages(router)
        registerReferralHandlerPages(router)
        registerClosurePages(router)
        registerNotificationPages(router)
        registerNotificationEmailPages(router)
        registerTransferPages(router)
    }

    // MARK: Sessions and checks

    /// Over TLS (a trusted proxy says so), the cookie takes the `__Host-` prefix and `Secure`.
    func isSecure(_ request: Request, _ context: HavenRequestContext) -> Bool {
        guard let peer = context.peerAddress, trustedProxies.contains(peer) else { return false }
        return request.headers[.xForwardedProto]?.lowercased() == "https"
    }

    static let cookieName = "haven_session"
    static let secureCookieName = "__Host-haven_session"
    static let languageCookie = "haven_lang"

    func sessionCookie(_ token: String, secure: Bool) -> String {
        secure ? "\(ConsoleController.secureCookieName)=\(token); Path=/; Secure; HttpOnly; SameSite=Strict"
            : "\(ConsoleController.cookieName)=\(token); Path=/; HttpOnly; SameSite=Strict"
    }

    func clearedSessionCookie(secure: Bool) -> String {
        secure ? "\(ConsoleController.secureCookieName)=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0"
            : "\(ConsoleController.cookieName)=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
    }

    func languageCookie(_ language: Language, secure: Bool) -> String {
        "\(ConsoleController.languageCookie)=\(language.rawValue); Path=/; SameSite=Strict; Max-Age=31536000" + (secure ? "; Secure" : "")
    }

    func sessionHash(_ request: Request) async -> [UInt8]? {
        guard let token = request.cookies[ConsoleController.secureCookieName]?.value ?? request.cookies[ConsoleController.cookieName]?.value,
              !token.isEmpty
        else { return nil }
        return SessionTokens.hash(of: token)
    }

    /// The page's language: the switch's cookie (which mirrors the user's stored choice after
    /// login), else the browser's `Accept-Language`.
    func language(_ request: Request) -> Language {
        if let code = request.cookies[ConsoleController.languageCookie]?.value, let language = Language(rawValue: code) { return language }
        return Language.negotiate(request.headers[.acceptLanguage])
    }

    /// A form must come from Haven's own pages: no foreign `Origin`, no cross-site fetch.
    /// Chromium sends `Origin: null` on same-origin posts under `Referrer-Policy: no-referrer`,
    /// so `null` passes only with `Sec-Fetch-Site: same-origin`.
    static func sameOrigin(_ request: Request) -> Bool {
        let site = request.headers[.secFetchSite]?.lowercased()
        if let site, site != "same-origin" && site != "none" { return false }
        guard let origin = request.headers[.origin] else { return true }
        if origin == "null" { return site == "same-origin" }
        guard let authority = request.head.authority, let url = URL(string: origin), let host = url.host else { return false }
        let port = url.port.map { ":\($0)" } ?? ""
        return (host + port).lowercased() == authority.lowercased()
    }

    /// Runs `body` for a signed-in visitor, or sends them to the login page. Until the first
    /// login's steps are done (a new password, a second factor enrolled) only the pages of
    /// those steps (`duringPasswordChange`) open; the others lead to the step still to do.
    func visit(_ request: Request, _ context: HavenRequestContext, duringPasswordChange: Bool = false,
               _ body: (ConsoleVisit) async throws -> Response) async -> Response {
        let language = language(request)
        do {
            guard let hash = await sessionHash(request) else { return ConsoleRenderer.redirect("/login") }
            guard let session = try await authenticator.session(for: hash) else {
                var context = context
                context.actor = nil
                try await authenticator.reject(context, reason: "unknown-expired-or-revoked")
                return ConsoleRenderer.redirect("/login", headers: [.setCookie: clearedSessionCookie(secure: isSecure(request, context))])
            }
            var context = context
            context.actor = session.actor
            context.tokenHash = hash
            context.session = session
            context.passwordChangeRequired = session.passwordChangeRequired
            if session.passwordChangeRequired && !duringPasswordChange {
                try await authenticator.refuseUntilPasswordChange(context)
            }
            context.secondFactorEnrolmentRequired = session.secondFactorEnrolmentRequired
            if session.secondFactorEnrolmentRequired && !duringPasswordChange {
                try await authenticator.refuseUntilEnrolment(context)
            }
            var visit = ConsoleVisit(session: session, tokenHash: hash, language: language, formToken: forms.token(for: hash), context: context,
                                     path: request.uri.path, secure: isSecure(request, context))
            if !session.passwordChangeRequired && !session.secondFactorEnrolmentRequired {
                // One indexed count for the header; a page still opens when it fails.
                visit.unread = try? await NotificationService(store: store).unreadCount(context: context.access)
            }
            return try await body(visit)
        } catch let error as APIError where error.kind == .passwordChangeRequired {
            return ConsoleRenderer.redirect("/password")
        } catch let error as APIError where error.kind == .secondFactorEnrolmentRequired {
            return ConsoleRenderer.redirect("/second-factor")
        } catch {
            return errorPage(error, language: language, context: context)
        }
    }

    func page(_ request: Request, _ context: HavenRequestContext, duringPasswordChange: Bool = false,
              _ body: @escaping (ConsoleVisit) async throws -> Response) async -> Response {
        await visit(request, context, duringPasswordChange: duringPasswordChange, body)
    }

    /// A state-changing form: same origin, the session's form token, then `body`.
    func action(_ request: Request, _ context: HavenRequestContext, duringPasswordChange: Bool = false,
                _ body: @escaping (ConsoleVisit, ConsoleForm) async throws -> Response) async -> Response {
        await visit(request, context, duringPasswordChange: duringPasswordChange) { visit in
            guard ConsoleController.sameOrigin(request) else { return forbiddenPage(visit.language, reason: "console.forbidden_origin") }
            let form = try await ConsoleForm.read(request, limit: context.maxUploadSize)
            guard forms.accepts(form["csrf"], for: visit.tokenHash) else { return forbiddenPage(visit.language, reason: "console.forbidden_token") }
            return try await body(visit, form)
        }
    }

    // MARK: Rendering

    /// What every page's layout needs.
    func layout(_ visit: ConsoleVisit?, language: Language, path: String, title: String) -> [String: Any] {
        var model: [String: Any] = [
            "lang": language.rawValue, "title": title, "back": path,
            "languages": Language.allCases.map { ["code": $0.rawValue, "name": catalogue.text("language.\($0.rawValue)", $0),
                                                   "selected": $0 == language] },
        ]
        if let visit {
            model["csrf"] = visit.formToken
            model["session"] = ["user": visit.session.user.displayName ?? visit.session.username, "organisation": visit.session.organisation.name,
                                "role": catalogue.label("role", visit.actor.role.rawValue, language)]
            if !visit.session.passwordChangeRequired && !visit.session.secondFactorEnrolmentRequired {
                let can = Capabilities(visit.actor)
                var nav: [(String, String)] = []
                if can.listCases || can.listReferrals { nav.append(("/worklist", "nav.worklist")) }
                if can.listCases { nav.append(("/cases", "nav.cases")) }
                if can.listReferrals { nav.append(("/referrals", "nav.referrals")) }
                if can.listTransfers { nav.append(("/transfers", "nav.transfers")) }
                if can.reviewBreakGlass { nav.append(("/break-glass", "nav.break_glass")) }
                if can.readAuditTrail { nav.append(("/audit", "nav.audit")) }
                if can.readReports { nav.append(("/reports", "nav.reports")) }
                if can.administer {
                    nav.append(("/organisations", "nav.organisations"))
                    nav.append(("/users", "nav.users"))
                }
                model["has_nav"] = !nav.isEmpty
                if let unread = visit.unread {
                    model["notices"] = ["current": path == "/notifications", "has_unread": unread > 0,
                                        "label": unread > 0 ? catalogue.text("layout.notifications_unread", language, ["count": String(unread)])
                                            : catalogue.text("layout.notifications", language)] as [String: Any]
                }
                model["nav"] = nav.map { href, key in
                    ["href": href, "label": catalogue.text(key, language), "current": path == href || path.hasPrefix(href + "/")] as [String: Any]
                }
            }
        }
        return model
    }

    func render(_ template: String, _ visit: ConsoleVisit, title: String, _ model: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        let base = layout(visit, language: visit.language, path: visit.path, title: catalogue.text(title, visit.language))
        return renderer.render(template, base.merging(model) { _, page in page }, status: status)
    }

    /// Errors the services throw, as pages: anything out of reach is the same 404 as a missing record.
    func errorPage(_ error: any Error, language: Language, context: HavenRequestContext) -> Response {
        let problem = ProblemResponse.apiError(for: error, context: context)
        let status: HTTPResponse.Status
        let key: String
        switch problem.status {
        case .notFound, .forbidden: (status, key) = (.notFound, "console.not_found")
        case .serviceUnavailable: (status, key) = (.serviceUnavailable, "console.unavailable")
        case .tooManyRequests: (status, key) = (.tooManyRequests, "console.rate_limited")
        case .badRequest: (status, key) = (.badRequest, "console.bad_request")
        default: (status, key) = (.internalServerError, "console.internal")
        }
        var model = layout(nil, language: language, path: "/", title: catalogue.text(key + "_title", language))
        model["message"] = catalogue.text(key, language)
        model["request_id"] = context.requestID
        return renderer.render("error", model, status: status)
    }

    func forbiddenPage(_ language: Language, reason: String) -> Response {
        var model = layout(nil, language: language, path: "/", title: catalogue.text("console.forbidden_title", language))
        model["message"] = catalogue.text(reason, language)
        return renderer.render("error", model, status: .forbidden)
    }

    /// Field messages in the page's language: `error.<field>` where written, else a general one.
    func messages(for failure: ValidationFailure, _ language: Language) -> [FieldMessage] {
        failure.errors.map { error in
            FieldMessage(field: error.field, text: catalogue.messages[language]?["error.\(error.field)"]
                         ?? catalogue.messages[.en]?["error.\(error.field)"] ?? catalogue.text("error.invalid", language))
        }
    }

    static func errorModel(_ messages: [FieldMessage]) -> [String: Any] {
        var model: [String: Any] = [:]
        if !messages.isEmpty {
            model["has_errors"] = true
            model["errors"] = messages.map { ["field": fieldID($0.field), "text": $0.text] }
        }
        for message in messages { model["error_" + fieldID(message.field)] = message.text }
        return model
    }

    /// A field's element id and template name: the API's path (`person.birth_year`,
    /// `provisions[0].categories`) with every other character an underscore.
    static func fieldID(_ path: String) -> String {
        String(path.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }
}
