import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Sealing
import Testing

/// The console's first login for a role that needs a second factor: the user sees their own
/// new secret as text, confirms it with a code, gets recovery codes once; nothing else opens
/// before. A recovery code goes in the code field; an administrator resets a lost factor.
@Suite struct ConsoleSecondFactorTests {
    static func cookie(_ response: TestResponse) -> String? {
        response.headers[.setCookie].map { String($0.split(separator: ";")[0]) }
    }

    static func secret(in html: String) -> [UInt8]? {
        guard let range = html.range(of: #"secret=[A-Z2-7]+"#, options: .regularExpression) else { return nil }
        return Base32.decode(String(html[range].dropFirst("secret=".count)))
    }

    @Test("first console login of an auditor who has not enrolled: only the enrolment page opens; it shows the secret as text; a code confirms it and the recovery codes show once")
    func firstLoginEnrols() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let auditor = try await app.user(.auditor, in: organisation.id, enrolled: false)
            let login = try await ConsoleKit.post(client, "/login", ["username": auditor.user.username, "password": auditor.password])
            #expect(login.status == .seeOther)
            #expect(login.headers[.location] == "/second-factor", "\(login.headers)")
            let cookie = try #require(Self.cookie(login))

            let elsewhere = try await ConsoleKit.get(client, "/audit", cookie: cookie)
            #expect(elsewhere.status == .seeOther && elsewhere.headers[.location] == "/second-factor")

            let page = try await ConsoleKit.get(client, "/second-factor", cookie: cookie)
            #expect(page.status == .ok)
            #expect(page.headers[.cacheControl] == "no-store")
            #expect(page.text.contains("id=\"totp-secret\"") && page.text.contains("otpauth://totp/Haven:"))
            #expect(!page.text.contains("href=\"/audit\""), "no navigation before enrolment")
            #expect(!page.text.contains("<img") && !page.text.contains("https://"), "nothing drawn from elsewhere")
            let secret = try #require(Self.secret(in: page.text))
            // Shown again, the same secret.
            #expect(Self.secret(in: try await ConsoleKit.get(client, "/second-factor", cookie: cookie).text) == secret)
            let token = try #require(ConsoleKit.formToken(page.text))

            let now = Int64(Date().timeIntervalSince1970)
            let wrong = try await ConsoleKit.post(client, "/second-factor", ["csrf": token, "code": TOTP(secret: secret).code(at: now + 900)], cookie: cookie)
            #expect(wrong.status == .unprocessableContent)
            #expect(wrong.text.contains("id=\"code-error\""))
            #expect(Self.secret(in: wrong.text) == secret)

            let done = try await ConsoleKit.post(client, "/second-factor", ["csrf": token, "code": TOTP(secret: secret).code(at: now)], cookie: cookie)
            #expect(done.status == .ok, "\(done.text.prefix(500))")
            #expect(done.text.contains("id=\"recovery-codes\""))
            #expect(done.text.components(separatedBy: "<li><code>").count == 11, "ten recovery codes")
            #expect(Self.secret(in: done.text) == nil, "the secret is not shown again")

            let audit = try await ConsoleKit.get(client, "/audit", cookie: cookie)
            #expect(audit.status == .ok, "the session works now")
            let again = try await ConsoleKit.get(client, "/second-factor", cookie: cookie)
            #expect(again.status == .seeOther && Self.secret(in: again.text) == nil)
            #expect(try CaseKit.count(app, "app_user", where: "id = $1 AND totp_secret IS NOT NULL AND totp_pending IS NULL", [auditor.id]) == 1)
        }
    }

    @Test("a recovery code typed in the login form's code field logs in, once")
    func recoveryCodeInTheCodeField() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let supervisor = try await app.user(.supervisor, in: organisation.id)
            let fields = ["username": supervisor.user.username, "password": supervisor.password, "totp": supervisor.recoveryCodes[2]]
            let first = try await ConsoleKit.post(client, "/login", fields)
            #expect(first.status == .seeOther && first.headers[.location] == "/worklist", "\(first.status) \(first.text.prefix(300))")
            let second = try await ConsoleKit.post(client, "/login", fields)
            #expect(second.status == .unauthorized)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'auth.recovery-code-used' AND actor_user = $1", [supervisor.id]) == 1)
        }
    }

    @Test("the users page offers an administrator the reset of a user's second factor, never a secret; the reset sends the user back to enrolment")
    func administratorResets() async throws {
        try await TestApp.run { app, client in
            let home = try await app.organisation()
            let admin = try await app.user(.admin, in: home.id)
            let supervisor = try await app.user(.supervisor, in: home.id)
            let browser = try await ConsoleKit.login(client, admin)
            let users = try await ConsoleKit.get(client, "/users", cookie: browser.cookie)
            #expect(users.text.contains("action=\"/users/\(supervisor.id.uuidString.lowercased())/second-factor\""))
            #expect(!users.text.contains("otpauth"))
            let reset = try await ConsoleKit.post(client, "/users/\(supervisor.id.uuidString.lowercased())/second-factor", ["csrf": browser.formToken],
                                                  cookie: browser.cookie)
            #expect(reset.status == .seeOther)
            #expect(try CaseKit.count(app, "app_user", where: "id = $1 AND totp_secret IS NULL", [supervisor.id]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'user.second-factor-reset' AND entity_id = $1", [supervisor.id.uuidString.lowercased()]) == 1)
            let login = try await ConsoleKit.post(client, "/login", ["username": supervisor.user.username, "password": supervisor.password])
            #expect(login.headers[.location] == "/second-factor")
        }
    }
}
