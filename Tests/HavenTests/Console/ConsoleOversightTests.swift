import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The supervisor's and auditor's pages: closures waiting, the trail, verification, reports.
@Suite struct ConsoleOversightTests {
    @Test func aSupervisorSeesTheClosureWaitingAndTheTrailOfTheCase() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let supervisor = try await app.user(.supervisor, in: ngo.id)
            let (caseID, reference) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let closing = try await CaseKit.call(client, .post, "/v1/cases/\(caseID)/close", caseworker.token, ["reason": "services-completed"])
            #expect(closing.status == .accepted)
            let boss = try await ConsoleKit.login(client, supervisor)
            let worklist = try await ConsoleKit.get(client, "/worklist", cookie: boss.cookie)
            #expect(worklist.text.contains("id=\"closures\""))
            #expect(worklist.text.contains(reference))
            let trail = try await ConsoleKit.get(client, "/audit?case_id=\(caseID.uuidString.lowercased())", cookie: boss.cookie)
            #expect(trail.status == .ok)
            #expect(trail.text.contains("id=\"audit-list\""))
            #expect(trail.text.contains("Closure requested"))
            #expect(!trail.text.contains("id=\"verify-form\""), "verification is the auditors'")
            // The supervisor names the case by the reference they know, not its id.
            let byReference = try await ConsoleKit.get(client, "/audit?case_id=\(reference)", cookie: boss.cookie)
            #expect(byReference.status == .ok)
            #expect(byReference.text.contains("Closure requested"))
            // A reference that matches no case they may see lists nothing and says so by the field, input kept.
            let unknown = try await ConsoleKit.get(client, "/audit?case_id=NO-SUCH-REF-1", cookie: boss.cookie)
            #expect(unknown.status == .unprocessableContent)
            #expect(unknown.text.contains("id=\"case_id-error\"") && unknown.text.contains("No case you may see has this reference"))
            #expect(unknown.text.contains("value=\"NO-SUCH-REF-1\""))
            #expect(!unknown.text.contains("id=\"audit-list\""))
            // A caseworker has no trail page: the same 404 as anything out of reach.
            let worker = try await ConsoleKit.login(client, caseworker.user)
            #expect(try await ConsoleKit.get(client, "/audit", cookie: worker.cookie).status == .notFound)
        }
    }

    @Test func anAuditorVerifiesTheChain() async throws {
        try await TestApp.run { app, client in
            let office = try await app.organisation("Synthetic Oversight \(UUID().uuidString.prefix(6))", type: .government)
            let auditor = try await app.user(.auditor, in: office.id)
            let browser = try await ConsoleKit.login(client, auditor)
            let page = try await ConsoleKit.get(client, "/audit", cookie: browser.cookie)
            #expect(page.text.contains("id=\"verify-form\""))
            let verified = try await ConsoleKit.post(client, "/audit/verify", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(verified.status == .ok)
            #expect(verified.text.contains("id=\"verify-result\""))
            #expect(verified.text.contains("The trail is intact"))
        }
    }

    @Test func aReportDrawsNoBarForASuppressedCountAndOffersItsCSV() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let office = try await app.organisation("Synthetic Oversight \(UUID().uuidString.prefix(6))", type: .government)
            let auditor = try await app.user(.auditor, in: office.id)
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter)
            // Twelve trafficking cases, twelve of domestic violence and three of both, each with a
            // consent to be counted, moved to a year already published.
            for index in 0..<27 {
                let type = index < 12 ? "trafficking" : index < 24 ? "domestic_violence" : "both"
                var body = CaseKit.intake(CaseKit.Person(), caseType: type)
                if type == "both" { body["violence"] = ["types": ["physical_assault"]] }
                if type == "domestic_violence" {
                    body["trafficking"] = nil
                    body["violence"] = ["types": ["physical_assault"]]
                }
                let (caseID, _) = try await CaseKit.createCase(client, caseworker, body)
                _ = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/consents", CaseKit.consent(to: [shelter.id], categories: ["needs"]))
            }
            try PrivacyKit.moveToPublishedYear(app)
            let browser = try await ConsoleKit.login(client, auditor)
            let year = String(PrivacyKit.publishedYear)
            let page = try await ConsoleKit.get(client, "/reports?kind=cases&by=case_type&period=\(year)", cookie: browser.cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains("<svg id=\"report-chart\""))
            #expect(page.text.contains("id=\"report-table\""))
            #expect(page.text.contains("data-count=\"12\""), "a group of twelve is drawn")
            #expect(page.text.contains("&lt;11"), "the three cases of both are shown as <11")
            for count in 1..<11 { #expect(!page.text.contains("data-count=\"\(count)\""), "a bar of \(count) reveals a suppressed cell") }
            let csv = try await ConsoleKit.get(client, "/reports.csv?kind=cases&by=case_type&period=\(year)", cookie: browser.cookie)
            #expect(csv.status == .ok)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let bad = try await ConsoleKit.get(client, "/reports?period=2026-Q9", cookie: browser.cookie)
            #expect(bad.status == .unprocessableContent)
            #expect(bad.text.contains("id=\"period-error\""), "the refusal sits next to the period")
        }
    }
}

/// The break-glass review queue: another organisation's emergency opening of a case waits for
/// the owning organisation's supervisor.
@Suite struct ConsoleBreakGlassTests {
    @Test func aSupervisorReviewsAnotherOrganisationsEmergencyAccess() async throws {
        try await TestApp.run { app, client in
            let owner = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let other = try await app.organisation("Synthetic Police Unit \(UUID().uuidString.prefix(6))", type: .lawEnforcement)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: owner.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let outsider = try await CaseKit.member(app, client, .supervisor, in: other.id)
            let opened = try await CaseKit.call(client, .post, "/v1/cases/\(caseID)/break-glass", outsider.token,
                                                ["reason": "synthetic emergency: the person is in danger tonight"])
            #expect(opened.status == .created)
            let supervisor = try await app.user(.supervisor, in: owner.id)
            let browser = try await ConsoleKit.login(client, supervisor)
            let queue = try await ConsoleKit.get(client, "/break-glass", cookie: browser.cookie)
            #expect(queue.status == .ok)
            #expect(queue.text.contains("synthetic emergency"))
            let grant = try CaseKit.id(opened).uuidString.lowercased()
            let reviewed = try await ConsoleKit.post(client, "/break-glass/\(grant)/review", ["csrf": browser.formToken, "note": "checked by phone"],
                                                     cookie: browser.cookie)
            #expect(reviewed.status == .seeOther)
            #expect(!(try await ConsoleKit.get(client, "/break-glass", cookie: browser.cookie).text.contains("synthetic emergency")))
            #expect(try CaseKit.count(app, "break_glass_grant", where: "id = $1::uuid AND reviewed_at IS NOT NULL", [grant]) == 1)
        }
    }
}
