import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The case's and the referral's histories name who acted, as the console does: a colleague by
/// name, anyone of another organisation by the ids alone.
@Suite("Cases: names in the histories")
struct CasesHistoryNamesTests {
    static func name(_ member: CaseKit.Member) -> String { member.user.user.displayName ?? member.user.user.username }

    @Test("the case history names the viewer's colleagues; the referral history names each side's own people to that side only")
    func historiesNameColleagues() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesReferralTests.scene(app, client)
            let referral = try await CasesReferralTests.refer(client, scene)
            #expect(try await CaseKit.transition(client, scene.partner.token, referral, ["to": "accepted"]).status == .ok)

            let history = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/history", scene.supervisor.token)
            #expect(history.status == .ok, "\(history.text)")
            let entries = try #require(try history.json()["items"] as? [[String: Any]])
            let created = try #require(entries.first { $0["event"] as? String == "case.create" }, "\(history.text)")
            #expect(created["actor_name"] as? String == Self.name(scene.caseworker), "\(created)")
            // An acting partner of the receiving organisation is not named to the sender.
            for entry in entries where (entry["actor"] as? String)?.lowercased() == scene.partner.id.uuidString.lowercased() {
                #expect(entry["actor_name"] == nil, "\(entry)")
            }

            let path = "/v1/referrals/\(referral.uuidString)/history"
            let seenBySender = try await CaseKit.call(client, .get, path, scene.supervisor.token)
            #expect(seenBySender.status == .ok, "\(seenBySender.text)")
            let senderItems = try #require(try seenBySender.json()["items"] as? [[String: Any]])
            let sent = try #require(senderItems.first { $0["to"] as? String == "requested" }, "\(seenBySender.text)")
            let accepted = try #require(senderItems.first { $0["to"] as? String == "accepted" }, "\(seenBySender.text)")
            #expect(sent["actor_name"] as? String == Self.name(scene.caseworker), "\(sent)")
            #expect(accepted["actor_name"] == nil, "the partner is not the sender's colleague: \(accepted)")
            #expect(accepted["actor_user"] != nil)

            let seenByPartner = try await CaseKit.call(client, .get, path, scene.partner.token)
            #expect(seenByPartner.status == .ok, "\(seenByPartner.text)")
            let partnerItems = try #require(try seenByPartner.json()["items"] as? [[String: Any]])
            #expect(partnerItems.first { $0["to"] as? String == "accepted" }?["actor_name"] as? String == Self.name(scene.partner), "\(seenByPartner.text)")
            #expect(partnerItems.first { $0["to"] as? String == "requested" }.map { $0["actor_name"] == nil } == true,
                    "the sender's caseworker is not named to the recipient: \(seenByPartner.text)")
        }
    }
}
