import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The administrator's pages: organisations with their mandates, users; no case content.
@Suite struct ConsoleAdminTests {
    @Test func anAdministratorCreatesAnOrganisationAndAUserAndDeactivatesThem() async throws {
        try await TestApp.run { app, client in
            let home = try await app.organisation("Synthetic Ministry \(UUID().uuidString.prefix(6))", type: .government)
            let admin = try await app.user(.admin, in: home.id)
            let browser = try await ConsoleKit.login(client, admin)
            let worklist = try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie)
            #expect(worklist.text.contains("href=\"/organisations\""))
            #expect(!worklist.text.contains("href=\"/cases\""), "administrators see no case pages")
            #expect(try await ConsoleKit.get(client, "/cases", cookie: browser.cookie).status == .notFound)
            let name = "Synthetic Clinic \(UUID().uuidString.prefix(6))"
            // A name left blank is refused next to the field; what was ticked stays ticked.
            let refused = try await ConsoleKit.post(client, "/organisations", ["csrf": browser.formToken, "idempotency_key": "org-0", "name": " ",
                                                                               "type": "health", "country": "MD", "service_types": "medical"],
                                                    cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"name-error\""))
            let made = try await ConsoleKit.post(client, "/organisations", ["csrf": browser.formToken, "idempotency_key": "org-1", "name": name,
                                                                            "type": "health", "country": "MD", "service_types": "medical",
                                                                            "accepts_referrals": "1"], cookie: browser.cookie)
            #expect(made.status == .seeOther)
            let rows = try CaseKit.ownerRows(app, "SELECT id::text FROM organisation WHERE name = $1", [name])
            let clinic = try #require(rows.first?.first ?? nil)
            let user = try await ConsoleKit.post(client, "/users", ["csrf": browser.formToken, "idempotency_key": "user-1", "organisation_id": clinic,
                                                                    "role": "partner", "username": "clinic.desk.\(UUID().uuidString.prefix(4).lowercased())",
                                                                    "password": "synthetic first passphrase"], cookie: browser.cookie)
            #expect(user.status == .seeOther)
            #expect(try CaseKit.count(app, "app_user", where: "organisation_id = $1::uuid AND password_must_change", [clinic]) == 1)
            let off = try await ConsoleKit.post(client, "/organisations/\(clinic)", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(off.status == .seeOther)
            #expect(try CaseKit.count(app, "organisation", where: "id = $1::uuid AND NOT active", [clinic]) == 1)
            // Their own organisation cannot be switched off from here.
            let own = try await ConsoleKit.post(client, "/organisations/\(home.id.uuidString.lowercased())", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(own.status == .conflict)
            #expect(try CaseKit.count(app, "organisation", where: "id = $1 AND active", [home.id]) == 1)
        }
    }
}
