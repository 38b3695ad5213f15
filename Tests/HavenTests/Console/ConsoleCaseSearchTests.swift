import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The case list's search in the console: a reference and the filters by GET, a person's name
/// and birth year only by a posted form whose answer is the result page (no redirect, no name
/// in any URL), refusals next to their fields with what was typed kept.
@Suite struct ConsoleCaseSearchTests {
    struct Scene {
        /// Logged in through the console only: a TOTP code is good once, so no API login first.
        let supervisor: TestApp.TestUser
        let person: CaseKit.Person
        let mine: (id: UUID, reference: String)
        let another: (id: UUID, reference: String)
        let elsewhere: (id: UUID, reference: String)
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let home = try await app.organisation(country: "MD")
        let away = try await app.organisation(country: "MD")
        let supervisor = try await app.user(.supervisor, in: home.id)
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: home.id)
        let otherCaseworker = try await CaseKit.member(app, client, .caseworker, in: away.id)
        let person = CaseKit.Person()
        let mine = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person, risk: "high"))
        let another = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person(), risk: "low"))
        let elsewhere = try await CaseKit.createCase(client, otherCaseworker, CaseKit.intake(person))
        return Scene(supervisor: supervisor, person: person, mine: mine, another: another, elsewhere: elsewhere)
    }

    @Test func aReferenceAndTheFiltersSearchByGet() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let browser = try await ConsoleKit.login(client, scene.supervisor)
            let found = try await ConsoleKit.get(client, "/cases?reference=\(scene.mine.reference.lowercased())&status=&sort=reference", cookie: browser.cookie)
            #expect(found.status == .ok)
            #expect(found.text.contains(scene.mine.reference) && !found.text.contains(scene.another.reference), "\(found.text.prefix(400))")
            let low = try await ConsoleKit.get(client, "/cases?risk_level=low&identification_status=presumed", cookie: browser.cookie)
            #expect(low.text.contains(scene.another.reference) && !low.text.contains(scene.mine.reference))
            let elsewhere = try await ConsoleKit.get(client, "/cases?reference=\(scene.elsewhere.reference)", cookie: browser.cookie)
            #expect(elsewhere.status == .ok && !elsewhere.text.contains("id=\"case-list\""), "another organisation's case is not listed")
            // A bad value comes back next to its field, as typed.
            let refused = try await ConsoleKit.get(client, "/cases?reference=MD-26&identified_from=2026-03-02&identified_to=2026-03-01",
                                                   cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            for field in ["reference", "identified_to"] { #expect(refused.text.contains("id=\"\(field)-error\""), "\(field)") }
            #expect(refused.text.contains("id=\"form-errors\"") && refused.text.contains("value=\"MD-26\""))
        }
    }

    @Test func aPersonIsSearchedByAPostedFormAndTheNameStaysOutOfURLsAndTheTrail() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let browser = try await ConsoleKit.login(client, scene.supervisor)
            let name = "\(scene.person.familyName) \(scene.person.givenName)"
            let found = try await ConsoleKit.post(client, "/cases/search", ["csrf": browser.formToken, "name": name, "birth_year": "1999",
                                                                             "risk_level": "high", "cursor": ""], cookie: browser.cookie)
            #expect(found.status == .ok, "the result page itself, never a redirect carrying the name: \(found.status)")
            #expect(found.headers[.location] == nil)
            #expect(found.text.contains(scene.mine.reference), "\(found.text.prefix(400))")
            #expect(!found.text.contains(scene.another.reference) && !found.text.contains(scene.elsewhere.reference))
            // The name is kept in its field (the page's body), and in no link.
            #expect(found.text.contains("value=\"\(name)\""))
            for link in found.text.matches(of: /href="([^"]*)"/) { #expect(!link.1.contains(scene.person.familyName), "\(link.1)") }
            let otherYear = try await ConsoleKit.post(client, "/cases/search", ["csrf": browser.formToken, "name": name, "birth_year": "1998"],
                                                      cookie: browser.cookie)
            #expect(otherYear.status == .ok && !otherYear.text.contains(scene.mine.reference))

            // A name without a year is refused next to the year, with the name kept.
            let refused = try await ConsoleKit.post(client, "/cases/search", ["csrf": browser.formToken, "name": name], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"birth_year-error\"") && refused.text.contains("id=\"form-errors\""))
            #expect(refused.text.contains("value=\"\(name)\""))
            // Without the form token, nothing is searched.
            let forged = try await ConsoleKit.post(client, "/cases/search", ["name": name, "birth_year": "1999"], cookie: browser.cookie)
            #expect(forged.status == .forbidden)

            CaseKit.expectAbsent(scene.person.names, in: try CaseKit.auditTexts(app).joined(separator: "\n"), "the audit trail")
            let filters = try CaseKit.ownerRows(app, "SELECT detail::jsonb->>'filters' FROM audit_event WHERE actor_user = $1 AND subtype = 'case.list' ORDER BY id",
                                                [scene.supervisor.id]).compactMap { $0[0] }
            #expect(filters.contains { $0.contains("\"name\"") && $0.contains("\"birth_year\"") && $0.contains("\"risk_level\"") }, "\(filters)")
        }
    }
}
