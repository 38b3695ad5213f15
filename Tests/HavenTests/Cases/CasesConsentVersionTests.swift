import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// A consent amended by a new version (both kept, linked; the referrals it covered move or end)
/// and withdrawn for one recipient only (that recipient's referrals end, the others' hold).
@Suite("Cases: consent versions and withdrawal for one recipient")
struct CasesConsentVersionTests {
    typealias Scene = CasesReferralTests.Scene

    static func consentPath(_ scene: Scene, _ consent: UUID) -> String {
        "/v1/cases/\(scene.caseID.uuidString)/consents/\(consent.uuidString)"
    }

    static func referralConsent(_ app: TestApp, _ referral: UUID) throws -> String? {
        try CaseKit.ownerRows(app, "SELECT consent_id::text FROM referral WHERE id = $1", [referral]).first?[0] ?? nil
    }

    @Test("an amendment supersedes the old version; referrals it still covers move to it, the others end with consent-withdrawn")
    func amendment() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let kept = try await CasesReferralTests.refer(client, scene, to: scene.shelter)
            let narrowed = try await CasesReferralTests.refer(client, scene, to: scene.otherShelter)
            let otherPartner = try await CaseKit.member(app, client, .partner, in: scene.otherShelter)

            // The person widens what the shelter receives and narrows what the other shelter does.
            let amend = try await CaseKit.call(client, .post, Self.consentPath(scene, scene.consentID) + "/versions", scene.caseworker.token, [
                "grantor": "self", "method": "written",
                "provisions": [
                    ["recipient_organisation": scene.shelter.uuidString, "purpose": "accommodation", "categories": ["profile", "needs", "contact"]],
                    ["recipient_organisation": scene.otherShelter.uuidString, "purpose": "accommodation", "categories": ["profile"]],
                ],
            ] as [String: Any])
            #expect(amend.status == .created, "\(amend.text)")
            let answer = try amend.json()
            let version = try #require(answer["consent"] as? [String: Any], "\(amend.text)")
            let newID = try #require((version["id"] as? String).flatMap(UUID.init(uuidString:)))
            #expect(version["supersedes"] as? String == scene.consentID.uuidString)
            #expect(version["status"] as? String == "active")
            #expect(amend.headers[.location] == Self.consentPath(scene, newID))
            #expect(answer["moved_referrals"] as? [String] == [kept.uuidString])
            #expect(answer["cancelled_referrals"] as? [String] == [narrowed.uuidString])

            // Both versions kept and linked; the old one releases nothing new.
            let old = try await CaseKit.call(client, .get, Self.consentPath(scene, scene.consentID), scene.caseworker.token).json()
            #expect(old["status"] as? String == "superseded")
            #expect(old["superseded_by"] as? String == newID.uuidString)
            #expect(old["superseded_at"] is String)
            #expect(try CaseKit.count(app, "consent", where: "case_id = $1", [scene.caseID]) == 2)

            #expect(try Self.referralConsent(app, kept) == newID.uuidString.lowercased())
            #expect(try await CasesReferralTests.status(client, scene.caseworker.token, kept)["status"] as? String == "requested")
            let ended = try await CasesReferralTests.status(client, otherPartner.token, narrowed)
            #expect(ended["status"] as? String == "cancelled")
            #expect(ended["status_reason"] as? String == "consent-withdrawn")

            let onOld = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.otherShelter.uuidString, "need_id": scene.needID.uuidString,
                "consent_id": scene.consentID.uuidString, "shared_categories": ["profile"],
            ] as [String: Any])
            CaseKit.expectProblem(onOld, .conflict)
            #expect(try onOld.json()["consent_status"] as? String == "superseded")
            let onNew = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.otherShelter.uuidString, "need_id": scene.needID.uuidString,
                "consent_id": newID.uuidString, "shared_categories": ["profile"],
            ] as [String: Any])
            #expect(onNew.status == .created, "\(onNew.text)")

            // Only the latest version is amended or withdrawn.
            let again = try await CaseKit.call(client, .post, Self.consentPath(scene, scene.consentID) + "/versions", scene.caseworker.token,
                                               CaseKit.consent(to: [scene.shelter], categories: ["profile"]))
            CaseKit.expectProblem(again, .conflict)
            let withdrawOld = try await CaseKit.call(client, .post, Self.consentPath(scene, scene.consentID) + "/withdraw", scene.caseworker.token)
            CaseKit.expectProblem(withdrawOld, .conflict)

            let audit = try CaseKit.auditTexts(app).filter { $0.contains("\"consent.amend\"") }
            #expect(audit.count == 1)
            #expect(audit.first?.contains(scene.consentID.uuidString.lowercased()) == true, "the event names the version it supersedes")
            #expect(audit.first?.contains(narrowed.uuidString.lowercased()) == true)
            #expect(audit.first?.contains("accommodation") == false, "no purpose text in the trail")
        }
    }

    @Test("a new version that no longer agrees to statistics takes the case out of them: the superseded one no longer counts")
    func amendmentSaysForItself() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let cases = "/v1/cases/\(scene.caseID.uuidString)/consents"
            var body = CaseKit.consent(to: [scene.shelter], categories: ["profile"], expiresAt: Date().addingTimeInterval(3 * 86_400))
            let counted = try await CaseKit.create(client, scene.caseworker.token, cases, body)
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND statistics_consent", [scene.caseID]) == 1)
            body["statistics"] = false
            let amend = try await CaseKit.call(client, .post, Self.consentPath(scene, counted) + "/versions", scene.caseworker.token, body)
            #expect(amend.status == .created, "\(amend.text)")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND statistics_consent", [scene.caseID]) == 0)
        }
    }

    @Test("an amendment is checked like a consent: a recipient that is no organisation is 422 and nothing changes")
    func amendmentChecked() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let response = try await CaseKit.call(client, .post, Self.consentPath(scene, scene.consentID) + "/versions", scene.caseworker.token,
                                                  CaseKit.consent(to: [UUID()], categories: ["profile"]))
            CaseKit.expectProblem(response, .unprocessableContent, field: "provisions[0].recipient_organisation")
            #expect(try CaseKit.count(app, "consent", where: "supersedes IS NOT NULL OR superseded_at IS NOT NULL") == 0)
            let partner = try await CaseKit.call(client, .post, Self.consentPath(scene, scene.consentID) + "/versions", scene.partner.token,
                                                 CaseKit.consent(to: [scene.shelter], categories: ["profile"]))
            CaseKit.expectProblem(partner, .notFound)
        }
    }

    @Test("withdrawing for one recipient ends that recipient's referrals only; the consent holds for the others")
    func withdrawalForOneRecipient() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let stays = try await CasesReferralTests.refer(client, scene, to: scene.shelter)
            let ends = try await CasesReferralTests.refer(client, scene, to: scene.otherShelter)
            let otherPartner = try await CaseKit.member(app, client, .partner, in: scene.otherShelter)
            let path = Self.consentPath(scene, scene.consentID) + "/withdraw"

            let response = try await CaseKit.call(client, .post, path, scene.caseworker.token, ["recipient_organisation": scene.otherShelter.uuidString])
            #expect(response.status == .ok, "\(response.text)")
            let answer = try response.json()
            #expect(answer["cancelled_referrals"] as? [String] == [ends.uuidString])
            let consent = try #require(answer["consent"] as? [String: Any])
            #expect(consent["status"] as? String == "active")
            #expect(consent["withdrawn_at"] == nil)
            let withdrawn = (consent["withdrawn_recipients"] as? [[String: Any]]) ?? []
            #expect(withdrawn.compactMap { $0["recipient_organisation"] as? String } == [scene.otherShelter.uuidString])

            #expect(try await CasesReferralTests.status(client, scene.partner.token, stays)["status"] as? String == "requested")
            let ended = try await CasesReferralTests.status(client, otherPartner.token, ends)
            #expect(ended["status"] as? String == "cancelled")
            #expect(ended["status_reason"] as? String == "consent-withdrawn", "the recipient sees why")

            let refused = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.otherShelter.uuidString, "need_id": scene.needID.uuidString,
                "consent_id": scene.consentID.uuidString, "shared_categories": ["profile"],
            ] as [String: Any])
            CaseKit.expectProblem(refused, .conflict)

            let again = try await CaseKit.call(client, .post, path, scene.caseworker.token, ["recipient_organisation": scene.otherShelter.uuidString])
            CaseKit.expectProblem(again, .conflict, field: "recipient_organisation")
            let stranger = try await CaseKit.call(client, .post, path, scene.caseworker.token, ["recipient_organisation": scene.unrelated.uuidString])
            CaseKit.expectProblem(stranger, .unprocessableContent, field: "recipient_organisation")
            let typo = try await CaseKit.call(client, .post, path, scene.caseworker.token, ["recipient": scene.shelter.uuidString])
            CaseKit.expectProblem(typo, .unprocessableContent, field: "recipient")
            #expect(try await CasesReferralTests.status(client, scene.partner.token, stays)["status"] as? String == "requested")

            let audit = try CaseKit.auditTexts(app).filter { $0.contains("\"consent.withdraw\"") }
            #expect(audit.count == 1)
            #expect(audit.first?.contains(scene.otherShelter.uuidString.lowercased()) == true)
        }
    }

    @Test("a 422 names every wrong member at once: type, unknown member, value outside its set, date, and the rules the rest breaks")
    func everyInvalidField() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let before = try CaseKit.count(app, "consent")
            let response = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/consents", scene.caseworker.token, [
                "grantor": "neighbour", "method": "written", "statistics": "yes", "expires_at": "next week", "colour": "red",
                "provisions": [
                    ["recipient_organisation": scene.shelter.uuidString, "purpose": "", "categories": ["profile"]],
                    ["recipient_organisation": "not-an-id", "purpose": "counselling", "categories": ["profile", "diary"]],
                ],
            ] as [String: Any])
            CaseKit.expectProblem(response, .unprocessableContent)
            let fields = Set(response.problemFields)
            for field in ["grantor", "statistics", "expires_at", "colour", "provisions[0].purpose",
                          "provisions[1].recipient_organisation", "provisions[1].categories[1]"] {
                #expect(fields.contains(field), "\(field) missing from \(response.text)")
            }
            let errors = (try response.json()["errors"] as? [[String: Any]]) ?? []
            #expect(errors.allSatisfy { ($0["detail"] as? String)?.isEmpty == false }, "each error has its detail: \(response.text)")
            #expect(try CaseKit.count(app, "consent") == before)

            // A single wrong member is answered as before.
            let one = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/needs", scene.caseworker.token,
                                             ["domain": "personal", "service_type": "safe_accommodation", "priority": 3] as [String: Any])
            CaseKit.expectProblem(one, .unprocessableContent, field: "priority")
            #expect(one.problemFields == ["priority"])
        }
    }
}
