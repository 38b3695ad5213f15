import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The referral page's episodes: the receiving organisation records its own episode and its
/// counselling sessions through the console, a refusal keeps what was typed, and the sender
/// sees nothing without `services` shared.
@Suite("Console: the recipient's episodes on a referral")
struct ConsoleReferralEpisodeTests {
    @Test("the partner records a counselling episode and a session; a refused session keeps its input; the sender without services sees none")
    func partnerRecordsInTheConsole() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await CasesReferralEpisodeTests.accepted(client, scene, ["profile"])
            let page = "/referrals/\(referral.uuidString.lowercased())"
            let browser = try await ConsoleKit.login(client, scene.partner.user)

            let before = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(before.status == .ok)
            #expect(before.text.contains("id=\"episode-form\""), "the partner is offered the form: \(before.text.prefix(300))")

            let added = try await ConsoleKit.post(client, page + "/episodes", ["csrf": browser.formToken, "type": "counselling",
                                                                              "start_on": CaseKit.daysAgo(1), "due_on": "", "planned_until": ""],
                                                  cookie: browser.cookie)
            #expect(added.status == .seeOther, "\(added.text.prefix(400))")
            let list = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/episodes", scene.partner.token)
            let episode = try #require(try list.jsonArray().first { $0["type"] as? String == "counselling" }?["id"] as? String, "\(list.text)")
                .lowercased()

            let note = "consolesessionqx\(scene.person.tag)"
            let sessions = page + "/episodes/\(episode)/sessions"
            let refused = try await ConsoleKit.post(client, sessions, ["csrf": browser.formToken, "date": CaseKit.daysAgo(0), "counsellor": "Counsellor C",
                                                                       "minutes": "900", "modality": "group", "note": note], cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent, "\(refused.text.prefix(400))")
            #expect(refused.text.contains("1 to 600"), "the message for minutes is beside the field")
            #expect(refused.text.contains(note) && refused.text.contains("value=\"900\""), "the input is kept")

            let saved = try await ConsoleKit.post(client, sessions, ["csrf": browser.formToken, "date": CaseKit.daysAgo(0), "counsellor": "Counsellor C",
                                                                     "minutes": "45", "modality": "group", "note": note], cookie: browser.cookie)
            #expect(saved.status == .seeOther, "\(saved.text.prefix(400))")
            let corrected = try await ConsoleKit.post(client, sessions + "/0", ["csrf": browser.formToken, "date": CaseKit.daysAgo(0),
                                                                                "counsellor": "Counsellor C", "minutes": "50", "modality": "group",
                                                                                "note": ""], cookie: browser.cookie)
            #expect(corrected.status == .seeOther, "\(corrected.text.prefix(400))")
            let after = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(after.text.contains(note), "a correction without a note keeps the note")
            #expect(after.text.contains("50 min"))

            // The sender's page holds no episodes: services were not shared.
            let sender = try await ConsoleKit.login(client, scene.caseworker.user)
            let senderPage = try await ConsoleKit.get(client, page, cookie: sender.cookie)
            #expect(senderPage.status == .ok)
            #expect(!senderPage.text.contains("id=\"episodes\"") && !senderPage.text.contains(note))
        }
    }

    @Test("the partner finishes an episode with its end date and outcome; an end before the start is refused beside the field with the input kept")
    func partnerFinishesAnEpisode() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let referral = try await CasesReferralEpisodeTests.accepted(client, scene, ["profile"])
            let page = "/referrals/\(referral.uuidString.lowercased())"
            let browser = try await ConsoleKit.login(client, scene.partner.user)
            // The same form sent twice records one episode.
            let form = ["csrf": browser.formToken, "idempotency_key": "console-episode-1", "type": "counselling", "start_on": CaseKit.daysAgo(5),
                        "due_on": "", "planned_until": ""]
            let before = try CaseKit.count(app, "service_episode")
            for _ in 0..<2 {
                let added = try await ConsoleKit.post(client, page + "/episodes", form, cookie: browser.cookie)
                #expect(added.status == .seeOther, "\(added.text.prefix(400))")
            }
            #expect(try CaseKit.count(app, "service_episode") == before + 1)
            let list = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/episodes", scene.partner.token)
            let episode = try #require(try list.jsonArray().first { $0["type"] as? String == "counselling" }?["id"] as? String, "\(list.text)")
                .lowercased()
            let shown = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(shown.text.contains("action=\"\(page)/episodes/\(episode)/finish\""), "the open episode offers the finish form")

            let outcome = "finished well \(scene.person.tag)"
            let refused = try await ConsoleKit.post(client, page + "/episodes/\(episode)/finish",
                                                    ["csrf": browser.formToken, "status": "completed", "end_on": CaseKit.daysAgo(9), "outcome": outcome],
                                                    cookie: browser.cookie)
            #expect(refused.status == .unprocessableContent, "\(refused.text.prefix(400))")
            #expect(refused.text.contains("id=\"end-\(episode)-error\">Choose the day it ended, not before it started."), "\(refused.text)")
            #expect(refused.text.contains("value=\"\(CaseKit.daysAgo(9))\"") && refused.text.contains(">\(outcome)</textarea>"), "the input is kept")

            let finished = try await ConsoleKit.post(client, page + "/episodes/\(episode)/finish",
                                                     ["csrf": browser.formToken, "status": "completed", "end_on": CaseKit.daysAgo(1), "outcome": outcome],
                                                     cookie: browser.cookie)
            #expect(finished.status == .seeOther, "\(finished.text.prefix(400))")
            let read = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/episodes/\(episode)", scene.partner.token)
            let stored = try read.json()
            #expect(stored["status"] as? String == "completed" && stored["end_on"] as? String == CaseKit.daysAgo(1), "\(read.text)")
            #expect(stored["outcome"] as? String == outcome, "\(read.text)")
            let after = try await ConsoleKit.get(client, page, cookie: browser.cookie)
            #expect(after.text.contains(outcome) && !after.text.contains("/episodes/\(episode)/finish\""), "a finished episode is not finished again")
        }
    }
}
