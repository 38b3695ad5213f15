import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Journey 1 through the console's forms: register, record a need and a consent, refer; then
/// closure asked by the caseworker and approved by a supervisor.
@Suite struct ConsoleJourneyTests {
    static func location(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        #expect(response.status == .seeOther, "\(response.status): \(response.text.prefix(400))", sourceLocation: sourceLocation)
        return try #require(response.headers[.location], sourceLocation: sourceLocation)
    }

    static func id(in location: String) throws -> String {
        try #require(location.split(separator: "/").dropFirst().first.map { String($0.prefix { $0 != "#" }) })
    }

    @Test func aCaseworkerRegistersRecordsAndRefersThroughTheForms() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))", services: [.counselling])
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let caseworker = try await app.user(.caseworker, in: ngo.id)
            let browser = try await ConsoleKit.login(client, caseworker)
            let person = CaseKit.Person()
            var intake = ["csrf": browser.formToken, "idempotency_key": "console-intake-1", "case_type": "trafficking",
                          "identification_status": "presumed", "identified_by": "hotline", "identified_on": CaseKit.daysAgo(3), "risk_level": "high",
                          "person.identity.given_name": person.givenName, "person.identity.family_name": person.familyName, "person.sex": "female",
                          "person.birth_year": "19x9", "person.citizenship": "MD", "trafficking.exploitation_types": "forced_labour"]
            // A bad year is refused next to its field, in the page's language, with what was typed kept.
            let refused = try await ConsoleKit.post(client, "/cases", intake, cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"person_birth_year-error\""))
            #expect(refused.text.contains("value=\"\(person.givenName)\""))
            #expect(refused.text.contains("value=\"19x9\""))
            #expect(try CaseKit.count(app, "case_file") == 0)
            intake["person.birth_year"] = "1999"
            let caseLocation = try Self.location(try await ConsoleKit.post(client, "/cases", intake, cookie: browser.cookie))
            // The same form sent twice makes one case and lands on it again.
            #expect(try Self.location(try await ConsoleKit.post(client, "/cases", intake, cookie: browser.cookie)) == caseLocation)
            #expect(try CaseKit.count(app, "case_file") == 1)
            let caseID = try Self.id(in: caseLocation)
            let casePage = try await ConsoleKit.get(client, caseLocation, cookie: browser.cookie)
            #expect(casePage.text.contains(person.givenName))

            _ = try Self.location(try await ConsoleKit.post(client, "/cases/\(caseID)/needs", [
                "csrf": browser.formToken, "idempotency_key": "need-1", "domain": "personal", "service_type": "safe_accommodation", "priority": "emergency",
            ], cookie: browser.cookie))
            let needs = try CaseKit.ownerRows(app, "SELECT id::text FROM need WHERE case_id = $1::uuid", [caseID])
            let needID = try #require(needs.first?.first ?? nil)

            // A consent for needs only; a referral asking for identity too is refused naming what is missing.
            _ = try Self.location(try await ConsoleKit.post(client, "/cases/\(caseID)/consents", [
                "csrf": browser.formToken, "idempotency_key": "consent-1", "grantor": "self", "method": "written",
                "recipient": shelter.id.uuidString.lowercased(), "categories": "needs", "purpose": "safe accommodation",
            ], cookie: browser.cookie))
            let consentRows = try CaseKit.ownerRows(app, "SELECT id::text FROM consent WHERE case_id = $1::uuid", [caseID])
            let consentID = try #require(consentRows.first?.first ?? nil)
            let referPage = try await ConsoleKit.get(client, "/cases/\(caseID)/referrals/new?need=\(needID)", cookie: browser.cookie)
            #expect(referPage.status == .ok)
            #expect(referPage.text.contains(shelter.name), "the organisation whose mandate covers the need is offered")
            #expect(!referPage.text.contains(ngo.name + "</label>"), "the sender's own organisation is not offered")
            let form = "csrf=\(browser.formToken)&idempotency_key=referral-1&need_id=\(needID)&to_organisation=\(shelter.id.uuidString.lowercased())"
                + "&consent_id=\(consentID)&shared_categories=needs&shared_categories=identity&confirm=yes"
            var headers: HTTPFields = [.contentType: "application/x-www-form-urlencoded", .cookie: browser.cookie]
            let notCovered = try await client.executeRequest(uri: "/cases/\(caseID)/referrals", method: .post, headers: headers,
                                                             body: .init(string: form))
            #expect(notCovered.status == .conflict)
            #expect(notCovered.text.contains("id=\"shared_categories-error\""))
            #expect(notCovered.text.contains("Identity"), "the message names the category the consent does not cover")
            headers[.contentType] = "application/x-www-form-urlencoded"
            let sent = try await client.executeRequest(uri: "/cases/\(caseID)/referrals", method: .post, headers: headers,
                                                       body: .init(string: form.replacingOccurrences(of: "&shared_categories=identity", with: "")
                                                           .replacingOccurrences(of: "referral-1", with: "referral-2")))
            let referralLocation = try Self.location(sent)
            #expect(referralLocation.hasPrefix("/referrals/"))
            #expect(try CaseKit.count(app, "referral", where: "case_id = $1::uuid AND status = 'requested'", [caseID]) == 1)
        }
    }

    @Test func aCaseworkerAsksForClosureAndASupervisorApprovesIt() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let supervisor = try await app.user(.supervisor, in: ngo.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let path = "/cases/\(caseID.uuidString.lowercased())"
            let browser = try await ConsoleKit.login(client, caseworker.user)
            let missing = try await ConsoleKit.post(client, path + "/close", ["csrf": browser.formToken], cookie: browser.cookie)
            #expect(missing.status == .unprocessableContent)
            #expect(missing.text.contains("id=\"closure_reason-error\""))
            _ = try Self.location(try await ConsoleKit.post(client, path + "/close", ["csrf": browser.formToken, "reason": "services-completed"],
                                                            cookie: browser.cookie))
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'open' AND closure_requested_at IS NOT NULL", [caseID]) == 1)
            let boss = try await ConsoleKit.login(client, supervisor)
            let page = try await ConsoleKit.get(client, path, cookie: boss.cookie)
            #expect(page.text.contains("id=\"approve-form\""))
            _ = try Self.location(try await ConsoleKit.post(client, path + "/close/approve", ["csrf": boss.formToken], cookie: boss.cookie))
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'closed'", [caseID]) == 1)
        }
    }
}
