import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Handing a case to another organisation: asked with a consent naming the receiver for every
/// category, accepted or declined by the receiving organisation's supervisor; on acceptance the
/// case, its whole history and its open referrals' follow-up are the new owner's, and the old
/// organisation's people no longer see it.
@Suite("Cases: transfer to another organisation")
struct CasesTransferTests {
    struct Scene {
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var receiver: CaseKit.Member
        var receiverCaseworker: CaseKit.Member
        var partner: CaseKit.Member
        var stranger: CaseKit.Member
        var receiving: UUID
        var caseID: UUID
        var referral: UUID
        var partial: UUID
        var covering: UUID
        var base: String
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation("Sender Office \(UUID().uuidString.prefix(6))", type: .government, services: [.counselling])
        let receiving = try await app.organisation("Receiving Office \(UUID().uuidString.prefix(6))", type: .government, services: [.counselling])
        let shelter = try await app.organisation("Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let third = try await app.organisation("Third Office \(UUID().uuidString.prefix(6))", type: .ngo)
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: sender.id)
        let receiver = try await CaseKit.member(app, client, .supervisor, in: receiving.id)
        let receiverCaseworker = try await CaseKit.member(app, client, .caseworker, in: receiving.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let stranger = try await CaseKit.member(app, client, .supervisor, in: third.id)
        let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
        let base = "/v1/cases/\(caseID.uuidString)"
        let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                            ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
        let toShelter = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                                 CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
        let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
            "to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": toShelter.uuidString,
            "shared_categories": ["profile", "needs"],
        ])
        let partial = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                               CaseKit.consent(to: [receiving.id], categories: ["profile", "needs"]))
        let covering = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                                CaseKit.consent(to: [receiving.id], categories: DataCategory.allCases.map(\.rawValue)))
        return Scene(caseworker: caseworker, supervisor: supervisor, receiver: receiver, receiverCaseworker: receiverCaseworker, partner: partner,
                     stranger: stranger, receiving: receiving.id, caseID: caseID, referral: referral, partial: partial, covering: covering, base: base)
    }

    static func body(_ scene: Scene, consent: UUID? = nil, organisation: UUID? = nil) -> [String: Any] {
        ["organisation": (organisation ?? scene.receiving).uuidString, "consent": (consent ?? scene.covering).uuidString, "reason": "person-moved"]
    }

    static func request(_ client: any TestClientProtocol, _ scene: Scene) async throws -> UUID {
        let response = try await CaseKit.call(client, .post, scene.base + "/transfer", scene.caseworker.token, body(scene))
        #expect(response.status == .created, "\(response.text)")
        #expect(response.headers[.location]?.hasPrefix("/v1/transfers/") == true)
        return try CaseKit.id(response)
    }

    @Test func aRequestWithoutACoveringConsentIsRefusedNamingTheField() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = scene.base + "/transfer"
            let partial = try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene, consent: scene.partial))
            CaseKit.expectProblem(partial, .unprocessableContent, field: "consent")
            #expect(partial.text.contains("identity"), "\(partial.text)")
            // A consent to someone else, an unknown consent, the case's own organisation, an unknown one.
            let shelterConsent = try CaseKit.ownerRows(app, "SELECT id::text FROM consent WHERE case_id = $1 ORDER BY created_at LIMIT 1", [scene.caseID])[0][0] ?? ""
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token,
                                                         Self.body(scene, consent: UUID(uuidString: shelterConsent))), .unprocessableContent, field: "consent")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene, consent: UUID())),
                                  .unprocessableContent, field: "consent")
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token,
                                                         Self.body(scene, organisation: scene.caseworker.organisation)), .unprocessableContent, field: "organisation")
            let both = try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene, consent: scene.partial, organisation: UUID()))
            CaseKit.expectProblem(both, .unprocessableContent, field: "organisation")
            CaseKit.expectProblem(both, .unprocessableContent, field: "consent")
            var wrong = Self.body(scene)
            wrong["reason"] = "bored"
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, wrong), .unprocessableContent, field: "reason")
            wrong = Self.body(scene)
            wrong["note"] = "free text"
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, wrong), .unprocessableContent, field: "note")
            #expect(try CaseKit.count(app, "case_transfer") == 0)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype LIKE 'case.transfer%'") == 0)
        }
    }

    @Test func aRetryWithItsIdempotencyKeyAnswersTheFirstRequestAgain() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = scene.base + "/transfer", key = ["Idempotency-Key": "transfer-\(UUID().uuidString)"]
            let first = try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene), headers: key)
            #expect(first.status == .created, "\(first.text)")
            let retry = try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene), headers: key)
            #expect(retry.status == .created && retry.text == first.text, "\(retry.text)")
            #expect(retry.headers[CasesIdempotencyTests.replayed] == "true")
            #expect(try CaseKit.count(app, "case_transfer") == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.transfer-request'") == 1)
            // Without the key a second request is one while the first waits: 409.
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene)), .conflict)
            // The key with another body: 422 naming it, nothing asked.
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.caseworker.token, Self.body(scene, consent: scene.partial),
                                                         headers: key), .unprocessableContent, field: "Idempotency-Key")
            #expect(try CaseKit.count(app, "case_transfer") == 1)
        }
    }

    @Test func onlyTheRightPeopleAskDecideAndCancel() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = scene.base + "/transfer"
            // Those who may not know of the case learn nothing.
            for member in [scene.receiver, scene.receiverCaseworker, scene.partner, scene.stranger] {
                CaseKit.expectProblem(try await CaseKit.call(client, .post, path, member.token, Self.body(scene)), .notFound)
            }
            let transfer = try await Self.request(client, scene)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, path, scene.supervisor.token, Self.body(scene)), .conflict)
            let one = "/v1/transfers/\(transfer.uuidString)"
            for member in [scene.receiverCaseworker, scene.partner, scene.stranger] {
                CaseKit.expectProblem(try await CaseKit.call(client, .get, one, member.token), .notFound)
                CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/accept", member.token), .notFound)
                CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/cancel", member.token), .notFound)
            }
            // The sender may not accept its own request; the receiver may not cancel it.
            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/accept", scene.caseworker.token), .forbidden)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/accept", scene.supervisor.token), .forbidden)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/cancel", scene.receiver.token), .forbidden)
            #expect(try CaseKit.deniedCount(app, actor: scene.stranger.id) >= 3)
            #expect(try CaseKit.deniedCount(app, actor: scene.caseworker.id) >= 1)
            // Lists: the receiving caseworker and the partner see no incoming transfer.
            let incoming = try await CaseKit.call(client, .get, "/v1/transfers?direction=incoming", scene.receiverCaseworker.token)
            #expect(try incoming.status == .ok && CaseKit.ids(incoming).isEmpty, "\(incoming.text)")
            CaseKit.expectProblem(try await CaseKit.call(client, .get, "/v1/transfers", scene.partner.token), .notFound)
            #expect(try CaseKit.count(app, "case_transfer", where: "status = 'requested'") == 1)
        }
    }

    @Test func acceptanceMovesTheCaseWithItsWholeHistoryAndTheOldOfficeLosesIt() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let transfer = try await Self.request(client, scene)
            let one = "/v1/transfers/\(transfer.uuidString)"

            let incoming = try await CaseKit.call(client, .get, "/v1/transfers?direction=incoming&status=requested", scene.receiver.token)
            #expect(try CaseKit.ids(incoming) == [transfer], "\(incoming.text)")
            let item = try #require(try incoming.jsonArray("items").first)
            #expect(item["from_organisation_name"] as? String != nil && item["case_reference"] as? String != nil, "\(incoming.text)")
            let outgoing = try await CaseKit.call(client, .get, "/v1/transfers?direction=outgoing", scene.caseworker.token)
            #expect(try CaseKit.ids(outgoing) == [transfer], "\(outgoing.text)")
            // Before accepting, the receiving supervisor does not read the case.
            CaseKit.expectProblem(try await CaseKit.call(client, .get, scene.base, scene.receiver.token), .notFound)
            let worklist = try await CaseKit.call(client, .get, "/v1/worklist", scene.receiver.token)
            #expect(try worklist.jsonArray("transfers_to_decide").compactMap { ($0["id"] as? String)?.lowercased() } == [transfer.uuidString.lowercased()],
                    "\(worklist.text)")

            let accepted = try await CaseKit.call(client, .post, one + "/accept", scene.receiver.token)
            #expect(accepted.status == .ok, "\(accepted.text)")
            #expect(try accepted.json()["status"] as? String == "accepted")
            let row = try CaseKit.ownerRows(app, "SELECT organisation_id::text, assigned_to::text FROM case_file WHERE id = $1", [scene.caseID])[0]
            #expect(row[0] == scene.receiving.uuidString.lowercased() && row[1] == nil)

            // The new owner reads the case and all of its history, the old one's included.
            #expect(try await CaseKit.call(client, .get, scene.base, scene.receiver.token).status == .ok)
            let history = try await CaseKit.call(client, .get, scene.base + "/history", scene.receiver.token)
            let events = try history.jsonArray("items").compactMap { $0["event"] as? String }
            for expected in ["case.create", "need.create", "consent.create", "referral.create", "case.transfer-request", "case.transferred"] {
                #expect(events.contains(expected), "\(expected) missing from \(events)")
            }
            #expect(try CaseKit.ids(try await CaseKit.call(client, .get, scene.base + "/needs", scene.receiver.token)).count == 1)
            // The open referral stays with its recipient, followed up by the new owner.
            #expect(try CaseKit.count(app, "referral", where: "id = $1 AND status = 'requested'", [scene.referral]) == 1)
            #expect(try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)", scene.partner.token).status == .ok)
            #expect(try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)", scene.receiver.token).status == .ok)

            // The old organisation no longer sees the case; its supervisor keeps the transfer.
            CaseKit.expectProblem(try await CaseKit.call(client, .get, scene.base, scene.caseworker.token), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .get, scene.base, scene.supervisor.token), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .get, scene.base + "/history", scene.caseworker.token), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .get, "/v1/referrals/\(scene.referral.uuidString)", scene.caseworker.token), .notFound)
            let kept = try await CaseKit.call(client, .get, one, scene.supervisor.token)
            #expect(try kept.status == .ok && kept.json()["status"] as? String == "accepted", "\(kept.text)")

            // The new owner's supervisor assigns it to one of theirs.
            let assigned = try await CaseKit.call(client, .post, scene.base + "/assign", scene.receiver.token,
                                                  ["assignee": scene.receiverCaseworker.id.uuidString])
            #expect(assigned.status == .ok, "\(assigned.text)")
            #expect(try await CaseKit.call(client, .get, scene.base, scene.receiverCaseworker.token).status == .ok)

            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/accept", scene.receiver.token), .conflict)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.transfer-request' AND case_id = $1 AND actor_user = $2",
                                      [scene.caseID, scene.caseworker.id]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.transferred' AND case_id = $1 AND actor_org = $2 AND subject_org = $3",
                                      [scene.caseID, scene.receiving, scene.caseworker.organisation]) == 1)
        }
    }

    @Test func declineKeepsTheCaseAndTheSenderMayAskAgainOrCancel() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let transfer = try await Self.request(client, scene)
            let one = "/v1/transfers/\(transfer.uuidString)"
            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/decline", scene.receiver.token, ["reason": "whatever"]),
                                  .unprocessableContent, field: "reason")
            let declined = try await CaseKit.call(client, .post, one + "/decline", scene.receiver.token, ["reason": "no-capacity"])
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(try declined.json()["decline_reason"] as? String == "no-capacity")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND organisation_id = $2", [scene.caseID, scene.caseworker.organisation]) == 1)
            #expect(try await CaseKit.call(client, .get, scene.base, scene.caseworker.token).status == .ok)
            CaseKit.expectProblem(try await CaseKit.call(client, .get, scene.base, scene.receiver.token), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, one + "/accept", scene.receiver.token), .conflict)

            let again = try await Self.request(client, scene)
            let cancelled = try await CaseKit.call(client, .post, "/v1/transfers/\(again.uuidString)/cancel", scene.caseworker.token)
            #expect(try cancelled.status == .ok && cancelled.json()["status"] as? String == "cancelled", "\(cancelled.text)")
            for subtype in ["case.transfer-request", "case.transfer-decline", "case.transfer-cancel"] {
                #expect(try CaseKit.count(app, "audit_event", where: "subtype = $1 AND case_id = $2", [subtype, scene.caseID]) >= 1, "\(subtype)")
            }
        }
    }

    @Test func aConsentWithdrawnBeforeAcceptanceStopsTheTransfer() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let transfer = try await Self.request(client, scene)
            let withdrawn = try await CaseKit.call(client, .post, scene.base + "/consents/\(scene.covering.uuidString)/withdraw", scene.caseworker.token)
            #expect(withdrawn.status == .ok, "\(withdrawn.text)")
            let refused = try await CaseKit.call(client, .post, "/v1/transfers/\(transfer.uuidString)/accept", scene.receiver.token)
            CaseKit.expectProblem(refused, .conflict, field: "consent")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND organisation_id = $2", [scene.caseID, scene.caseworker.organisation]) == 1)
            #expect(try CaseKit.count(app, "case_transfer", where: "id = $1 AND status = 'requested'", [transfer]) == 1)
        }
    }
}
