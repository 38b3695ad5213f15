import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// Referrals over HTTP: the consent and mandate guards, the FHIR-Task state machine with who may
/// make each move, the service episode a referral starts and ends, the inbox and outbox, and the
/// transition history.
@Suite("Cases: referrals")
struct CasesReferralTests {
    struct Scene {
        var sender: UUID
        var shelter: UUID
        var otherShelter: UUID
        var counselling: UUID
        var unrelated: UUID
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var partner: CaseKit.Member
        var senderPartner: CaseKit.Member
        var caseID: UUID
        var needID: UUID
        var consentID: UUID
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation("Sender NGO \(UUID().uuidString.prefix(6))", type: .ngo, services: [.counselling])
        let shelter = try await app.organisation("Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let otherShelter = try await app.organisation("Other Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation, .medical])
        let counselling = try await app.organisation("Counselling \(UUID().uuidString.prefix(6))", type: .health, services: [.counselling])
        let unrelated = try await app.organisation("Unrelated \(UUID().uuidString.prefix(6))", type: .legal, services: [.legalAid])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: sender.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let senderPartner = try await CaseKit.member(app, client, .partner, in: sender.id)
        let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
        let needID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/needs",
                                              ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
        let consentID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/consents", [
            "grantor": "self", "method": "written",
            "provisions": [
                ["recipient_organisation": shelter.id.uuidString, "purpose": "accommodation", "categories": ["profile", "needs"]],
                ["recipient_organisation": otherShelter.id.uuidString, "purpose": "accommodation", "categories": ["profile", "needs"]],
                ["recipient_organisation": counselling.id.uuidString, "purpose": "counselling", "categories": ["profile"]],
            ],
        ] as [String: Any])
        return Scene(sender: sender.id, shelter: shelter.id, otherShelter: otherShelter.id, counselling: counselling.id, unrelated: unrelated.id,
                     caseworker: caseworker, supervisor: supervisor, partner: partner, senderPartner: senderPartner,
                     caseID: caseID, needID: needID, consentID: consentID)
    }

    static func refer(_ client: any TestClientProtocol, _ scene: Scene, to organisation: UUID? = nil, categories: [String] = ["profile", "needs"],
                      extra: [String: Any] = [:], sourceLocation: SourceLocation = #_sourceLocation) async throws -> UUID {
        var body: [String: Any] = ["to_organisation": (organisation ?? scene.shelter).uuidString, "need_id": scene.needID.uuidString,
                                   "consent_id": scene.consentID.uuidString, "shared_categories": categories]
        for (key, value) in extra { body[key] = value }
        return try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/referrals", body, sourceLocation: sourceLocation)
    }

    static func status(_ client: any TestClientProtocol, _ token: String, _ referral: UUID) async throws -> [String: Any] {
        try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)", token).json()
    }

    @Test("a referral the consent does not cover is 409 naming the missing categories; outside the recipient's mandate 422 with the organisations that cover it")
    func guards() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let path = "/v1/cases/\(scene.caseID.uuidString)/referrals"
            func body(_ to: UUID, _ categories: [String], service: String? = nil, consent: UUID? = nil) -> [String: Any] {
                var body: [String: Any] = ["to_organisation": to.uuidString, "consent_id": (consent ?? scene.consentID).uuidString, "shared_categories": categories]
                if let service { body["service_type"] = service } else { body["need_id"] = scene.needID.uuidString }
                return body
            }
            let uncovered = try await CaseKit.call(client, .post, path, scene.caseworker.token, body(scene.shelter, ["identity", "profile", "contact"]))
            CaseKit.expectProblem(uncovered, .conflict, field: "shared_categories")
            #expect(try uncovered.json()["missing_categories"] as? [String] == ["contact", "identity"], "\(uncovered.text)")

            let notNamed = try await CaseKit.call(client, .post, path, scene.caseworker.token, body(scene.unrelated, ["profile"], service: "legal_aid"))
            CaseKit.expectProblem(notNamed, .conflict, field: "shared_categories")
            #expect(try notNamed.json()["missing_categories"] as? [String] == ["profile"], "\(notNamed.text)")

            let partly = try await CaseKit.call(client, .post, path, scene.caseworker.token, body(scene.counselling, ["profile", "needs"], service: "counselling"))
            CaseKit.expectProblem(partly, .conflict)
            #expect(try partly.json()["missing_categories"] as? [String] == ["needs"], "\(partly.text)")

            // A withdrawn consent covers nothing.
            let spent = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/consents",
                                                 CaseKit.consent(to: [scene.shelter], categories: ["profile"]))
            let withdraw = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/consents/\(spent.uuidString)/withdraw", scene.caseworker.token)
            #expect(withdraw.status == .ok)
            let withdrawn = try await CaseKit.call(client, .post, path, scene.caseworker.token, body(scene.shelter, ["profile"], consent: spent))
            CaseKit.expectProblem(withdrawn, .conflict)
            #expect(try withdrawn.json()["missing_categories"] as? [String] == ["profile"], "\(withdrawn.text)")

            // Covered by consent, but the shelter does not counsel.
            let mandate = try await CaseKit.call(client, .post, path, scene.caseworker.token, body(scene.shelter, ["profile"], service: "counselling"))
            CaseKit.expectProblem(mandate, .unprocessableContent, field: "to_organisation")
            let organisations = (try mandate.json()["organisations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(organisations.contains(scene.counselling.uuidString), "\(mandate.text)")
            #expect(!organisations.contains(scene.shelter.uuidString) && !organisations.contains(scene.sender.uuidString), "\(mandate.text)")

            #expect(try CaseKit.count(app, "referral") == 0, "refused referrals store nothing")
            #expect(try CaseKit.count(app, "referral_transition") == 0)
        }
    }

    @Test("the recipient moves a referral through received, accepted, in-progress, on-hold and completed; the episode follows")
    func happyPath() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let created = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": scene.consentID.uuidString,
                "shared_categories": ["profile", "needs"], "note": "call before arrival",
            ] as [String: Any])
            #expect(created.status == .created, "\(created.text)")
            let referral = try CaseKit.id(created)
            let body = try created.json()
            #expect(body["status"] as? String == "requested")
            #expect(created.headers[.eTag] == "W/\"1\"", "ETag \(created.headers[.eTag] ?? "none")")
            #expect(body["service_type"] as? String == "safe_accommodation", "the need's service type")
            #expect(body["priority"] as? String == "emergency", "the need's priority")
            #expect(body["from_organisation"] as? String == scene.sender.uuidString)
            #expect(body["to_organisation"] as? String == scene.shelter.uuidString)
            #expect(created.headers[.location] == "/v1/referrals/\(referral.uuidString)")
            let due = CasesDetailsTests.date(body["due_at"]), createdAt = CasesDetailsTests.date(body["created_at"])
            if let due, let createdAt { #expect(abs(due.timeIntervalSince(createdAt) - 86_400) < 120) } else { Issue.record("dates: \(created.text)") }

            let partner = scene.partner.token
            func move(_ to: String, _ extra: [String: Any] = [:], expect status: HTTPResponse.Status = .ok) async throws -> [String: Any] {
                var body: [String: Any] = ["to": to]
                for (key, value) in extra { body[key] = value }
                let response = try await CaseKit.transition(client, partner, referral, body)
                #expect(response.status == status, "→ \(to): \(response.text)")
                return try response.json()
            }
            #expect(try await move("received", ["business_status": "awaiting-bed"])["business_status"] as? String == "awaiting-bed")
            let accepted = try await move("accepted", ["note": "bed found"])
            #expect(accepted["status"] as? String == "accepted")
            let episodeID = try #require(accepted["episode_id"] as? String, "accepting starts an episode: \(accepted)")

            let services = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            let episode = try #require(try services.jsonArray().first { $0["id"] as? String == episodeID }, "\(services.text)")
            #expect(episode["provider_organisation"] as? String == scene.shelter.uuidString, "the episode is at the recipient")
            #expect(episode["referral_id"] as? String == referral.uuidString)
            #expect(episode["type"] as? String == "safe_accommodation")
            #expect(episode["need_id"] as? String == scene.needID.uuidString)
            #expect(episode["status"] as? String == "in_progress")

            _ = try await move("in-progress")
            _ = try await move("on-hold", ["business_status": "waitlisted"])
            _ = try await move("in-progress")
            let business = try await move("in-progress", ["business_status": "appointment-scheduled"])
            #expect(business["status"] as? String == "in-progress")
            #expect(business["business_status"] as? String == "appointment-scheduled")
            let noOutcome = try await CaseKit.transition(client, partner, referral, ["to": "completed"])
            CaseKit.expectProblem(noOutcome, .unprocessableContent, field: "outcome")
            let blankOutcome = try await CaseKit.transition(client, partner, referral, ["to": "completed", "outcome": "   "])
            CaseKit.expectProblem(blankOutcome, .unprocessableContent, field: "outcome")
            let completed = try await move("completed", ["outcome": "stayed six weeks"])
            #expect(completed["status"] as? String == "completed")
            #expect(completed["outcome"] as? String == "stayed six weeks")

            let after = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            let finished = try after.jsonArray().first { $0["id"] as? String == episodeID }
            #expect(finished?["status"] as? String == "completed", "completing the referral completes the episode: \(after.text)")
            #expect(finished?["outcome"] as? String == "stayed six weeks")
            #expect(finished?["end_on"] is String)

            // A terminal referral never comes back.
            for to in ["in-progress", "cancelled", "received", "requested"] {
                let refused = try await CaseKit.transition(client, partner, referral, ["to": to])
                CaseKit.expectProblem(refused, .conflict, field: "to")
                #expect(try refused.json()["allowed"] as? [String] == [], "\(refused.text)")
            }
            let senderRefused = try await CaseKit.transition(client, scene.caseworker.token, referral, ["to": "cancelled"])
            CaseKit.expectProblem(senderRefused, .conflict)

            // History: every transition, with actor and time, in order.
            let history = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/history", scene.caseworker.token)
            #expect(history.status == .ok, "\(history.text)")
            let steps = try history.jsonArray()
            let pairs = steps.map { "\($0["from"] as? String ?? "-")>\($0["to"] as? String ?? "?")" }
            #expect(pairs == ["->requested", "requested>received", "received>accepted", "accepted>in-progress", "in-progress>on-hold",
                              "on-hold>in-progress", "in-progress>in-progress", "in-progress>completed"], "\(pairs)")
            #expect(steps.first?["actor_user"] as? String == scene.caseworker.id.uuidString)
            #expect(steps.dropFirst().allSatisfy { $0["actor_user"] as? String == scene.partner.id.uuidString })
            #expect(steps.dropFirst().allSatisfy { $0["actor_organisation"] as? String == scene.shelter.uuidString })
            let times = steps.compactMap { CasesDetailsTests.date($0["at"]) }
            #expect(times.count == steps.count && times == times.sorted(), "every step has its time, in order")
            #expect(steps.last?["outcome"] as? String == "stayed six weeks")
            #expect(steps[1]["business_status"] as? String == "awaiting-bed")
            let partnerHistory = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/history", partner)
            #expect(try partnerHistory.jsonArray().count == steps.count)
        }
    }

    @Test("forbidden moves are 409 naming the allowed ones; each side makes only its own moves")
    func whoMayMove() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let referral = try await Self.refer(client, scene)
            let partner = scene.partner.token
            let sender = scene.caseworker.token

            let skip = try await CaseKit.transition(client, partner, referral, ["to": "completed", "outcome": "done"])
            CaseKit.expectProblem(skip, .conflict, field: "to")
            #expect(Set(try skip.json()["allowed"] as? [String] ?? []) == ["received", "accepted", "rejected", "cancelled"], "\(skip.text)")
            // The recipient cannot make the sender's move.
            let recipientError = try await CaseKit.transition(client, partner, referral, ["to": "entered-in-error"])
            CaseKit.expectProblem(recipientError, .conflict)
            #expect(!(try recipientError.json()["allowed"] as? [String] ?? []).contains("entered-in-error"))
            // The sender's caseworker cannot make the recipient's moves.
            for to in ["received", "accepted", "rejected", "in-progress"] {
                let refused = try await CaseKit.transition(client, sender, referral, ["to": to, "reason": "no-capacity"])
                CaseKit.expectProblem(refused, .conflict, field: "to")
                #expect(Set(try refused.json()["allowed"] as? [String] ?? []) == ["entered-in-error", "cancelled"], "\(refused.text)")
            }
            // A partner user of the sending organisation works no case: the referral is not
            // there for them, exactly as for a caseworker of that organisation who does not work it.
            let unassigned = try await CaseKit.member(app, client, .caseworker, in: scene.sender)
            for member in [scene.senderPartner, unassigned] {
                for to in ["cancelled", "entered-in-error"] {
                    CaseKit.expectProblem(try await CaseKit.transition(client, member.token, referral, ["to": to]), .notFound)
                }
                for path in ["", "/history"] {
                    let read = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)\(path)", member.token)
                    CaseKit.expectProblem(read, .notFound)
                    CaseKit.expectAbsent([scene.caseID.uuidString.lowercased(), scene.consentID.uuidString.lowercased()], in: read.text.lowercased(),
                                         "\(member.role) reading \(path)")
                }
            }
            #expect(try await Self.status(client, sender, referral)["status"] as? String == "requested", "refused moves change nothing")

            // Rejection needs one of the reasons.
            let bare = try await CaseKit.transition(client, partner, referral, ["to": "rejected"])
            CaseKit.expectProblem(bare, .unprocessableContent, field: "reason")
            let unknown = try await CaseKit.transition(client, partner, referral, ["to": "rejected", "reason": "not-today"])
            CaseKit.expectProblem(unknown, .unprocessableContent, field: "reason")
            #expect(try CaseKit.count(app, "referral_transition", where: "referral_id = $1", [referral]) == 1)

            // Sender: entered-in-error from requested only; cancel from any open state.
            let mistaken = try await Self.refer(client, scene)
            let error = try await CaseKit.transition(client, sender, mistaken, ["to": "entered-in-error"])
            #expect(error.status == .ok, "\(error.text)")
            #expect(try error.json()["status"] as? String == "entered-in-error")
            let received = try await Self.refer(client, scene)
            #expect(try await CaseKit.transition(client, partner, received, ["to": "received"]).status == .ok)
            let late = try await CaseKit.transition(client, sender, received, ["to": "entered-in-error"])
            CaseKit.expectProblem(late, .conflict)
            #expect(try late.json()["allowed"] as? [String] == ["cancelled"], "\(late.text)")
            let supervisorError = try await Self.refer(client, scene)
            #expect(try await CaseKit.transition(client, scene.supervisor.token, supervisorError, ["to": "entered-in-error"]).status == .ok,
                    "the sender's supervisor may mark it entered in error")

            let accepted = try await Self.refer(client, scene)
            let acceptance = try await CaseKit.transition(client, partner, accepted, ["to": "accepted"])
            let episode = try #require(try acceptance.json()["episode_id"] as? String)
            let cancel = try await CaseKit.transition(client, sender, accepted, ["to": "cancelled", "reason": "client-declined"])
            #expect(cancel.status == .ok, "\(cancel.text)")
            #expect(try cancel.json()["status"] as? String == "cancelled")
            let episodes = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", sender)
            #expect(try episodes.jsonArray().first { $0["id"] as? String == episode }?["status"] as? String == "cancelled")
            // The recipient may cancel too.
            let recipientCancel = try await Self.refer(client, scene)
            #expect(try await CaseKit.transition(client, partner, recipientCancel, ["to": "cancelled", "reason": "no-capacity"]).status == .ok)
        }
    }

    @Test("rejecting as outside-mandate answers the organisations whose mandate covers the need")
    func rejectionOutsideMandate() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let referral = try await Self.refer(client, scene)
            let rejected = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "rejected", "reason": "outside-mandate"])
            #expect(rejected.status == .ok, "\(rejected.text)")
            let body = try rejected.json()
            #expect(body["status"] as? String == "rejected")
            #expect(body["status_reason"] as? String == "outside-mandate")
            let covering = (body["covering_organisations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(covering.contains(scene.otherShelter.uuidString), "\(rejected.text)")
            #expect(!covering.contains(scene.shelter.uuidString) && !covering.contains(scene.sender.uuidString) && !covering.contains(scene.counselling.uuidString))

            // A follow-up referral links to the ended one; an open one cannot be followed up.
            let followUp = try await Self.refer(client, scene, to: scene.otherShelter, extra: ["previous_referral_id": referral.uuidString])
            let read = try await Self.status(client, scene.caseworker.token, followUp)
            #expect(read["previous_referral_id"] as? String == referral.uuidString)
            let open = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": scene.consentID.uuidString,
                "shared_categories": ["profile"], "previous_referral_id": followUp.uuidString,
            ] as [String: Any])
            CaseKit.expectProblem(open, .unprocessableContent, field: "previous_referral_id")
            // Other reasons carry no list.
            let second = try await Self.refer(client, scene)
            let capacity = try await CaseKit.transition(client, scene.partner.token, second, ["to": "rejected", "reason": "no-capacity"])
            #expect(capacity.status == .ok)
            #expect(try capacity.json()["covering_organisations"] == nil)
        }
    }

    @Test("GET /v1/referrals: incoming and outgoing, filtered by status, each organisation its own")
    func inboxAndOutbox() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let first = try await Self.refer(client, scene)
            let second = try await Self.refer(client, scene)
            let third = try await Self.refer(client, scene, to: scene.otherShelter)
            #expect(try await CaseKit.transition(client, scene.partner.token, second, ["to": "accepted"]).status == .ok)
            let otherPartner = try await CaseKit.member(app, client, .partner, in: scene.otherShelter)
            let unassigned = try await CaseKit.member(app, client, .caseworker, in: scene.sender)

            func list(_ member: CaseKit.Member, _ query: String) async throws -> [UUID] {
                let response = try await CaseKit.call(client, .get, "/v1/referrals?\(query)", member.token)
                #expect(response.status == .ok, "\(query): \(response.text)")
                return try CaseKit.ids(response)
            }
            #expect(Set(try await list(scene.partner, "direction=incoming")) == [first, second])
            #expect(try await list(scene.partner, "direction=incoming&status=accepted") == [second])
            #expect(try await list(scene.partner, "direction=incoming&status=requested") == [first])
            #expect(try await list(scene.partner, "direction=incoming&status=completed") == [])
            #expect(try await list(scene.partner, "direction=outgoing") == [])
            #expect(try await list(otherPartner, "direction=incoming") == [third])
            #expect(Set(try await list(scene.caseworker, "direction=outgoing")) == [first, second, third])
            #expect(try await list(scene.caseworker, "direction=outgoing&status=accepted") == [second])
            #expect(try await list(scene.caseworker, "direction=incoming") == [])
            #expect(Set(try await list(scene.supervisor, "direction=outgoing")) == [first, second, third])
            #expect(try await list(unassigned, "direction=outgoing") == [], "a caseworker's outbox is their own cases'")
            #expect(try await list(scene.senderPartner, "direction=outgoing") == [],
                    "the sending organisation's partner users work no case: no more than a caseworker who works none of them")

            // Incoming items never carry the case id, the consent or the sender's note; they name
            // both organisations, never the person who sent them.
            let inbox = try await CaseKit.call(client, .get, "/v1/referrals?direction=incoming", scene.partner.token)
            for item in try inbox.jsonArray() {
                #expect(item["case_id"] == nil && item["consent_id"] == nil, "\(item)")
                #expect((item["from_organisation_name"] as? String)?.isEmpty == false, "\(item)")
                #expect((item["to_organisation_name"] as? String)?.isEmpty == false, "\(item)")
                #expect(item["from_user_name"] == nil || item["from_user_name"] is NSNull, "the recipient is not told who sent it: \(item)")
                #expect(item["case"] == nil, "lists never carry the shared case")
            }
            CaseKit.expectAbsent([scene.caseID.uuidString, scene.caseID.uuidString.lowercased()], in: inbox.text, "recipient's inbox")

            // The sender's colleagues read who sent each one, by name.
            let outbox = try await CaseKit.call(client, .get, "/v1/referrals?direction=outgoing", scene.supervisor.token)
            for item in try outbox.jsonArray() {
                #expect((item["from_user_name"] as? String)?.isEmpty == false, "\(item)")
                #expect(item["from_organisation_name"] as? String == (try inbox.jsonArray().first?["from_organisation_name"] as? String), "\(item)")
            }

            // Paging the outbox.
            let page = try await CaseKit.call(client, .get, "/v1/referrals?direction=outgoing&limit=2", scene.caseworker.token)
            let cursor = try #require(try page.json()["next_cursor"] as? String, "\(page.text)")
            let rest = try await CaseKit.call(client, .get, "/v1/referrals?direction=outgoing&limit=2&cursor=\(cursor)", scene.caseworker.token)
            let walked = try CaseKit.ids(page) + CaseKit.ids(rest)
            #expect(walked.count == 3 && Set(walked) == [first, second, third])

            for (query, field) in [("direction=sideways", "direction"), ("status=lost", "status"), ("limit=-1", "limit")] {
                CaseKit.expectProblem(try await CaseKit.call(client, .get, "/v1/referrals?\(query)", scene.partner.token), .badRequest, field: field)
            }
        }
    }

    @Test("the lapsed-consent sweep before a list locks no referral whose consent still holds, so lists never block transitions")
    func sweepLocksOnlyLapsed() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let open = [try await Self.refer(client, scene), try await Self.refer(client, scene)]
            let sweeper = try app.database.connect(as: DatabaseSetup.ownerRole)
            try sweeper.run(script: "BEGIN")
            _ = try sweeper.query("SELECT id FROM haven_end_lapsed_referrals_of($1, $2) AS id", [scene.shelter, scene.partner.id])
            // While the sweep's transaction is open, another session can still lock each referral.
            let other = try app.database.connect(as: DatabaseSetup.ownerRole)
            for id in open {
                try other.run(script: "BEGIN")
                #expect(throws: Never.self, "referral \(id) was locked by the sweep") {
                    _ = try other.query("SELECT id FROM referral WHERE id = $1 FOR UPDATE NOWAIT", [id])
                }
                try other.run(script: "ROLLBACK")
            }
            try sweeper.run(script: "ROLLBACK")
            #expect(try CaseKit.count(app, "referral", where: "status = 'requested' AND id IN ($1, $2)", [open[0], open[1]]) == 2)
        }
    }
}
