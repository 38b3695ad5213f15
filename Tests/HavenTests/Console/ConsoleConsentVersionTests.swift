import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Amending a consent and withdrawing it for one recipient from the case page, and a refused
/// form showing every wrong field next to its input.
@Suite struct ConsoleConsentVersionTests {
    @Test func aCaseworkerAmendsAConsentAndWithdrawsItForOneRecipient() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let clinic = try await app.organisation("Synthetic Clinic \(UUID().uuidString.prefix(6))", type: .health, services: [.medical])
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let need = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/needs",
                                                ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
            let consent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/consents", [
                "grantor": "self", "method": "written",
                "provisions": [
                    ["recipient_organisation": shelter.id.uuidString, "purpose": "accommodation", "categories": ["profile", "needs"]],
                    ["recipient_organisation": clinic.id.uuidString, "purpose": "medical care", "categories": ["profile"]],
                ],
            ] as [String: Any])
            let referral = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID)/referrals",
                                                    ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString,
                                                     "consent_id": consent.uuidString, "shared_categories": ["profile", "needs"]])
            let browser = try await ConsoleKit.login(client, caseworker.user)
            let path = "/cases/\(caseID.uuidString.lowercased())"
            let consentPath = path + "/consents/\(consent.uuidString.lowercased())"

            let page = try await ConsoleKit.get(client, path, cookie: browser.cookie).text
            #expect(page.contains("href=\"\(consentPath)/amend\""))
            #expect(page.contains("name=\"recipient_organisation\" value=\"\(clinic.id.uuidString.lowercased())\""),
                    "each recipient has its own withdrawal")

            let form = try await ConsoleKit.get(client, consentPath + "/amend", cookie: browser.cookie)
            #expect(form.status == .ok)
            #expect(form.text.contains("name=\"recipient_0\" value=\"\(shelter.id.uuidString.lowercased())\""))
            #expect(form.text.contains("value=\"accommodation\""), "the form starts from the version it amends")

            // A value outside its set and a rule the rest breaks: both shown next to their fields.
            let refused = try await ConsoleKit.post(client, consentPath + "/amend", [
                "csrf": browser.formToken, "grantor": "nobody", "method": "written", "provision_count": "2",
                "recipient_0": shelter.id.uuidString.lowercased(), "categories_0": "profile", "purpose_0": "accommodation",
                "recipient_1": clinic.id.uuidString.lowercased(), "categories_1": "profile", "purpose_1": "medical care",
                "expires_on": "2001-01-01",
            ], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"grantor-error\""), "\(refused.text)")
            #expect(refused.text.contains("id=\"expires_on-error\""))
            #expect(refused.text.contains("value=\"2001-01-01\""), "what was typed is kept")
            #expect(try CaseKit.count(app, "consent", where: "supersedes IS NOT NULL") == 0)

            // The shelter receives more; the clinic is no longer named.
            let done = try await ConsoleKit.post(client, consentPath + "/amend", [
                "csrf": browser.formToken, "grantor": "self", "method": "written", "provision_count": "2",
                "recipient_0": shelter.id.uuidString.lowercased(), "categories_0": "needs", "purpose_0": "accommodation",
                "recipient_1": clinic.id.uuidString.lowercased(), "purpose_1": "",
            ], cookie: browser.cookie)
            #expect(done.status == .seeOther, "\(done.text)")
            let versions = try CaseKit.ownerRows(app, "SELECT id::text, jsonb_array_length(provisions)::text FROM consent WHERE supersedes = $1", [consent])
            #expect(versions.count == 1)
            #expect(versions.first?[1] == "1")
            let newID = try #require(versions.first?[0].flatMap(UUID.init(uuidString:)))
            // The referral shares profile and needs; the new version gives the shelter only needs: it ends.
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'cancelled' AND status_reason = 'consent-withdrawn'", [referral]) == 1)
            let after = try await ConsoleKit.get(client, path, cookie: browser.cookie).text
            #expect(!after.contains("href=\"\(consentPath)/amend\""), "a superseded version is not amended again")
            #expect(after.contains("href=\"\(path)/consents/\(newID.uuidString.lowercased())/amend\""))

            // Withdrawn for the shelter only.
            let withdrawn = try await ConsoleKit.post(client, path + "/consents/\(newID.uuidString.lowercased())/withdraw",
                                                      ["csrf": browser.formToken, "recipient_organisation": shelter.id.uuidString.lowercased()],
                                                      cookie: browser.cookie)
            #expect(withdrawn.status == .seeOther)
            #expect(try CaseKit.count(app, "consent", where: "id = $1 AND withdrawn_at IS NULL AND withdrawn_recipients::text ILIKE $2",
                                      [newID, "%" + shelter.id.uuidString.lowercased() + "%"]) == 1)
        }
    }
}
