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

    @Test func theIntakeFormRecordsTheStandardsProfileAndShowsItOnTheCasePage() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))", services: [.counselling])
            let caseworker = try await app.user(.caseworker, in: ngo.id)
            let browser = try await ConsoleKit.login(client, caseworker)
            let blank = try await ConsoleKit.get(client, "/cases/new", cookie: browser.cookie)
            for name in ["trafficking.recruitment_type", "trafficking.transit_countries", "trafficking.other_countries_of_exploitation",
                         "trafficking.years_of_exploitation", "trafficking.trafficked_as_child", "violence.incident_date", "violence.reported_on",
                         "violence.perpetrator_count", "violence.perpetrator_sex", "violence.perpetrator_age_group"] {
                #expect(blank.text.contains("name=\"\(name)\""), "the form lacks \(name)")
            }
            #expect(blank.text.contains(">Sold by family</option>") && blank.text.contains(">61 or older</option>"))
            let person = CaseKit.Person()
            let year = CaseKit.thisYear
            var intake = ["csrf": browser.formToken, "idempotency_key": "console-standard-1", "case_type": "both",
                          "identification_status": "presumed", "identified_by": "hotline", "identified_on": CaseKit.daysAgo(3), "risk_level": "high",
                          "person.identity.given_name": person.givenName, "person.identity.family_name": person.familyName, "person.sex": "female",
                          "person.birth_year": "1999", "trafficking.recruitment_type": "job_offer", "trafficking.transit_countries": "UA, XX",
                          "trafficking.other_countries_of_exploitation": "DE", "trafficking.years_of_exploitation": "\(year - 2), \(year - 1)",
                          "trafficking.trafficked_as_child": "true", "violence.incident_date": CaseKit.daysAgo(3),
                          "violence.reported_on": CaseKit.daysAgo(5), "violence.perpetrator_count": "100", "violence.perpetrator_sex": "both",
                          "violence.perpetrator_age_group": "26-40"]
            // The incident after its report, too many perpetrators, a country that is none: each
            // named beside its field at once, every value kept as typed.
            let refused = try await ConsoleKit.post(client, "/cases", intake, cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"violence_incident_date-error\">Choose a date that is not in the future and not after the date reported."),
                    "\(refused.text)")
            #expect(refused.text.contains("id=\"violence_perpetrator_count-error\">Write a whole number from 1 to 99."))
            #expect(refused.text.contains("id=\"trafficking_transit_countries-error\""))
            #expect(!refused.text.contains("id=\"violence_reported_on-error\""), "the report's date is right")
            #expect(refused.text.contains("value=\"\(CaseKit.daysAgo(3))\"") && refused.text.contains("value=\"\(CaseKit.daysAgo(5))\""))
            #expect(refused.text.contains("value=\"100\"") && refused.text.contains("value=\"UA, XX\""))
            #expect(refused.text.contains("value=\"job_offer\" selected") && refused.text.contains("value=\"26-40\" selected"))
            #expect(refused.text.contains("value=\"true\" selected"))
            #expect(try CaseKit.count(app, "case_file") == 0)

            intake["trafficking.transit_countries"] = "UA, PL"
            intake["violence.incident_date"] = CaseKit.daysAgo(20)
            intake["violence.reported_on"] = CaseKit.daysAgo(15)
            intake["violence.perpetrator_count"] = "2"
            let caseLocation = try Self.location(try await ConsoleKit.post(client, "/cases", intake, cookie: browser.cookie))
            let caseID = try Self.id(in: caseLocation)
            let stored = try CaseKit.ownerRows(app, """
                SELECT recruitment_type, array_to_string(transit_countries, ','), array_to_string(other_countries_of_exploitation, ','),
                    array_to_string(years_of_exploitation, ','), trafficked_as_child::text, incident_date::text, reported_on::text,
                    perpetrator_count::text, perpetrator_sex, perpetrator_age_group
                FROM case_file WHERE id = $1::uuid
                """, [caseID])
            #expect(stored.first == ["job_offer", "UA,PL", "DE", "\(year - 2),\(year - 1)", "true", CaseKit.daysAgo(20), CaseKit.daysAgo(15),
                                     "2", "both", "26-40"], "\(stored)")
            let page = try await ConsoleKit.get(client, caseLocation, cookie: browser.cookie)
            #expect(page.status == .ok)
            for shown in ["id=\"profile-intake-recruitment_type\">Job offer<", "id=\"profile-intake-transit_countries\">UA, PL<",
                          "id=\"profile-intake-other_countries\">DE<", "id=\"profile-intake-years\">\(year - 2), \(year - 1)<",
                          "id=\"profile-intake-as_child\">Yes<", "id=\"profile-intake-perpetrator_count\">2<",
                          "id=\"profile-intake-perpetrator_sex\">Both (several perpetrators)<", "id=\"profile-intake-perpetrator_age_group\">26–40 years<",
                          "id=\"profile-intake-incident_date\"", "id=\"profile-intake-reported_on\""] {
                #expect(page.text.contains(shown), "the case page lacks \(shown)")
            }
            // In another language the same facts read in its words.
            let switched = try await ConsoleKit.post(client, "/language", ["csrf": browser.formToken, "language": "ro", "back": caseLocation],
                                                     cookie: browser.cookie)
            #expect(switched.status == .seeOther)
            let language = switched.headers.filter { $0.name == .setCookie }.map { String($0.value.split(separator: ";")[0]) }
            let romanian = try await ConsoleKit.get(client, caseLocation, cookie: ([browser.cookie] + language).joined(separator: "; "))
            #expect(romanian.text.contains(">Ofertă de muncă<") && romanian.text.contains(">26–40 de ani<"), "\(romanian.text.prefix(200))")
        }
    }
}
