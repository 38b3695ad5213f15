import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The console's page for choosing email notifications: a refused address is named beside its
/// field in the user's language with what was typed and ticked kept; a good choice is saved and
/// shown again.
@Suite struct ConsoleNotificationEmailTests {
    static func post(_ client: any TestClientProtocol, _ browser: ConsoleKit.Browser, _ pairs: [(String, String)]) async throws -> TestResponse {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let body = ([("csrf", browser.formToken)] + pairs)
            .map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&")
        return try await client.executeRequest(uri: "/notifications/email", method: .post,
                                               headers: [.contentType: "application/x-www-form-urlencoded", .cookie: browser.cookie],
                                               body: ByteBuffer(string: body))
    }

    @Test func aUserChoosesEmailNotificationsAndIsToldBesideTheFieldWhatIsWrong() async throws {
        try await TestApp.run { app, client in
            let organisation = try await app.organisation()
            let user = try await app.user(.partner, in: organisation.id)
            let browser = try await ConsoleKit.login(client, user)

            let list = try await ConsoleKit.get(client, "/notifications", cookie: browser.cookie)
            #expect(list.text.contains(#"href="/notifications/email""#))

            let refused = try await Self.post(client, browser, [("address", "shelter at example"), ("kinds", "referral.arrived")])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains(#"<span class="field-error" id="address-error">Write an email address such as name@example.org.</span>"#))
            #expect(refused.text.contains(#"value="shelter at example""#))
            #expect(refused.text.contains(#"value="referral.arrived" checked"#))
            #expect(!refused.text.contains(#"value="referral.cancelled" checked"#))

            let saved = try await Self.post(client, browser, [("address", "shelter@example.org"), ("kinds", "referral.arrived"),
                                                              ("kinds", "referral.cancelled")])
            #expect(saved.status == .seeOther)
            #expect(saved.headers[.location] == "/notifications/email?saved=1")
            let page = try await ConsoleKit.get(client, "/notifications/email?saved=1", cookie: browser.cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains(#"id="notification-email-saved""#))
            #expect(page.text.contains(#"value="shelter@example.org""#))
            #expect(page.text.contains(#"value="referral.arrived" checked"#) && page.text.contains(#"value="referral.cancelled" checked"#))
            #expect(!page.text.contains(#"value="need.overdue" checked"#))
            #expect(try CaseKit.count(app, "notification_email", where: "user_id = $1", [user.id]) == 1)
        }
    }
}
