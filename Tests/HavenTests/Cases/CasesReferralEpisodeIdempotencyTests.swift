import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The receiving organisation's episodes and sessions are created once per `Idempotency-Key`,
/// like every other creating POST: a retry answers the first and records nothing more.
@Suite("Cases: idempotent episodes and sessions on a referral")
struct CasesReferralEpisodeIdempotencyTests {
    @Test("a retried episode is one episode; a retried session is one session; another body with the key is 422")
    func episodesAndSessionsReplay() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await CasesReferralEpisodeTests.accepted(client, scene, ["profile"])
            try await CasesIdempotencyTests.checkReplay(
                app, client, token: scene.partner.token, path: CasesReferralEpisodeTests.path(referral),
                body: ["type": "counselling", "start_on": CaseKit.daysAgo(3)], other: ["type": "counselling", "start_on": CaseKit.daysAgo(2)],
                table: "service_episode")

            let list = try await CaseKit.call(client, .get, CasesReferralEpisodeTests.path(referral), scene.partner.token)
            let episode = try #require(try list.jsonArray().first { $0["type"] as? String == "counselling" }?["id"] as? String, "\(list.text)")
            let sessions = CasesReferralEpisodeTests.path(referral, "/\(episode)/sessions")
            let session: [String: Any] = ["date": CaseKit.daysAgo(1), "counsellor": "Counsellor R", "minutes": 40, "modality": "individual",
                                          "note": "retried \(scene.person.tag)"]
            let key = "session-\(UUID().uuidString)"
            let first = try await CaseKit.call(client, .post, sessions, scene.partner.token, session, headers: ["Idempotency-Key": key])
            #expect(first.status == .created, "\(first.text)")
            let again = try await CaseKit.call(client, .post, sessions, scene.partner.token, session, headers: ["Idempotency-Key": key])
            #expect(again.status == .created, "\(again.text)")
            #expect(again.headers[CasesIdempotencyTests.replayed] == "true")
            #expect(again.text == first.text && again.headers[.location] == first.headers[.location])
            var other = session
            other["minutes"] = 45
            let refused = try await CaseKit.call(client, .post, sessions, scene.partner.token, other, headers: ["Idempotency-Key": key])
            CaseKit.expectProblem(refused, .unprocessableContent, field: "Idempotency-Key")
            let read = try await CaseKit.call(client, .get, CasesReferralEpisodeTests.path(referral, "/\(episode)"), scene.partner.token)
            let detail = try read.json()["detail"] as? [String: Any]
            #expect((detail?["counselling"] as? [[String: Any]])?.count == 1, "one session for three posts: \(read.text)")
            // The replay was read under the policy and audited as a read.
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'idempotency.replay' AND actor_user = $1", [scene.partner.id]) == 2)
        }
    }

    @Test("the kept first answer belongs to the case: erasing the case forgets it, and a retry is 410")
    func erasureForgetsTheAnswer() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await CasesReferralEpisodeTests.accepted(client, scene, ["profile"])
            let body: [String: Any] = ["type": "counselling", "start_on": CaseKit.daysAgo(3)]
            let key = "episode-\(UUID().uuidString)"
            let path = CasesReferralEpisodeTests.path(referral)
            let first = try await CaseKit.call(client, .post, path, scene.partner.token, body, headers: ["Idempotency-Key": key])
            #expect(first.status == .created, "\(first.text)")
            // Erasure forgets every answer kept about the case (Retention.anonymise).
            _ = try CaseKit.ownerRows(app, "SELECT haven_forget_case_answers($1)", [scene.caseID])
            let replay = try await CaseKit.call(client, .post, path, scene.partner.token, body, headers: ["Idempotency-Key": key])
            CaseKit.expectProblem(replay, .gone, field: "Idempotency-Key")
        }
    }
}
