import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// What a referral's recipient sees: the case reduced to the consented categories, only while
/// the referral is open and its consent holds (S2, S15, S16).
@Suite("Cases: the partner's view")
struct CasesPartnerViewTests {
    struct Scene {
        var person: CaseKit.Person
        var caseworker: CaseKit.Member
        var partner: CaseKit.Member
        var shelter: UUID
        var caseID: UUID
        var reference: String
        var needID: UUID
        var caseNote: String
        var needNote: String
        var sessionNote: String
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation(type: .ngo)
        let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let person = CaseKit.Person()
        let caseNote = "casenoteqx\(person.tag)"
        let needNote = "neednoteqx\(person.tag)"
        let sessionNote = "sessionnoteqx\(person.tag)"
        let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person, note: caseNote))
        let needID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(created.id.uuidString)/needs",
                                              ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": needNote])
        _ = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(created.id.uuidString)/services", [
            "type": "counselling", "detail": ["counselling": [["date": CaseKit.daysAgo(2), "counsellor": "Counsellor Z", "minutes": 45,
                                                               "modality": "individual", "note": sessionNote]]],
        ] as [String: Any])
        return Scene(person: person, caseworker: caseworker, partner: partner, shelter: shelter.id, caseID: created.id, reference: created.reference,
                     needID: needID, caseNote: caseNote, needNote: needNote, sessionNote: sessionNote)
    }

    /// A consent for `categories` to the shelter and a referral sharing them.
    static func refer(_ client: any TestClientProtocol, _ scene: Scene, _ categories: [String], note: String? = nil,
                      expiresAt: Date? = nil) async throws -> (referral: UUID, consent: UUID) {
        let consent = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/consents",
                                               CaseKit.consent(to: [scene.shelter], categories: categories, expiresAt: expiresAt))
        var body: [String: Any] = ["to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString,
                                   "consent_id": consent.uuidString, "shared_categories": categories]
        if let note { body["note"] = note }
        let referral = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/referrals", body)
        return (referral, consent)
    }

    static func partnerRead(_ client: any TestClientProtocol, _ scene: Scene, _ referral: UUID) async throws -> TestResponse {
        let response = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)", scene.partner.token)
        #expect(response.status == .ok, "\(response.text)")
        return response
    }

    @Test("with profile and needs shared, no name, contact, document or note appears anywhere in the partner's answer")
    func profileAndNeedsOnly() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let referralNote = "referralnoteqx\(scene.person.tag)"
            let (referral, _) = try await Self.refer(client, scene, ["profile", "needs"], note: referralNote)
            let response = try await Self.partnerRead(client, scene, referral)
            let body = try response.json()
            let shared = try #require(body["case"] as? [String: Any], "an open referral shows the consented case: \(response.text)")
            #expect(shared["reference"] as? String == scene.reference)
            #expect(shared["case_type"] as? String == "trafficking")
            let person = try #require(shared["person"] as? [String: Any])
            #expect(person["sex"] as? String == "female")
            #expect(person["citizenship"] as? String == "MD")
            #expect(person["identity"] == nil)
            #expect((shared["trafficking"] as? [String: Any])?["months_exploited"] as? Int == 7)
            let needs = try #require(shared["needs"] as? [[String: Any]])
            #expect(needs.count == 1 && needs.first?["service_type"] as? String == "safe_accommodation")
            #expect(needs.first?["note"] == nil, "notes were not shared")
            #expect(shared["services"] == nil, "services were not shared")
            #expect(shared["note"] == nil)
            #expect(body["case_id"] == nil && body["consent_id"] == nil && body["need_id"] == nil, "\(response.text)")
            #expect(body["note"] == nil, "the referral's note travels only with notes shared")
            CaseKit.expectAbsent(scene.person.identifyingValues + [scene.caseNote, scene.needNote, scene.sessionNote, referralNote],
                                 in: response.text, "partner's view with profile and needs")
            CaseKit.expectAbsent(scene.person.identifyingValues, in: response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n"), "headers")
            #expect(response.headers[.cacheControl] == "no-store")
        }
    }

    @Test("with contact shared the phone and address appear, never the names or documents")
    func contactOnly() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let (referral, _) = try await Self.refer(client, scene, ["contact"])
            let response = try await Self.partnerRead(client, scene, referral)
            let shared = try #require(try response.json()["case"] as? [String: Any], "\(response.text)")
            let identity = (shared["person"] as? [String: Any])?["identity"] as? [String: Any]
            #expect((identity?["contact"] as? [String: Any])?["phone"] as? String == scene.person.phone, "\(response.text)")
            #expect(response.text.contains(scene.person.phone))
            #expect(response.text.contains(scene.person.address))
            CaseKit.expectAbsent([scene.person.givenName, scene.person.familyName, scene.person.alias, scene.person.documentNumber,
                                  scene.caseNote, scene.needNote, scene.sessionNote], in: response.text, "partner's view with contact")
            #expect(shared["case_type"] == nil && shared["trafficking"] == nil && shared["needs"] == nil, "only contact was shared: \(response.text)")
        }
    }

    @Test("with identity shared the names appear but not the contact; with notes the notes travel")
    func identityAndNotes() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let (identityReferral, _) = try await Self.refer(client, scene, ["identity"])
            let identity = try await Self.partnerRead(client, scene, identityReferral)
            #expect(identity.text.contains(scene.person.givenName) && identity.text.contains(scene.person.familyName))
            #expect(identity.text.contains(scene.person.documentNumber))
            CaseKit.expectAbsent([scene.person.phone, scene.person.email, scene.person.address, scene.caseNote], in: identity.text, "partner's view with identity")

            let referralNote = "referralnoteqx\(scene.person.tag)"
            let (notesReferral, _) = try await Self.refer(client, scene, ["notes", "needs", "services"], note: referralNote)
            let notes = try await Self.partnerRead(client, scene, notesReferral)
            for value in [scene.caseNote, scene.needNote, scene.sessionNote, referralNote] {
                #expect(notes.text.contains(value), "\(value) shared under notes: \(notes.text)")
            }
            CaseKit.expectAbsent(scene.person.identifyingValues, in: notes.text, "partner's view with notes")
        }
    }

    @Test("an ended referral shows its recipient the status line, not the note or the case the consent released")
    func endedReferralKeepsNothingReleased() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let referralNote = "referralnoteqx\(scene.person.tag)"
            let (referral, _) = try await Self.refer(client, scene, ["notes", "needs"], note: referralNote)
            #expect(try await Self.partnerRead(client, scene, referral).text.contains(referralNote), "open, with notes shared, the note travels")
            let cancelled = try await CaseKit.transition(client, scene.caseworker.token, referral, ["to": "cancelled", "reason": "client-declined"])
            #expect(cancelled.status == .ok, "\(cancelled.text)")
            let ended = try await Self.partnerRead(client, scene, referral)
            let body = try ended.json()
            #expect(body["status"] as? String == "cancelled")
            #expect(body["case_reference"] as? String == scene.reference)
            #expect(body["note"] == nil && body["case"] == nil, "\(ended.text)")
            CaseKit.expectAbsent([referralNote, scene.needNote, scene.caseNote], in: ended.text, "an ended referral's recipient view")
            // The sender still reads its own note.
            let sender = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)", scene.caseworker.token)
            #expect(sender.text.contains(referralNote))
        }
    }

    @Test("a partner can never list or open cases, even one referred to it")
    func partnerNeverBrowsesCases() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let (referral, _) = try await Self.refer(client, scene, ["profile", "needs", "contact", "identity"])
            #expect(try await Self.partnerRead(client, scene, referral).status == .ok)
            let base = "/v1/cases/\(scene.caseID.uuidString)"
            let list = try await CaseKit.call(client, .get, "/v1/cases", scene.partner.token)
            CaseKit.expectProblem(list, .notFound)
            for path in [base, base + "/needs", base + "/services", base + "/consents", base + "/referrals", base + "/history"] {
                let response = try await CaseKit.call(client, .get, path, scene.partner.token)
                CaseKit.expectProblem(response, .notFound)
                CaseKit.expectAbsent(scene.person.identifyingValues + [scene.reference], in: response.text, "GET \(path) as partner")
            }
            let patch = try await CaseKit.call(client, .patch, base, scene.partner.token, ["risk_level": "low"], headers: ["If-Match": "W/\"1\""])
            CaseKit.expectProblem(patch, .notFound)
        }
    }

    /// Referrals created while the consent is being withdrawn: each is either refused (409) or
    /// cancelled by the withdrawal. None is left open on a withdrawn consent.
    @Test("referrals racing a withdrawal are refused or cancelled, never left open")
    func referralsRacingAWithdrawal() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            for _ in 0..<3 {
                let consent = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/consents",
                                                       CaseKit.consent(to: [scene.shelter], categories: ["profile"]))
                let (shelter, need) = (scene.shelter.uuidString, scene.needID.uuidString)
                let path = "/v1/cases/\(scene.caseID.uuidString)"
                let token = scene.caseworker.token
                let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<3 {
                        group.addTask {
                            let body: [String: Any] = ["to_organisation": shelter, "need_id": need, "consent_id": consent.uuidString, "shared_categories": ["profile"]]
                            return Int(try await CaseKit.call(client, .post, path + "/referrals", token, body).status.code)
                        }
                    }
                    group.addTask { Int(try await CaseKit.call(client, .post, path + "/consents/\(consent.uuidString)/withdraw", token).status.code) * 10 }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
                #expect(statuses.contains(2000), "the withdrawal went through: \(statuses)")
                #expect(statuses.allSatisfy { [201, 409, 2000].contains($0) }, "\(statuses)")
                let open = try CaseKit.count(app, "referral", where: "consent_id = $1 AND status <> 'cancelled'", [consent])
                #expect(open == 0, "referrals left open on a withdrawn consent: \(statuses)")
            }
        }
    }

    /// Closing a case ends its work: open referrals are cancelled (case-closed) and the
    /// recipient no longer sees the case.
    @Test("closing a case cancels its open referrals (case-closed) and the partner loses the case")
    func closingTheCaseEndsItsReferrals() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: scene.caseworker.organisation)
            let (referral, _) = try await Self.refer(client, scene, ["profile", "needs", "contact"])
            #expect(try await CaseKit.transition(client, scene.partner.token, referral, ["to": "accepted"]).status == .ok)
            #expect(try await Self.partnerRead(client, scene, referral).json()["case"] != nil)

            var decisions = try await CaseKit.decideAll(client, scene.caseID, supervisor.token)
            decisions["reason"] = "services-completed"
            let close = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/close", supervisor.token, decisions)
            #expect(close.status == .ok, "\(close.text)")
            let after = try await Self.partnerRead(client, scene, referral)
            let body = try after.json()
            #expect(body["status"] as? String == "cancelled" && body["status_reason"] as? String == "case-closed", "\(after.text)")
            #expect(body["case"] == nil, "no case after closure: \(after.text)")
            CaseKit.expectAbsent(scene.person.identifyingValues, in: after.text, "partner's view after closure")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'referral.transition' AND case_id = $1 AND actor_user = $2",
                                      [scene.caseID, supervisor.id]) == 1)
        }
    }

    @Test("withdrawing consent cancels the referral (consent-withdrawn) and the partner loses the case")
    func withdrawal() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let (referral, consent) = try await Self.refer(client, scene, ["profile", "needs", "contact"])
            let accept = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "accepted"])
            let episode = try #require(try accept.json()["episode_id"] as? String, "\(accept.text)")
            #expect(try await Self.partnerRead(client, scene, referral).json()["case"] != nil)

            let withdraw = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/consents/\(consent.uuidString)/withdraw", scene.caseworker.token)
            #expect(withdraw.status == .ok, "\(withdraw.text)")
            #expect(try withdraw.json()["cancelled_referrals"] as? [String] == [referral.uuidString], "\(withdraw.text)")

            let after = try await Self.partnerRead(client, scene, referral)
            let body = try after.json()
            #expect(body["status"] as? String == "cancelled")
            #expect(body["status_reason"] as? String == "consent-withdrawn")
            #expect(body["case"] == nil, "no case after the consent is withdrawn: \(after.text)")
            CaseKit.expectAbsent(scene.person.identifyingValues, in: after.text, "partner's view after withdrawal")
            let move = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "in-progress"])
            CaseKit.expectProblem(move, .conflict)
            let services = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            #expect(try services.jsonArray().first { $0["id"] as? String == episode }?["status"] as? String == "cancelled")
            let history = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/history", scene.caseworker.token)
            let last = try history.jsonArray().last
            #expect(last?["to"] as? String == "cancelled" && last?["reason"] as? String == "consent-withdrawn", "\(history.text)")
        }
    }

    /// A referral accepted on a consent that then expires: the expiry is moved into the past in
    /// the database, so no test waits for a clock.
    static func expiringReferral(_ app: TestApp, _ client: any TestClientProtocol) async throws -> (scene: Scene, referral: UUID, episode: String) {
        let scene = try await Self.scene(app, client)
        let (referral, consent) = try await Self.refer(client, scene, ["profile", "needs", "contact"], expiresAt: Date().addingTimeInterval(86_400))
        let accept = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "accepted"])
        #expect(accept.status == .ok, "accepted before expiry: \(accept.text)")
        let episode = try #require(try accept.json()["episode_id"] as? String, "\(accept.text)")
        #expect(try await Self.partnerRead(client, scene, referral).json()["case"] != nil, "the case is shared before expiry")
        let expired = try CaseKit.ownerRows(app, "UPDATE consent SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING id::text", [consent])
        #expect(expired.count == 1)
        return (scene, referral, episode)
    }

    @Test("an expired consent cancels the referral (consent-expired) the next time anyone reads it")
    func expiry() async throws {
        try await TestApp.run { app, client in
            let (scene, referral, episode) = try await Self.expiringReferral(app, client)
            // The sender reads first: that is enough to end it.
            let senderRead = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)", scene.caseworker.token)
            #expect(senderRead.status == .ok)
            #expect(try senderRead.json()["status"] as? String == "cancelled", "\(senderRead.text)")
            #expect(try senderRead.json()["status_reason"] as? String == "consent-expired")

            let after = try await Self.partnerRead(client, scene, referral)
            let body = try after.json()
            #expect(body["status"] as? String == "cancelled")
            #expect(body["status_reason"] as? String == "consent-expired")
            #expect(body["case"] == nil, "no case after the consent expired: \(after.text)")
            CaseKit.expectAbsent(scene.person.identifyingValues, in: after.text, "partner's view after expiry")
            let history = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)/history", scene.partner.token)
            let cancellations = try history.jsonArray().filter { $0["to"] as? String == "cancelled" }
            #expect(cancellations.count == 1, "ended once, however often it is read: \(history.text)")
            #expect(cancellations.first?["reason"] as? String == "consent-expired")
            // Haven ended it, not the caseworker whose read noticed: no actor, and the event
            // names the case and its organisation, so the case's trail shows it.
            let events = try CaseKit.ownerRows(app, """
                SELECT coalesce(actor_user::text, '-'), case_id::text, subject_org::text, detail::jsonb->>'from', detail::jsonb->>'reason'
                FROM audit_event WHERE subtype = 'referral.transition' AND entity_id = $1 AND detail::jsonb->>'to' = 'cancelled'
                """, [referral.uuidString.lowercased()])
            #expect(events == [["-", scene.caseID.uuidString.lowercased(), scene.caseworker.organisation.uuidString.lowercased(), "accepted", "consent-expired"]],
                    "\(events)")
            let services = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/services", scene.caseworker.token)
            #expect(try services.jsonArray().first { $0["id"] as? String == episode }?["status"] as? String == "cancelled")
            let consents = try await CaseKit.call(client, .get, "/v1/cases/\(scene.caseID.uuidString)/consents", scene.caseworker.token)
            #expect(try consents.jsonArray().first?["status"] as? String == "expired")
            // An expired consent supports no new referral.
            let consentID = try #require(try consents.jsonArray().first?["id"] as? String)
            let again = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": consentID, "shared_categories": ["profile"],
            ] as [String: Any])
            CaseKit.expectProblem(again, .conflict)
        }
    }

    /// What the service does on a withdrawal for one recipient, written behind its back as the
    /// schema owner: the database's own tests (row security, the referral facts, the sweep) see it.
    @Test("a consent withdrawn in the database for the recipient alone ends its referral and shares nothing more; another recipient's withdrawal does not")
    func withdrawalForTheRecipientInTheDatabase() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let (referral, consent) = try await Self.refer(client, scene, ["profile", "needs", "contact"])
            #expect(try await CaseKit.transition(client, scene.partner.token, referral, ["to": "accepted"]).status == .ok)
            let withdraw = { (recipient: UUID) throws in
                _ = try CaseKit.ownerRows(app, """
                    UPDATE consent SET withdrawn_recipients = withdrawn_recipients
                        || jsonb_build_array(jsonb_build_object('recipient_organisation', $2::text, 'withdrawn_at', now()))
                    WHERE id = $1 RETURNING id::text
                    """, [consent, recipient.uuidString])
            }
            try withdraw(UUID())
            let kept = try await Self.partnerRead(client, scene, referral).json()
            #expect(kept["status"] as? String == "accepted" && kept["case"] != nil, "another organisation's withdrawal ends nothing")

            try withdraw(scene.shelter)
            let after = try await Self.partnerRead(client, scene, referral)
            let body = try after.json()
            #expect(body["status"] as? String == "cancelled" && body["status_reason"] as? String == "consent-withdrawn", "\(after.text)")
            #expect(body["case"] == nil, "no case after the withdrawal: \(after.text)")
            CaseKit.expectAbsent(scene.person.identifyingValues, in: after.text, "partner's view after a withdrawal for it")
        }
    }

    @Test("after expiry the partner, reading first, gets the referral cancelled and no case")
    func expiryReadByPartnerFirst() async throws {
        try await TestApp.run { app, client in
            let (scene, referral, _) = try await Self.expiringReferral(app, client)
            let after = try await Self.partnerRead(client, scene, referral)
            let body = try after.json()
            #expect(body["status"] as? String == "cancelled", "\(after.text)")
            #expect(body["status_reason"] as? String == "consent-expired")
            #expect(body["case"] == nil)
            CaseKit.expectAbsent(scene.person.identifyingValues, in: after.text, "partner's view after expiry")
            // And moving it is refused: it ended.
            let move = try await CaseKit.transition(client, scene.partner.token, referral, ["to": "in-progress"])
            CaseKit.expectProblem(move, .conflict)
        }
    }

    @Test("after expiry the partner's inbox no longer lists the referral as open")
    func expiryInInbox() async throws {
        try await TestApp.run { app, client in
            let (scene, referral, _) = try await Self.expiringReferral(app, client)
            let inbox = try await CaseKit.call(client, .get, "/v1/referrals?direction=incoming", scene.partner.token)
            #expect(inbox.status == .ok)
            let item = try inbox.jsonArray().first { $0["id"] as? String == referral.uuidString }
            #expect(item?["status"] as? String == "cancelled", "the inbox shows a referral whose consent expired as \(item?["status"] ?? "missing")")
            let open = try await CaseKit.call(client, .get, "/v1/referrals?direction=incoming&status=accepted", scene.partner.token)
            #expect(try CaseKit.ids(open).isEmpty, "listed as accepted after its consent expired: \(open.text)")
        }
    }
}
