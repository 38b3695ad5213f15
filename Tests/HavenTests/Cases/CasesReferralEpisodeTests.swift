import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The receiving organisation works a referral it accepted: its own episodes and counselling
/// sessions, seen by the sender only within the consented `services`.
@Suite("Cases: the recipient's episodes on a referral")
struct CasesReferralEpisodeTests {
    typealias Scene = CasesPartnerViewTests.Scene

    /// A referral sharing `categories`, received and accepted by the partner.
    static func accepted(_ client: any TestClientProtocol, _ scene: Scene, _ categories: [String]) async throws -> UUID {
        let (referral, _) = try await CasesPartnerViewTests.refer(client, scene, categories)
        for to in ["received", "accepted"] {
            let moved = try await CaseKit.transition(client, scene.partner.token, referral, ["to": to])
            #expect(moved.status == .ok, "→ \(to): \(moved.text)")
        }
        return referral
    }

    static func path(_ referral: UUID, _ rest: String = "") -> String { "/v1/referrals/\(referral.uuidString)/episodes" + rest }

    /// A counselling episode of the partner's with two sessions, each with its note.
    static func counselling(_ client: any TestClientProtocol, _ scene: Scene, _ referral: UUID, notes: [String]) async throws -> UUID {
        let created = try await CaseKit.call(client, .post, path(referral), scene.partner.token,
                                             ["type": "counselling", "start_on": CaseKit.daysAgo(3)] as [String: Any])
        #expect(created.status == .created, "\(created.text)")
        let episode = try CaseKit.id(created)
        for (number, note) in notes.enumerated() {
            let added = try await CaseKit.call(client, .post, path(referral, "/\(episode.uuidString)/sessions"), scene.partner.token, [
                "date": CaseKit.daysAgo(2 - number), "counsellor": "Counsellor \(number)", "minutes": 50, "modality": "individual", "note": note,
            ] as [String: Any])
            #expect(added.status == .created, "\(added.text)")
            #expect(added.headers[.location]?.hasSuffix("/sessions/\(number)") == true, "\(added.headers[.location] ?? "no location")")
        }
        return episode
    }

    @Test("the partner records a counselling episode and its sessions on a referral it accepted, and reads them back")
    func partnerRecords() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await Self.accepted(client, scene, ["profile", "needs"])
            let notes = ["firstsessionqx\(scene.person.tag)", "secondsessionqx\(scene.person.tag)"]
            let episode = try await Self.counselling(client, scene, referral, notes: notes)

            let read = try await CaseKit.call(client, .get, Self.path(referral, "/\(episode.uuidString)"), scene.partner.token)
            #expect(read.status == .ok, "the partner reads its own episode: \(read.text)")
            let body = try read.json()
            #expect(body["provider_organisation"] as? String == scene.shelter.uuidString, "the provider is the recipient")
            #expect(body["referral_id"] as? String == referral.uuidString)
            let sessions = try #require((body["detail"] as? [String: Any])?["counselling"] as? [[String: Any]], "\(read.text)")
            #expect(sessions.map { $0["note"] as? String } == notes)
            #expect(sessions.map { $0["minutes"] as? Int } == [50, 50])

            let list = try await CaseKit.call(client, .get, Self.path(referral), scene.partner.token)
            #expect(list.status == .ok, "\(list.text)")
            #expect(try CaseKit.ids(list).contains(episode), "the list holds the episode (and the one acceptance started): \(list.text)")
            #expect(try CaseKit.ids(list).count == 2)

            // A stay of its own, extended.
            let stay = try await CaseKit.call(client, .post, Self.path(referral), scene.partner.token, [
                "type": "safe_accommodation", "start_on": CaseKit.daysAgo(1), "due_on": CaseKit.daysAhead(10),
                "detail": ["accommodation": ["from": CaseKit.daysAgo(1), "planned_until": CaseKit.daysAhead(10)]],
            ] as [String: Any])
            #expect(stay.status == .created, "\(stay.text)")
            let stayID = try CaseKit.id(stay)
            let extended = try await CaseKit.call(client, .post, Self.path(referral, "/\(stayID.uuidString)/extensions"), scene.partner.token,
                                                  ["until": CaseKit.daysAhead(30)])
            #expect(extended.status == .ok, "\(extended.text)")
            let accommodation = (try extended.json()["detail"] as? [String: Any])?["accommodation"] as? [String: Any]
            #expect(accommodation?["planned_until"] as? String == CaseKit.daysAhead(30))
            #expect(accommodation?["extensions"] as? [String] == [CaseKit.daysAhead(30)])
            #expect(try extended.json()["due_on"] as? String == CaseKit.daysAhead(30))
            let earlier = try await CaseKit.call(client, .post, Self.path(referral, "/\(stayID.uuidString)/extensions"), scene.partner.token,
                                                 ["until": CaseKit.daysAhead(5)])
            CaseKit.expectProblem(earlier, .unprocessableContent, field: "until")

            // A medical step finished with its outcome.
            let medical = try await CaseKit.call(client, .post, Self.path(referral), scene.partner.token,
                                                 ["type": "medical", "start_on": CaseKit.daysAgo(1)] as [String: Any])
            let medicalID = try CaseKit.id(medical)
            let done = try await CaseKit.call(client, .patch, Self.path(referral, "/\(medicalID.uuidString)"), scene.partner.token,
                                              ["status": "completed", "end_on": CaseKit.daysAgo(0), "outcome": "examined, no follow-up"] as [String: Any])
            #expect(done.status == .ok, "\(done.text)")
            #expect(try done.json()["outcome"] as? String == "examined, no follow-up")
            #expect(try CaseKit.auditTexts(app).contains { $0.contains("service.session.create") })
        }
    }

    @Test("correcting one session keeps the other sessions' notes; re-sending a list of sessions never erases notes")
    func correctOneSession() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await Self.accepted(client, scene, ["profile"])
            let notes = ["keepnoteqx\(scene.person.tag)", "oldnoteqx\(scene.person.tag)"]
            let episode = try await Self.counselling(client, scene, referral, notes: notes)
            let corrected = "newnoteqx\(scene.person.tag)"
            let response = try await CaseKit.call(client, .patch, Self.path(referral, "/\(episode.uuidString)/sessions/1"), scene.partner.token,
                                                  ["minutes": 40, "note": corrected] as [String: Any])
            #expect(response.status == .ok, "\(response.text)")
            let sessions = (try response.json()["detail"] as? [String: Any])?["counselling"] as? [[String: Any]]
            #expect(sessions?.map { $0["note"] as? String } == [notes[0], corrected], "\(response.text)")
            #expect(sessions?.map { $0["minutes"] as? Int } == [50, 40])
            #expect(sessions?.map { $0["counsellor"] as? String } == ["Counsellor 0", "Counsellor 1"])

            let missing = try await CaseKit.call(client, .patch, Self.path(referral, "/\(episode.uuidString)/sessions/7"), scene.partner.token,
                                                 ["minutes": 40])
            #expect(missing.status == .notFound)
            let sessionsInPatch = try await CaseKit.call(client, .patch, Self.path(referral, "/\(episode.uuidString)"), scene.partner.token,
                                                         ["detail": ["counselling": []]] as [String: Any])
            CaseKit.expectProblem(sessionsInPatch, .unprocessableContent, field: "detail.counselling")

            // The case's own counselling list, re-sent without its notes, keeps them.
            let own = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            let ownCounselling = try #require(try own.jsonArray().first { ($0["referral_id"] == nil || $0["referral_id"] is NSNull) && $0["type"] as? String == "counselling" })
            let ownID = try #require(ownCounselling["id"] as? String)
            let resent = try await CaseKit.call(client, .patch, "/v1/cases/\(scene.caseID.uuidString)/services/\(ownID)", scene.caseworker.token, [
                "detail": ["counselling": [["date": CaseKit.daysAgo(2), "counsellor": "Counsellor Z", "minutes": 55, "modality": "individual"]]],
            ] as [String: Any])
            #expect(resent.status == .ok, "\(resent.text)")
            let kept = (try resent.json()["detail"] as? [String: Any])?["counselling"] as? [[String: Any]]
            #expect(kept?.first?["note"] as? String == scene.sessionNote, "a list re-sent without notes keeps them: \(resent.text)")
            #expect(kept?.first?["minutes"] as? Int == 55)
        }
    }

    @Test("the sender sees the partner's episodes only with services consented; another organisation gets 404")
    func whoSees() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let withServices = try await Self.accepted(client, scene, ["profile", "services"])
            let without = try await Self.accepted(client, scene, ["profile"])
            let sharedNote = "sharednoteqx\(scene.person.tag)", hiddenNote = "hiddennoteqx\(scene.person.tag)"
            let shared = try await Self.counselling(client, scene, withServices, notes: [sharedNote])
            let hidden = try await Self.counselling(client, scene, without, notes: [hiddenNote])

            let sees = try await CaseKit.call(client, .get, Self.path(withServices), scene.caseworker.token)
            #expect(sees.status == .ok, "\(sees.text)")
            #expect(try CaseKit.ids(sees).contains(shared))
            CaseKit.expectAbsent([sharedNote], in: sees.text, "notes travel only with notes shared")
            let refused = try await CaseKit.call(client, .get, Self.path(without), scene.caseworker.token)
            #expect(refused.status == .forbidden, "no services consented: \(refused.text)")
            let refusedOne = try await CaseKit.call(client, .get, Self.path(without, "/\(hidden.uuidString)"), scene.caseworker.token)
            #expect(refusedOne.status == .forbidden, "\(refusedOne.text)")

            // Nor through the case itself.
            let caseServices = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            let ids = Set(try caseServices.jsonArray().compactMap { $0["id"] as? String })
            #expect(ids.contains(shared.lowercasedString) || ids.contains(shared.uuidString), "\(caseServices.text)")
            #expect(!ids.contains(hidden.lowercasedString) && !ids.contains(hidden.uuidString), "\(caseServices.text)")
            CaseKit.expectAbsent([hiddenNote], in: caseServices.text, "case services")
            let direct = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services/\(hidden.uuidString)", scene.caseworker.token)
            #expect(direct.status == .notFound)

            // The sender never records on the partner's behalf.
            let senderWrites = try await CaseKit.call(client, .post, Self.path(withServices), scene.caseworker.token, ["type": "medical"])
            #expect(senderWrites.status == .forbidden, "\(senderWrites.text)")

            let stranger = try await app.organisation(type: .shelter, services: [.safeAccommodation])
            let other = try await CaseKit.member(app, client, .partner, in: stranger.id)
            for (method, uri) in [(HTTPRequest.Method.get, Self.path(withServices)), (.get, Self.path(withServices, "/\(shared.uuidString)")),
                                  (.post, Self.path(withServices, "/\(shared.uuidString)/sessions"))] {
                let response = try await CaseKit.call(client, method, uri, other.token,
                                                      method == .post ? ["date": CaseKit.daysAgo(0), "counsellor": "X", "minutes": 5, "modality": "remote"] as [String: Any] : nil)
                #expect(response.status == .notFound, "\(method) \(uri) as another organisation: \(response.text)")
            }
        }
    }

    @Test("a partner records nothing on a referral it has not accepted, nor once it is completed")
    func onlyWhileWorked() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let (requested, _) = try await CasesPartnerViewTests.refer(client, scene, ["profile"])
            let early = try await CaseKit.call(client, .post, Self.path(requested), scene.partner.token, ["type": "medical"])
            #expect(early.status == .forbidden, "\(early.text)")
            let referral = try await Self.accepted(client, scene, ["profile"])
            _ = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "in-progress"])
            let done = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "completed", "outcome": "stayed"])
            #expect(done.status == .ok, "\(done.text)")
            let late = try await CaseKit.call(client, .post, Self.path(referral), scene.partner.token, ["type": "medical"])
            #expect(late.status == .forbidden, "\(late.text)")
        }
    }

    @Test("the episode acceptance starts is due by the priority's response time, so it can become overdue")
    func dueFromPriority() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await Self.accepted(client, scene, ["profile"])
            let list = try await CaseKit.call(client, .get, Self.path(referral), scene.partner.token)
            let episode = try #require(try list.jsonArray().first, "\(list.text)")
            // The scene's need is urgent: 72 hours.
            let expected = CalendarDate.of(Date().addingTimeInterval(72 * 3600)).description
            let nextDay = CalendarDate.of(Date().addingTimeInterval(73 * 3600)).description
            let due = episode["due_on"] as? String
            #expect(due == expected || due == nextDay, "due \(due ?? "none"), expected \(expected): \(list.text)")
            #expect(episode["overdue"] as? Bool == false)
            #expect(NeedPriority.emergency.serviceDue(acceptedAt: Date(timeIntervalSince1970: 0)).description == "1970-01-02")
            #expect(NeedPriority.normal.serviceDue(acceptedAt: Date(timeIntervalSince1970: 0)).description == "1970-01-15")
        }
    }

    @Test("session notes are not stored in clear")
    func notesSealed() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await Self.accepted(client, scene, ["profile"])
            let note = "sealednoteqx\(scene.person.tag)"
            let episode = try await Self.counselling(client, scene, referral, notes: [note])
            _ = try await CaseKit.call(client, .patch, Self.path(referral, "/\(episode.uuidString)/sessions/0"), scene.partner.token,
                                       ["note": note + "v2", "counsellor": "Counsellor Qx\(scene.person.tag)"])
            #expect(try CaseKit.count(app, "session_note", where: "episode_id = $1", [episode]) == 1)
            let dump = try CaseKit.ownerRows(app, "SELECT detail::text, coalesce(outcome, '') FROM service_episode WHERE id = $1", [episode])
                .flatMap { $0.compactMap { $0 } }.joined(separator: "\n")
            CaseKit.expectAbsent([note, "Counsellor Qx\(scene.person.tag)"], in: dump, "service_episode row")
            let notes = try CaseKit.ownerRows(app, "SELECT encode(note_sealed, 'escape') FROM session_note WHERE episode_id = $1", [episode])
                .flatMap { $0.compactMap { $0 } }.joined(separator: "\n")
            CaseKit.expectAbsent([note], in: notes, "session_note row")
            CaseKit.expectAbsent([note], in: try CaseKit.auditTexts(app).joined(separator: "\n"), "audit trail")
        }
    }
}
