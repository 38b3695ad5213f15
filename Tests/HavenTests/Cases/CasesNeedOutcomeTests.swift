import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// A need ends: met (by hand, or when the referral serving it completes), cancelled, or
/// superseded by another need of the case, always with a reason kept sealed.
@Suite("Cases: need outcomes")
struct CasesNeedOutcomeTests {
    struct Scene {
        var caseworker: CaseKit.Member
        var caseID: UUID
        var needs: String
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
        let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
        return Scene(caseworker: caseworker, caseID: caseID, needs: "/v1/cases/\(caseID.uuidString)/needs")
    }

    static func need(_ client: any TestClientProtocol, _ scene: Scene, service: String = "medical") async throws -> UUID {
        try await CaseKit.create(client, scene.caseworker.token, scene.needs, ["domain": "health", "service_type": service, "priority": "urgent"])
    }

    @Test func aNeedIsCancelledWithAReasonKeptSealedAndEndsOnce() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let need = try await Self.need(client, scene)
            let reason = "Reasonqx\(UUID().uuidString.prefix(8)) the person moved to her sister's town"
            let read = try await CaseKit.call(client, .get, scene.needs + "/\(need.uuidString)", scene.caseworker.token)
            let etag = try #require(read.headers[.eTag], "a need carries its version")

            let closed = try await CaseKit.call(client, .post, scene.needs + "/\(need.uuidString)/close", scene.caseworker.token,
                                                ["outcome": "cancelled", "reason": reason], headers: ["If-Match": etag])
            #expect(closed.status == .ok, "\(closed.text)")
            let body = try closed.json()
            #expect(body["status"] as? String == "cancelled")
            #expect(body["reason"] as? String == reason)
            #expect((body["closed_by"] as? String)?.lowercased() == scene.caseworker.id.uuidString.lowercased())
            #expect(body["closed_at"] != nil)
            #expect(body["version"] as? Int == 2)
            #expect(closed.headers[.eTag] != etag)

            // Sealed at rest, like the note: nowhere in the row in clear.
            let row = try CaseKit.ownerRows(app, "SELECT row_to_json(n)::text FROM need n WHERE id = $1", [need])[0][0] ?? ""
            #expect(!row.contains("Reasonqx"), "the reason is stored in clear: \(row)")
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND reason_sealed IS NOT NULL", [need]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'need.close' AND entity_id = $1 AND actor_user = $2",
                                      [need.uuidString.lowercased(), scene.caseworker.id]) == 1)
            #expect(!(try CaseKit.auditTexts(app)).contains { $0.contains("Reasonqx") }, "the reason stays out of the trail")

            let again = try await CaseKit.call(client, .post, scene.needs + "/\(need.uuidString)/close", scene.caseworker.token,
                                               ["outcome": "met", "reason": "changed my mind"])
            CaseKit.expectProblem(again, .conflict)
            let stale = try await CaseKit.call(client, .post, scene.needs + "/\(try await Self.need(client, scene).uuidString)/close",
                                               scene.caseworker.token, ["outcome": "met", "reason": "done"], headers: ["If-Match": "W/\"7\""])
            CaseKit.expectProblem(stale, .preconditionFailed)
        }
    }

    @Test func endingANeedWithoutAReasonIsRefusedNamingReason() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let need = try await Self.need(client, scene)
            let path = scene.needs + "/\(need.uuidString)/close"
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, ["outcome": "met"]), .unprocessableContent, field: "reason")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, ["outcome": "cancelled", "reason": "  "]),
                                  .unprocessableContent, field: "reason")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, ["outcome": "forgotten", "reason": "x"]),
                                  .unprocessableContent, field: "outcome")
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND status = 'open' AND version = 1", [need]) == 1)
        }
    }

    @Test func aNeedIsSupersededByAnotherOpenNeedOfTheSameCase() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let old = try await Self.need(client, scene)
            let replacement = try await Self.need(client, scene, service: "counselling")
            let elsewhere = try await Self.scene(app, client)
            let foreign = try await Self.need(client, elsewhere)
            let path = scene.needs + "/\(old.uuidString)/close"
            let token = scene.caseworker.token

            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, token, ["outcome": "superseded", "reason": "assessment changed"]),
                                  .unprocessableContent, field: "superseded_by")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, token,
                                                         ["outcome": "superseded", "reason": "assessment changed", "superseded_by": old.uuidString]),
                                  .unprocessableContent, field: "superseded_by")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, token,
                                                         ["outcome": "superseded", "reason": "assessment changed", "superseded_by": foreign.uuidString]),
                                  .unprocessableContent, field: "superseded_by")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, token,
                                                         ["outcome": "cancelled", "reason": "assessment changed", "superseded_by": replacement.uuidString]),
                                  .unprocessableContent, field: "superseded_by")

            let superseded = try await CaseKit.call(client, .post, path, token,
                                                    ["outcome": "superseded", "reason": "counselling support first", "superseded_by": replacement.uuidString])
            #expect(superseded.status == .ok, "\(superseded.text)")
            #expect(try superseded.json()["status"] as? String == "superseded")
            #expect((try superseded.json()["superseded_by"] as? String)?.lowercased() == replacement.uuidString.lowercased())
            let listed = try await CaseKit.call(client, .get, scene.needs, token).jsonArray()
            #expect(listed.first { ($0["id"] as? String)?.lowercased() == replacement.uuidString.lowercased() }?["status"] as? String == "open")
        }
    }

    @Test func completingTheReferralThatServedANeedMarksItMet() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
            let base = "/v1/cases/\(scene.caseID.uuidString)"
            let need = try await CaseKit.create(client, scene.caseworker.token, scene.needs,
                                                ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
            let consent = try await CaseKit.create(client, scene.caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["profile"]))
            let referral = try await CaseKit.create(client, scene.caseworker.token, base + "/referrals",
                                                    ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString,
                                                     "consent_id": consent.uuidString, "shared_categories": ["profile"]])
            for step in [["to": "accepted"], ["to": "in-progress"]] {
                #expect(try await CaseKit.transition(client, partner.token, referral, step).status == .ok)
            }
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND status = 'open'", [need]) == 1, "accepting does not meet the need")
            let completed = try await CaseKit.transition(client, partner.token, referral, ["to": "completed", "outcome": "stayed 30 days"])
            #expect(completed.status == .ok, "\(completed.text)")

            let read = try await CaseKit.call(client, .get, scene.needs + "/\(need.uuidString)", scene.caseworker.token).json()
            #expect(read["status"] as? String == "met")
            #expect((read["met_by_referral"] as? String)?.lowercased() == referral.uuidString.lowercased())
            #expect(read["overdue"] as? Bool == false)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'need.close' AND entity_id = $1 AND actor_user = $2",
                                      [need.uuidString.lowercased(), partner.id]) == 1)
        }
    }
}
