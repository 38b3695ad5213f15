import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console's side of notifications: the header counts the unread ones on every page, the
/// notifications page lists them with a link to the page where the user acts, and marking one
/// or all read brings the count down.
@Suite struct ConsoleNotificationTests {
    @Test func theHeaderCountsUnreadAndThePageMarksThemRead() async throws {
        try await TestApp.run { app, client in
            let scene = try await NotificationEventTests.scene(app, client)
            let first = try await NotificationEventTests.refer(client, scene)
            _ = try await NotificationEventTests.refer(client, scene)
            try await NotificationEventTests.deliver(app)
            let browser = try await ConsoleKit.login(client, scene.partner.user)

            for path in ["/worklist", "/referrals"] {
                let page = try await ConsoleKit.get(client, path, cookie: browser.cookie)
                #expect(page.status == .ok)
                #expect(page.text.contains("id=\"notifications-link\""), "\(path) has no notifications link")
                #expect(page.text.contains("Notifications (2 unread)"), "\(path): \(page.text.prefix(1500))")
            }
            let list = try await ConsoleKit.get(client, "/notifications", cookie: browser.cookie)
            #expect(list.status == .ok)
            #expect(list.text.contains("A new referral arrived"))
            #expect(list.text.contains("href=\"/referrals/\(first.lowercasedString)\""))
            #expect(list.text.contains(scene.reference))
            #expect(list.text.contains("Unread: 2"))

            let id = try #require(try CaseKit.ownerRows(app, "SELECT id::text FROM notification WHERE user_id = $1 ORDER BY created_at LIMIT 1",
                                                        [scene.partner.id]).first?[0] ?? nil)
            // Without the form token nothing changes.
            let forged = try await ConsoleKit.post(client, "/notifications/\(id)/read", ["csrf": "0000"], cookie: browser.cookie)
            #expect(forged.status == .forbidden)
            let marked = try await ConsoleKit.post(client, "/notifications/\(id)/read", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(marked.status == .seeOther, "\(marked.text.prefix(300))")
            #expect(try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie).text.contains("Notifications (1 unread)"))
            // Another user's notification is out of reach: the same 404 as an unknown one.
            let caseworker = try await ConsoleKit.login(client, scene.caseworker.user)
            let foreign = try await ConsoleKit.post(client, "/notifications/\(id)/read", ["csrf": caseworker.formToken], cookie: caseworker.cookie)
            #expect(foreign.status == .notFound)

            let all = try await ConsoleKit.post(client, "/notifications/read-all", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(all.status == .seeOther)
            let after = try await ConsoleKit.get(client, "/notifications", cookie: browser.cookie)
            #expect(after.text.contains(">Notifications</a>"))
            #expect(after.text.contains("Unread: 0"))
            #expect(!after.text.contains("read-all-form"))

            // In the user's language.
            let romanian = try await ConsoleKit.get(client, "/notifications", cookie: browser.cookie + "; haven_lang=ro")
            #expect(romanian.text.contains("A sosit o referire nouă"))
        }
    }
}
