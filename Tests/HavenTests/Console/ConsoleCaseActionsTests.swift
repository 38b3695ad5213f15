import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The case page's small forms (assignment, consent withdrawal) and a supervisor's emergency
/// access by reference, through the console as a browser drives it.
@Suite struct ConsoleCaseActionsTests {
    @Test func aSupervisorAssignsTheCaseToACaseworkerOfTheOrganisationOnly() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let elsewhere = try await app.organisation("Synthetic Office \(UUID().uuidString.prefix(6))")
            let author = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let colleague = try await app.user(.caseworker, in: ngo.id)
            let stranger = try await app.user(.caseworker, in: elsewhere.id)
            let (caseID, _) = try await CaseKit.createCase(client, author, CaseKit.intake(CaseKit.Person()))
            let supervisor = try await ConsoleKit.login(client, try await app.user(.supervisor, in: ngo.id))
            let path = "/cases/\(caseID.uuidString.lowercased())"
            let page = try await ConsoleKit.get(client, path, cookie: supervisor.cookie)
            #expect(page.text.contains("id=\"assign-form\""))
            #expect(page.text.contains("value=\"\(colleague.id.uuidString.lowercased())\""), "the organisation's caseworkers are offered")
            #expect(!page.text.contains(stranger.id.uuidString.lowercased()), "another organisation's staff are not")

            let refused = try await ConsoleKit.post(client, path + "/assign", ["csrf": supervisor.formToken, "assignee": stranger.id.uuidString],
                                                    cookie: supervisor.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"assignee-error\""))

            let assigned = try await ConsoleKit.post(client, path + "/assign", ["csrf": supervisor.formToken, "assignee": colleague.id.uuidString],
                                                     cookie: supervisor.cookie)
            #expect(assigned.status == .seeOther)
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND assigned_to = $2", [caseID, colleague.id]) == 1)

            // A caseworker is not offered the form, and posting it anyway changes nothing.
            let worker = try await ConsoleKit.login(client, author.user)
            #expect(!(try await ConsoleKit.get(client, path, cookie: worker.cookie)).text.contains("id=\"assign-form\""))
            let tried = try await ConsoleKit.post(client, path + "/assign", ["csrf": worker.formToken, "assignee": author.id.uuidString], cookie: worker.cookie)
            #expect(tried.status == .forbidden || tried.status == .notFound)
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND assigned_to = $2", [caseID, colleague.id]) == 1)
        }
    }

    @Test func withdrawingAConsentThroughThePageCancelsTheReferralsItCovered() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let need = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/needs",
                                                ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
            let consent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/consents",
                                                   CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
            let referral = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/referrals",
                                                    ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString,
                                                     "consent_id": consent.uuidString, "shared_categories": ["profile", "needs"]])
            let browser = try await ConsoleKit.login(client, caseworker.user)
            let path = "/cases/\(caseID.uuidString.lowercased())"
            let withdraw = path + "/consents/\(consent.uuidString.lowercased())/withdraw"
            #expect(try await ConsoleKit.get(client, path, cookie: browser.cookie).text.contains("action=\"\(withdraw)\""))
            let done = try await ConsoleKit.post(client, withdraw, ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(done.status == .seeOther)
            #expect(try CaseKit.count(app, "consent", where: "id = $1 AND withdrawn_at IS NOT NULL", [consent]) == 1)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'cancelled'", [referral]) == 1)
            #expect(!(try await ConsoleKit.get(client, path, cookie: browser.cookie)).text.contains("action=\"\(withdraw)\""),
                    "a withdrawn consent offers no second withdrawal")
        }
    }

    @Test func aSupervisorOpensAnotherOrganisationsCaseByReferenceAndSeesTheTimeLeft() async throws {
        try await TestApp.run { app, client in
            let owner = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let other = try await app.organisation("Synthetic Police Unit \(UUID().uuidString.prefix(6))", type: .lawEnforcement)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: owner.id)
            let (caseID, reference) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let outsider = try await ConsoleKit.login(client, try await app.user(.supervisor, in: other.id))
            let path = "/cases/\(caseID.uuidString.lowercased())"
            #expect(try await ConsoleKit.get(client, path, cookie: outsider.cookie).status == .notFound)
            let queue = try await ConsoleKit.get(client, "/break-glass", cookie: outsider.cookie)
            #expect(queue.text.contains("id=\"break-glass-form\""))

            // A short reason is refused next to its field, with what was typed kept.
            let short = try await ConsoleKit.post(client, "/break-glass", ["csrf": outsider.formToken, "reference": reference, "reason": "urgent"],
                                                  cookie: outsider.cookie)
            #expect(short.status == .unprocessableContent)
            #expect(short.text.contains("id=\"reason-error\""))
            #expect(short.text.contains("value=\"\(reference)\""))
            // An unknown reference says so, and opens nothing.
            let unknown = try await ConsoleKit.post(client, "/break-glass", ["csrf": outsider.formToken, "reference": "XX-1900-000000",
                                                                             "reason": "synthetic emergency: the person is in danger tonight"],
                                                    cookie: outsider.cookie)
            #expect(unknown.status == .notFound)
            #expect(unknown.text.contains("id=\"reference-error\""))
            #expect(try CaseKit.count(app, "break_glass_grant", where: "case_id = $1", [caseID]) == 0)

            let opened = try await ConsoleKit.post(client, "/break-glass", ["csrf": outsider.formToken, "reference": reference,
                                                                            "reason": "synthetic emergency: the person is in danger tonight",
                                                                            "idempotency_key": UUID().uuidString],
                                                   cookie: outsider.cookie)
            #expect(opened.status == .seeOther)
            #expect(opened.headers[.location] == path)
            let page = try await ConsoleKit.get(client, path, cookie: outsider.cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains("id=\"emergency-banner\""))
            #expect(page.text.contains(" 60 "), "an hour's grant shows 60 minutes left")
            #expect(!page.text.contains("/needs/new"), "emergency access is read only: no forms to change the case")
            #expect(!page.text.contains("id=\"assign-form\""))
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'breakglass.start' AND case_id = $1", [caseID]) == 1)
        }
    }
}
