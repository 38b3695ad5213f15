import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The console's side of needs that end and of the worklist: a form per open need on the case
/// page, its refusal beside the field, the outcome shown after; every part of the worklist with
/// its line when empty.
@Suite struct ConsoleNeedsWorklistTests {
    @Test func aCaseworkerEndsANeedOnTheCasePageAndSeesTheOverdueOneOnTheWorklist() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let (caseID, reference) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let needs = "/v1/cases/\(caseID.uuidString)/needs"
            let late = try await CaseKit.create(client, caseworker.token, needs, ["domain": "health", "service_type": "medical", "priority": "emergency"])
            let other = try await CaseKit.create(client, caseworker.token, needs, ["domain": "personal", "service_type": "counselling", "priority": "normal"])
            _ = try CaseKit.ownerRows(app, "UPDATE need SET due_at = now() - interval '2 hours' WHERE id = $1 RETURNING id::text", [late])
            let browser = try await ConsoleKit.login(client, caseworker.user)

            let work = try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie)
            #expect(work.status == .ok)
            let overdue = try #require(work.text.range(of: "id=\"overdue-needs\""), "the overdue needs part")
            #expect(work.text[overdue.upperBound...].prefix(1500).contains(reference), "the overdue need names its case")
            for line in ["No service is due.", "No consent ends within 7 days.", "No referral is waiting for an answer."] {
                #expect(work.text.contains(line), "the empty part says so: \(line)")
            }
            #expect(!work.text.contains("id=\"grants-to-review\""), "a caseworker reviews no emergency access")

            let page = "/cases/\(caseID.uuidString.lowercased())"
            let action = page + "/needs/\(late.uuidString.lowercased())/close"
            let casePage = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(casePage.text.contains("action=\"\(action)\""))
            #expect(casePage.text.contains("action=\"\(page)/needs/\(other.uuidString.lowercased())/close\""))

            let field = "need_" + late.uuidString.lowercased().replacingOccurrences(of: "-", with: "_") + "_reason"
            let refused = try await ConsoleKit.post(client, action, ["csrf": browser.formToken, "outcome": "cancelled", "reason": "", "version": "1"],
                                                    cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"\(field)-error\""), "the message sits beside the reason")
            #expect(refused.text.contains("<option value=\"cancelled\" selected>"), "the chosen outcome is kept")

            let reason = "Found a clinic near her home"
            let done = try await ConsoleKit.post(client, action, ["csrf": browser.formToken, "outcome": "cancelled", "reason": reason, "version": "1"],
                                                 cookie: browser.cookie)
            #expect(done.status == .seeOther, "\(done.text.prefix(400))")
            let after = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(!after.text.contains("action=\"\(action)\""), "an ended need offers no form")
            #expect(after.text.contains(reason), "the outcome shows its reason")
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND status = 'cancelled'", [late]) == 1)

            // In Romanian, the worklist's parts in its words.
            let romanian = try await ConsoleKit.get(client, "/worklist", cookie: browser.cookie + "; haven_lang=ro")
            #expect(romanian.text.contains("Nevoile mele cu termenul depășit"))
            #expect(romanian.text.contains("Nicio nevoie de-a dvs. nu și-a depășit termenul."), "the overdue need left with its end")
        }
    }
}
