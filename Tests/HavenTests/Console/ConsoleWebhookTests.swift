import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The administrator's webhook page: register, see the secret once, rotate, delete; a refused
/// address is named beside its field with what was typed kept.
@Suite struct ConsoleWebhookTests {
    @Test func anAdministratorRegistersRotatesAndDeletesAWebhook() async throws {
        try await TestApp.run { app, client in
            let home = try await app.organisation("Synthetic Ministry \(UUID().uuidString.prefix(6))", type: .government)
            let partner = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))")
            let admin = try await app.user(.admin, in: home.id)
            let browser = try await ConsoleKit.login(client, admin)
            let page = "/organisations/\(partner.id.lowercasedString)/webhooks"
            let organisations = try await ConsoleKit.get(client, "/organisations", cookie: browser.cookie)
            #expect(organisations.text.contains("href=\"\(page)\""))
            let empty = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(empty.status == .ok && empty.text.contains("id=\"webhook-form\"") && !empty.text.contains("id=\"webhook-list\""))

            let refused = try await ConsoleKit.post(client, page, ["csrf": browser.formToken, "url": "https://192.168.0.10/hook", "kinds": "referral.arrived"],
                                                    cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"url-error\"") && refused.text.contains("value=\"https://192.168.0.10/hook\""))
            #expect(try CaseKit.count(app, "webhook_subscription") == 0)

            let made = try await ConsoleKit.post(client, page, ["csrf": browser.formToken, "url": "https://partner.example.org/hook",
                                                                "kinds": "referral.arrived"], cookie: browser.cookie)
            #expect(made.status == .created)
            let secret = try #require(made.text.range(of: #"whsec_[A-Za-z0-9+/=]+"#, options: .regularExpression).map { String(made.text[$0]) })
            let id = try #require(try CaseKit.ownerRows(app, "SELECT id::text FROM webhook_subscription").first?.first ?? nil)
            // Shown once: the page read again holds no secret.
            let again = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(again.text.contains("id=\"webhook-\(id)\"") && !again.text.contains("whsec_"))

            let rotated = try await ConsoleKit.post(client, "\(page)/\(id)/rotate", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(rotated.status == .ok && rotated.text.contains("whsec_") && !rotated.text.contains(secret))
            let deleted = try await ConsoleKit.post(client, "\(page)/\(id)/delete", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(deleted.status == .seeOther)
            #expect(try CaseKit.count(app, "webhook_subscription", where: "deleted_at IS NOT NULL") == 1)
        }
    }

    @Test func aSupervisorFindsNoWebhookPage() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation()
            let supervisor = try await app.user(.supervisor, in: own.id)
            let browser = try await ConsoleKit.login(client, supervisor)
            let page = try await ConsoleKit.get(client, "/organisations/\(own.id.lowercasedString)/webhooks", cookie: browser.cookie)
            #expect(page.status == .notFound || page.status == .forbidden)
            #expect(!page.text.contains("webhook-form"))
        }
    }
}
