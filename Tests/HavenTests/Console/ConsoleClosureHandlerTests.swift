import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console's closure page (a choice for every open referral, service and need; approve or
/// decline) and the referral's "handled by" section with take and hand-over forms.
@Suite struct ConsoleClosureHandlerTests {
    static func location(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        #expect(response.status == .seeOther, "expected a redirect, got \(response.status): \(response.text.prefix(400))", sourceLocation: sourceLocation)
        return response.headers[.location] ?? ""
    }

    static func lower(_ id: UUID) -> String { id.uuidString.lowercased() }

    @Test func theSupervisorDecidesEveryOpenItemOnTheClosurePage() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesClosureDecisionTests.scene(app, client)
            let request = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "lost-contact"])
            #expect(request.status == .accepted)
            // Another supervisor: the scene's logged in through the API with this TOTP step already.
            let boss = try await ConsoleKit.login(client, try await app.user(.supervisor, in: scene.supervisor.organisation))
            let path = "/cases/\(Self.lower(scene.caseID))/closure"

            let page = try await ConsoleKit.get(client, path, cookie: boss.cookie)
            #expect(page.status == .ok, "\(page.text.prefix(400))")
            for field in ["referral." + Self.lower(scene.referral), "service." + Self.lower(scene.service),
                          "need." + Self.lower(scene.servedNeed), "need." + Self.lower(scene.otherNeed)] {
                #expect(page.text.contains("name=\"\(field)\""), "no choice for \(field)")
            }
            #expect(page.text.contains("id=\"decline-form\""))
            #expect(page.text.contains("Case closed: the person moved away"), "the reasons are the recipient's words")

            // A choice left out is refused next to that item, with the others kept.
            let referralField = "referral." + Self.lower(scene.referral)
            let partial = try await ConsoleKit.post(client, path, ["csrf": boss.formToken, referralField: "person-moved",
                                                                   "need." + Self.lower(scene.servedNeed): "met"], cookie: boss.cookie)
            #expect(partial.status == .unprocessableContent)
            #expect(partial.text.contains("id=\"service_\(Self.lower(scene.service).replacingOccurrences(of: "-", with: "_"))-error\""),
                    "\(partial.text.prefix(2000))")
            #expect(partial.text.contains("<option value=\"person-moved\" selected>"), "the choice made is kept")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'open'", [scene.caseID]) == 1)

            let done = try await ConsoleKit.post(client, path, [
                "csrf": boss.formToken, referralField: "person-moved", "service." + Self.lower(scene.service): "cancel",
                "need." + Self.lower(scene.servedNeed): "cancelled", "need." + Self.lower(scene.otherNeed): "met",
            ], cookie: boss.cookie)
            #expect(Self.location(done) == "/cases/\(Self.lower(scene.caseID))")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'closed'", [scene.caseID]) == 1)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status_reason = 'person-moved'", [scene.referral]) == 1)
            #expect(try CaseKit.count(app, "service_episode", where: "id = $1 AND status = 'cancelled'", [scene.service]) == 1)

            // The shelter's partner reads why on the referral's page.
            let partner = try await ConsoleKit.login(client, scene.partner.user)
            let referralPage = try await ConsoleKit.get(client, "/referrals/\(Self.lower(scene.referral))", cookie: partner.cookie)
            #expect(referralPage.text.contains("Case closed: the person moved away"), "\(referralPage.text.prefix(1500))")
        }
    }

    @Test func theSupervisorDeclinesARequestWithAReasonFromTheClosurePage() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesClosureDecisionTests.scene(app, client)
            _ = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "services-completed"])
            // Another supervisor: the scene's logged in through the API with this TOTP step already.
            let boss = try await ConsoleKit.login(client, try await app.user(.supervisor, in: scene.supervisor.organisation))
            let path = "/cases/\(Self.lower(scene.caseID))/close/decline"

            let missing = try await ConsoleKit.post(client, path, ["csrf": boss.formToken], cookie: boss.cookie)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("id=\"decline_reason-error\""))
            let declined = try await ConsoleKit.post(client, path, ["csrf": boss.formToken, "decline_reason": "risk-remains"], cookie: boss.cookie)
            #expect(Self.location(declined) == "/cases/\(Self.lower(scene.caseID))")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'open' AND closure_requested_at IS NULL", [scene.caseID]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.close-decline' AND case_id = $1", [scene.caseID]) == 1)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'requested'", [scene.referral]) == 1)
        }
    }

    @Test func aPartnerTakesAReferralAndTheInboxShowsWhoHandlesIt() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralHandlerTests.scene(app, client)
            let partner = try await ConsoleKit.login(client, scene.partner.user)
            let path = "/referrals/\(Self.lower(scene.referral))"

            let page = try await ConsoleKit.get(client, path, cookie: partner.cookie)
            #expect(page.text.contains("id=\"take-form\""))
            #expect(page.text.contains("id=\"hand-over-form\""))
            #expect(page.text.contains(scene.colleague.user.user.username), "the colleague is offered")
            #expect(!page.text.contains(scene.outsider.user.user.username))

            #expect(Self.location(try await ConsoleKit.post(client, path + "/handler", ["csrf": partner.formToken], cookie: partner.cookie)) == path)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND handler_user_id = $2", [scene.referral, scene.partner.id]) == 1)
            let inbox = try await ConsoleKit.get(client, "/referrals?direction=incoming", cookie: partner.cookie)
            #expect(inbox.text.contains("<td class=\"handler\">\(scene.partner.user.user.username)</td>"), "\(inbox.text.prefix(2000))")

            let handed = try await ConsoleKit.post(client, path + "/handler", ["csrf": partner.formToken, "user": Self.lower(scene.colleague.id)],
                                                   cookie: partner.cookie)
            #expect(Self.location(handed) == path)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND handler_user_id = $2", [scene.referral, scene.colleague.id]) == 1)
            let refused = try await ConsoleKit.post(client, path + "/handler", ["csrf": partner.formToken, "user": Self.lower(scene.outsider.id)],
                                                    cookie: partner.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"user-error\""))

            // The sending caseworker sees no handler section.
            let sender = try await ConsoleKit.login(client, scene.caseworker.user)
            let sent = try await ConsoleKit.get(client, path, cookie: sender.cookie)
            #expect(sent.status == .ok)
            #expect(!sent.text.contains("id=\"handler\""))
            #expect(!sent.text.contains(scene.colleague.user.user.username))
        }
    }
}
