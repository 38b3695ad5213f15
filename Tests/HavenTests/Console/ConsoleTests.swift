import Foundation
@testable import HavenAPI
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console over the same services as the API: sessions, form tokens, headers, who sees
/// what, and that a read through a page is audited like a read through the API.
@Suite struct ConsoleTests {
    /// A caseworker's NGO with one referred case and the shelter it is referred to.
    struct World {
        let caseworker: CaseKit.Member
        let partner: CaseKit.Member
        let caseID: UUID
        let reference: String
        let referral: UUID
    }

    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> World {
        let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))", services: [.counselling])
        let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let person = CaseKit.Person()
        let (caseID, reference) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
        let need = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/needs",
                                            ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
        let consent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/consents",
                                               CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
        let referral = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/referrals",
                                                ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
                                                 "shared_categories": ["profile", "needs"]])
        return World(caseworker: caseworker, partner: partner, caseID: caseID, reference: reference, referral: referral)
    }

    @Test func loginSetsAStrictSessionCookieAndEveryPageCarriesTheSecurityHeaders() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            var fields = ["username": world.caseworker.user.user.username, "password": world.caseworker.user.password]
            let response = try await ConsoleKit.post(client, "/login", fields)
            #expect(response.status == .seeOther)
            #expect(response.headers[.location] == "/worklist")
            let cookie = try #require(response.headers[.setCookie])
            #expect(cookie.hasPrefix("haven_session="))
            for flag in ["HttpOnly", "SameSite=Strict", "Path=/"] { #expect(cookie.contains(flag), "cookie lacks \(flag): \(cookie)") }
            let session = String(cookie.split(separator: ";")[0])
            for path in ["/worklist", "/cases", "/cases/\(world.caseID.uuidString.lowercased())", "/referrals?direction=outgoing"] {
                let page = try await ConsoleKit.get(client, path, cookie: session)
                #expect(page.status == .ok, "\(path): \(page.status)")
                #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
                let policy = page.headers[.contentSecurityPolicy] ?? ""
                #expect(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe-inline"))
                #expect(page.header("X-Content-Type-Options") == "nosniff")
                #expect(page.header("Referrer-Policy") == "no-referrer")
                #expect(page.header("Cache-Control") == "no-store")
            }
            let list = try await ConsoleKit.get(client, "/cases", cookie: session)
            #expect(list.text.contains(world.reference))
            // A wrong password lands back on the form, with the username kept and no cookie.
            fields["password"] = "not the password at all"
            let refused = try await ConsoleKit.post(client, "/login", fields)
            #expect(refused.status == .unauthorized)
            #expect(refused.headers[.setCookie] == nil)
            #expect(refused.text.contains("value=\"\(world.caseworker.user.user.username)\""))
        }
    }

    @Test func aPartnerGetsTheSameNotFoundForACaseAsForNoCase() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let partner = try await ConsoleKit.login(client, world.partner.user)
            let real = try await ConsoleKit.get(client, "/cases/\(world.caseID.uuidString.lowercased())", cookie: partner.cookie)
            let unknown = try await ConsoleKit.get(client, "/cases/\(UUID().uuidString.lowercased())", cookie: partner.cookie)
            #expect(real.status == .notFound)
            #expect(unknown.status == .notFound)
            #expect(!real.text.contains(world.reference))
            let strip = { (text: String) in text.replacingOccurrences(of: #"<code>[0-9a-z]+</code>"#, with: "", options: .regularExpression) }
            #expect(strip(real.text) == strip(unknown.text))
            // The referral itself is theirs to see: the consented part only, and no case link.
            let referral = try await ConsoleKit.get(client, "/referrals/\(world.referral.uuidString.lowercased())", cookie: partner.cookie)
            #expect(referral.status == .ok)
            #expect(referral.text.contains("id=\"shared-case\""))
            #expect(!referral.text.contains("/cases/"))
            #expect(!referral.text.contains("Givenqx"))
            // Partner users send nothing: their referrals page offers no outbox; a caseworker's does.
            let inbox = try await ConsoleKit.get(client, "/referrals", cookie: partner.cookie)
            #expect(inbox.status == .ok)
            #expect(!inbox.text.contains("direction=outgoing"), "a partner is offered no outbox")
            let caseworker = try await ConsoleKit.login(client, world.caseworker.user)
            #expect(try await ConsoleKit.get(client, "/referrals", cookie: caseworker.cookie).text.contains("direction=outgoing"))
        }
    }

    @Test func aFormWithoutItsTokenOrFromAnotherSiteChangesNothing() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let browser = try await ConsoleKit.login(client, world.caseworker.user)
            let missing = try await ConsoleKit.post(client, "/logout", [:], cookie: browser.cookie)
            #expect(missing.status == .forbidden)
            let wrong = try await ConsoleKit.post(client, "/logout", ["csrf": String(repeating: "0", count: 40)], cookie: browser.cookie)
            #expect(wrong.status == .forbidden)
            let foreign = try await ConsoleKit.post(client, "/logout", ["csrf": browser.formToken], cookie: browser.cookie,
                                                    headers: ["Origin": "https://elsewhere.example", "Sec-Fetch-Site": "cross-site"])
            #expect(foreign.status == .forbidden)
            #expect(try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie).status == .ok, "the session must survive refused posts")
            let logout = try await ConsoleKit.post(client, "/logout", ["csrf": browser.formToken], cookie: browser.cookie,
                                                   headers: ["Origin": "null", "Sec-Fetch-Site": "same-origin"])
            #expect(logout.status == .seeOther)
            let after = try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie)
            #expect(after.status == .seeOther)
            #expect(after.headers[.location] == "/login")
        }
    }

    @Test func readingACasePageIsAuditedLikeTheAPI() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let browser = try await ConsoleKit.login(client, world.caseworker.user)
            let reads = { try CaseKit.count(app, "audit_event", where: "subtype = 'case.read' AND case_id = $1", [world.caseID]) }
            let before = try reads()
            let page = try await ConsoleKit.get(client, "/cases/\(world.caseID.uuidString.lowercased())", cookie: browser.cookie)
            #expect(page.status == .ok)
            #expect(try reads() == before + 1)
            // One event for the page, naming everything it showed; no separate list events.
            let pageReads = try CaseKit.count(app, "audit_event", where: "subtype = 'case.read' AND case_id = $1 AND detail::jsonb->>'view' = 'case-page'"
                                              + " AND (detail::jsonb->>'needs')::int >= 1 AND detail::jsonb ? 'referrals' AND detail::jsonb ? 'history'", [world.caseID])
            #expect(pageReads == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype IN ('need.list', 'case.history') AND case_id = $1", [world.caseID]) == 0)
            // Names, not ids: the history names the caseworker, and no raw user id is shown.
            #expect(!page.text.contains(world.caseworker.id.uuidString.lowercased()))
            #expect(page.text.contains(world.reference))
        }
    }

    @Test func theWorklistIsOneAuditedReadShowingWhatWaits() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let partner = try await ConsoleKit.login(client, world.partner.user)
            let lists = { try CaseKit.count(app, "audit_event", where: "subtype IN ('referral.list', 'case.list') AND actor_user = $1", [world.partner.id]) }
            let views = {
                try CaseKit.count(app, "audit_event", where: "subtype = 'worklist.read' AND actor_user = $1 AND detail::jsonb->>'referrals' = '1'"
                                  + " AND detail::jsonb->>'cases' = '0'", [world.partner.id])
            }
            let (listsBefore, viewsBefore) = (try lists(), try views())
            let page = try await ConsoleKit.get(client, "/worklist", cookie: partner.cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains("/referrals/\(world.referral.uuidString.lowercased())"), "the referral waiting for the shelter's answer is listed")
            #expect(try views() == viewsBefore + 1)
            #expect(try lists() == listsBefore, "the worklist writes one event, not one per list")
        }
    }

    @Test func aPartnerAcceptsAReferralThroughItsForm() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let partner = try await ConsoleKit.login(client, world.partner.user)
            let path = "/referrals/\(world.referral.uuidString.lowercased())"
            // Rejecting without a reason is refused next to the field, and what was typed stays.
            let refused = try await ConsoleKit.post(client, path + "/transition", ["csrf": partner.formToken, "to": "rejected", "note": "typed note"],
                                                    cookie: partner.cookie)
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("id=\"reason-error\""))
            #expect(refused.text.contains("typed note"))
            let accepted = try await ConsoleKit.post(client, path + "/transition", ["csrf": partner.formToken, "to": "accepted"], cookie: partner.cookie)
            #expect(accepted.status == .seeOther)
            let api = try await CaseKit.call(client, .get, "/v1/referrals/\(world.referral)", world.partner.token)
            #expect(try api.json()["status"] as? String == "accepted")
        }
    }

    @Test func theLanguageComesFromTheBrowserThenFromTheUsersChoice() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let romanian = try await ConsoleKit.get(client, "/login", cookie: nil, headers: ["Accept-Language": "ro-MD,ro;q=0.9,en;q=0.5"])
            #expect(romanian.text.contains("<html lang=\"ro\">"))
            let browser = try await ConsoleKit.login(client, world.caseworker.user)
            let switched = try await ConsoleKit.post(client, "/language", ["csrf": browser.formToken, "language": "uk", "back": "/cases"],
                                                     cookie: browser.cookie)
            #expect(switched.status == .seeOther)
            #expect(switched.headers[.location] == "/cases")
            let stored = try CaseKit.ownerRows(app, "SELECT language FROM app_user WHERE id = $1", [world.caseworker.id])
            #expect(stored.first?.first == "uk")
            // The next login brings the stored choice back, whatever the browser says.
            let again = try await ConsoleKit.post(client, "/login", ["username": world.caseworker.user.user.username, "password": world.caseworker.user.password])
            #expect(again.headers.filter { $0.name == .setCookie }.contains { $0.value.hasPrefix("haven_lang=uk") })
        }
    }

    @Test func theLanguageSwitchReturnsOnlyToAPathOfThisSite() {
        #expect(ConsoleController.localPath("/cases/3f2a?direction=incoming") != nil)
        for hostile in ["//evil.example/", "/\\evil.example", "/\tevil", "https://evil.example", "/\n/evil", "javascript:alert(1)"] {
            #expect(ConsoleController.localPath(hostile) == nil, "\(hostile) must not be followed")
        }
    }

    @Test func acceptLanguageNegotiation() {
        #expect(Language.negotiate(nil) == .en)
        #expect(Language.negotiate("ro-MD,ro;q=0.9") == .ro)
        #expect(Language.negotiate("de-DE, ru;q=0.8, en;q=0.5") == .ru)
        #expect(Language.negotiate("en;q=0.2, uk;q=0.9") == .uk)
        #expect(Language.negotiate("fr, de") == .en)
        #expect(Language.negotiate("ru;q=0") == .en)
    }
}
