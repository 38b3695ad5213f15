import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// "Handled by": within the receiving organisation one user takes a referral from the inbox and
/// may hand it to an active colleague; the sender never learns who.
@Suite("Cases: referral handler")
struct CasesReferralHandlerTests {
    struct Scene {
        var caseworker: CaseKit.Member
        var partner: CaseKit.Member
        var colleague: CaseKit.Member
        var outsider: CaseKit.Member
        var shelter: UUID
        var referral: UUID
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation("Sender NGO \(UUID().uuidString.prefix(6))", type: .ngo, services: [.counselling])
        let shelter = try await app.organisation("Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let elsewhere = try await app.organisation("Elsewhere \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let colleague = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let outsider = try await CaseKit.member(app, client, .partner, in: elsewhere.id)
        let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
        let base = "/v1/cases/\(caseID.uuidString)"
        let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                            ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
        let consent = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                               CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
        let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
            "to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
            "shared_categories": ["profile", "needs"],
        ])
        return Scene(caseworker: caseworker, partner: partner, colleague: colleague, outsider: outsider, shelter: shelter.id, referral: referral)
    }

    static func handler(_ response: TestResponse) throws -> String? {
        (try response.json()["handler"] as? String)?.lowercased()
    }

    @Test func aPartnerTakesAReferralAndHandsItToAColleagueSeenOnlyByTheirOrganisation() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = "/v1/referrals/\(scene.referral.uuidString)"

            let taken = try await CaseKit.call(client, .post, path + "/handler", scene.partner.token, [String: Any]())
            #expect(taken.status == .ok, "\(taken.text)")
            #expect(try Self.handler(taken) == scene.partner.id.uuidString.lowercased())
            #expect(try taken.json()["handled_since"] != nil)

            // The colleague sees who handles it, on the referral and in the inbox.
            let seen = try await CaseKit.call(client, .get, path, scene.colleague.token)
            #expect(try Self.handler(seen) == scene.partner.id.uuidString.lowercased())
            let inbox = try await CaseKit.call(client, .get, "/v1/referrals?direction=incoming", scene.colleague.token)
            let row = try inbox.jsonArray("items").first { ($0["id"] as? String)?.lowercased() == scene.referral.uuidString.lowercased() }
            #expect((row?["handler"] as? String)?.lowercased() == scene.partner.id.uuidString.lowercased(), "\(inbox.text)")

            // The sender does not.
            let sent = try await CaseKit.call(client, .get, path, scene.caseworker.token)
            #expect(sent.status == .ok)
            #expect(try sent.json()["handler"] == nil, "\(sent.text)")
            #expect(try sent.json()["handled_since"] == nil)
            let outbox = try await CaseKit.call(client, .get, "/v1/referrals?direction=outgoing", scene.caseworker.token)
            #expect(!outbox.text.contains("\"handler\""), "\(outbox.text)")

            let handed = try await CaseKit.call(client, .post, path + "/handler", scene.partner.token, ["user": scene.colleague.id.uuidString])
            #expect(handed.status == .ok, "\(handed.text)")
            #expect(try Self.handler(handed) == scene.colleague.id.uuidString.lowercased())
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND handler_user_id = $2", [scene.referral, scene.colleague.id]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'referral.handler' AND entity_id = $1",
                                      [scene.referral.uuidString.lowercased()]) == 2)
        }
    }

    @Test func onlyTheReceivingOrganisationHandlesAndOnlyToAnActiveColleague() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = "/v1/referrals/\(scene.referral.uuidString)/handler"

            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, [String: Any]()), .forbidden)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.outsider.token, [String: Any]()), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.partner.token, ["user": scene.outsider.id.uuidString]),
                                  .unprocessableContent, field: "user")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.partner.token, ["user": scene.caseworker.id.uuidString]),
                                  .unprocessableContent, field: "user")
            let admin = try await app.user(.admin, in: scene.shelter)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.partner.token, ["user": admin.id.uuidString]),
                                  .unprocessableContent, field: "user")
            _ = try CaseKit.ownerRows(app, "UPDATE app_user SET active = false WHERE id = $1 RETURNING id::text", [scene.colleague.id])
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.partner.token, ["user": scene.colleague.id.uuidString]),
                                  .unprocessableContent, field: "user")
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND handler_user_id IS NULL", [scene.referral]) == 1)

            // An ended referral is handled by no one new.
            let cancelled = try await CaseKit.transition(client, scene.caseworker.token, scene.referral, ["to": "cancelled"])
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.partner.token, [String: Any]()), .conflict)
        }
    }
}
