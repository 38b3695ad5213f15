import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Closure as a supervisor works it: the queue of requests, what is still open on the case, a
/// decision for every open referral, service and need (nothing cancelled silently), declining
/// with a reason, and the recipient of a cancelled referral reading why.
@Suite("Cases: closure decisions")
struct CasesClosureDecisionTests {
    struct Scene {
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var partner: CaseKit.Member
        var caseID: UUID
        var referral: UUID
        var service: UUID
        var servedNeed: UUID
        var otherNeed: UUID
        var base: String
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation("Sender NGO \(UUID().uuidString.prefix(6))", type: .ngo, services: [.counselling])
        let shelter = try await app.organisation("Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: sender.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
        let base = "/v1/cases/\(caseID.uuidString)"
        let servedNeed = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                                  ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
        let otherNeed = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                                 ["domain": "health", "service_type": "medical", "priority": "normal"])
        let service = try await CaseKit.create(client, caseworker.token, base + "/services", ["type": "legal_aid", "start_on": CaseKit.daysAgo(3)])
        let consent = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                               CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
        let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
            "to_organisation": shelter.id.uuidString, "need_id": servedNeed.uuidString, "consent_id": consent.uuidString,
            "shared_categories": ["profile", "needs"],
        ])
        return Scene(caseworker: caseworker, supervisor: supervisor, partner: partner, caseID: caseID, referral: referral, service: service,
                     servedNeed: servedNeed, otherNeed: otherNeed, base: base)
    }

    static func decisions(_ scene: Scene, referralReason: String = "person-moved") -> [String: Any] {
        ["referrals": [["id": scene.referral.uuidString, "decision": "cancel", "reason": referralReason]],
         "services": [["id": scene.service.uuidString, "decision": "complete"]],
         "needs": [["id": scene.servedNeed.uuidString, "decision": "cancelled"], ["id": scene.otherNeed.uuidString, "decision": "met"]]]
    }

    static func lower(_ id: UUID) -> String { id.uuidString.lowercased() }

    @Test func theSupervisorSeesTheQueueAndEveryOpenItemThenClosesWithADecisionForEach() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let request = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "lost-contact"])
            #expect(request.status == .accepted, "\(request.text)")

            let queue = try await CaseKit.call(client, .get, "/v1/closures", scene.supervisor.token)
            #expect(queue.status == .ok, "\(queue.text)")
            #expect(try CaseKit.ids(queue).contains(scene.caseID), "\(queue.text)")
            CaseKit.expectProblem(try await CaseKit.call(client, .get, "/v1/closures", scene.caseworker.token), .forbidden)

            let review = try await CaseKit.call(client, .get, scene.base + "/closure", scene.supervisor.token)
            #expect(review.status == .ok, "\(review.text)")
            #expect(try CaseKit.ids(review, "referrals") == [scene.referral])
            #expect(try CaseKit.ids(review, "services") == [scene.service])
            #expect(Set(try CaseKit.ids(review, "needs")) == [scene.servedNeed, scene.otherNeed])
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.closure-review' AND case_id = $1", [scene.caseID]) == 1)

            let closed = try await CaseKit.call(client, .post, scene.base + "/close/approve", scene.supervisor.token, Self.decisions(scene))
            #expect(closed.status == .ok, "\(closed.text)")
            #expect(try closed.json()["status"] as? String == "closed")

            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'cancelled' AND status_reason = 'person-moved'", [scene.referral]) == 1)
            #expect(try CaseKit.count(app, "service_episode", where: "id = $1 AND status = 'completed' AND end_on IS NOT NULL", [scene.service]) == 1)
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND status = 'cancelled'", [scene.servedNeed]) == 1)
            #expect(try CaseKit.count(app, "need", where: "id = $1 AND status = 'met'", [scene.otherNeed]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'referral.transition' AND entity_id = $1 AND detail::text LIKE '%person-moved%'",
                                      [Self.lower(scene.referral)]) == 1)

            // The recipient reads why on the referral's status line, and in its history.
            let seen = try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)", scene.partner.token)
            #expect(seen.status == .ok, "\(seen.text)")
            #expect(try seen.json()["status"] as? String == "cancelled")
            #expect(try seen.json()["status_reason"] as? String == "person-moved")
            let history = try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)/history", scene.partner.token)
            #expect(try history.jsonArray("items").last?["reason"] as? String == "person-moved", "\(history.text)")

            let after = try await CaseKit.call(client, .get, "/v1/closures", scene.supervisor.token)
            #expect(!(try CaseKit.ids(after)).contains(scene.caseID))
        }
    }

    @Test func anApprovalLeavingWorkUndecidedIsRefusedNamingEveryItemAndChangesNothing() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            _ = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "services-completed"])

            let bare = try await CaseKit.call(client, .post, scene.base + "/close/approve", scene.supervisor.token)
            CaseKit.expectProblem(bare, .unprocessableContent)
            for field in ["referrals." + Self.lower(scene.referral), "services." + Self.lower(scene.service),
                          "needs." + Self.lower(scene.servedNeed), "needs." + Self.lower(scene.otherNeed)] {
                #expect(bare.problemFields.contains(field), "\(field) not named: \(bare.text)")
            }
            #expect(try bare.json()["undecided"] as? [[String: Any]] != nil, "\(bare.text)")

            var partial = Self.decisions(scene)
            partial["needs"] = [["id": scene.servedNeed.uuidString, "decision": "met"]]
            let missingOne = try await CaseKit.call(client, .post, scene.base + "/close/approve", scene.supervisor.token, partial)
            CaseKit.expectProblem(missingOne, .unprocessableContent, field: "needs." + Self.lower(scene.otherNeed))
            #expect(!missingOne.problemFields.contains("referrals." + Self.lower(scene.referral)))

            var keepOpen = Self.decisions(scene)
            keepOpen["referrals"] = [["id": scene.referral.uuidString, "decision": "keep-open", "reason": "case-closed"]]
            CaseKit.expectProblem(try await CaseKit.call(client, .post, scene.base + "/close/approve", scene.supervisor.token, keepOpen),
                                  .unprocessableContent)

            var stranger = Self.decisions(scene)
            stranger["services"] = [["id": scene.service.uuidString, "decision": "complete"], ["id": UUID().uuidString, "decision": "cancel"]]
            CaseKit.expectProblem(try await CaseKit.call(client, .post, scene.base + "/close/approve", scene.supervisor.token, stranger),
                                  .unprocessableContent)

            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND status = 'open' AND closure_requested_at IS NOT NULL", [scene.caseID]) == 1)
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'requested'", [scene.referral]) == 1)
            #expect(try CaseKit.count(app, "need", where: "case_id = $1 AND status = 'open'", [scene.caseID]) == 2)
            #expect(try CaseKit.count(app, "service_episode", where: "id = $1 AND status = 'in_progress' OR id = $1 AND status = 'planned'",
                                      [scene.service]) == 1)
        }
    }

    @Test func aSupervisorClosingAtOnceDecidesToo() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let silent = try await CaseKit.call(client, .post, scene.base + "/close", scene.supervisor.token, ["reason": "lost-contact"])
            CaseKit.expectProblem(silent, .unprocessableContent, field: "referrals." + Self.lower(scene.referral))
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'requested'", [scene.referral]) == 1)

            var body = Self.decisions(scene, referralReason: "person-unreachable")
            body["reason"] = "lost-contact"
            let closed = try await CaseKit.call(client, .post, scene.base + "/close", scene.supervisor.token, body)
            #expect(closed.status == .ok, "\(closed.text)")
            let seen = try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)", scene.partner.token)
            #expect(try seen.json()["status_reason"] as? String == "person-unreachable")
        }
    }

    @Test func aSupervisorDeclinesARequestWithAReasonAndTheCaseStaysOpen() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            _ = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "services-completed"])

            CaseKit.expectProblem(try await CaseKit.call(client, .post, scene.base + "/close/decline", scene.caseworker.token,
                                                         ["reason": "work-still-open"]), .forbidden)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, scene.base + "/close/decline", scene.supervisor.token,
                                                         ["reason": "because"]), .unprocessableContent, field: "reason")

            let declined = try await CaseKit.call(client, .post, scene.base + "/close/decline", scene.supervisor.token, ["reason": "work-still-open"])
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(try declined.json()["status"] as? String == "open")
            #expect(try declined.json()["closure"] == nil, "\(declined.text)")
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'requested'", [scene.referral]) == 1)

            let history = try await CaseKit.call(client, .get, scene.base + "/history", scene.caseworker.token)
            let entry = try history.jsonArray("items").first { $0["event"] as? String == "case.close-decline" }
            #expect(entry != nil, "\(history.text)")
            #expect(history.text.contains("work-still-open"))

            CaseKit.expectProblem(try await CaseKit.call(client, .post, scene.base + "/close/decline", scene.supervisor.token,
                                                         ["reason": "other"]), .conflict)
            let again = try await CaseKit.call(client, .post, scene.base + "/close", scene.caseworker.token, ["reason": "services-completed"])
            #expect(again.status == .accepted, "a declined request can be made again: \(again.text)")
        }
    }
}

extension CaseKit {
    /// A decision for everything open on the case, as its closure review lists it: referrals
    /// cancelled with `reason`, services cancelled, needs cancelled.
    static func decideAll(_ client: any TestClientProtocol, _ caseID: UUID, _ supervisorToken: String,
                          reason: String = "case-closed") async throws -> [String: Any] {
        let review = try await call(client, .get, "/v1/cases/\(caseID.uuidString)/closure", supervisorToken)
        #expect(review.status == .ok, "closure review: \(review.text)")
        return ["referrals": try ids(review, "referrals").map { ["id": $0.uuidString, "decision": "cancel", "reason": reason] },
                "services": try ids(review, "services").map { ["id": $0.uuidString, "decision": "cancel"] },
                "needs": try ids(review, "needs").map { ["id": $0.uuidString, "decision": "cancelled"] }]
    }
}
