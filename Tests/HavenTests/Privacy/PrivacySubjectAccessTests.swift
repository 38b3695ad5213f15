import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import Sealing
import HummingbirdTesting
import Testing

/// Subject access (the person's whole record, for a re-authenticated supervisor, audited) and
/// erasure on request (S17).
@Suite("Privacy: subject access export and erasure")
struct PrivacySubjectAccessTests {
    struct World: Sendable {
        var org: Organisation
        var shelter: Organisation
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var partner: CaseKit.Member
        var outsider: CaseKit.Member
        var caseID: UUID
        var reference: String
        var referralID: UUID
        var person: CaseKit.Person
        var notes: [String]
    }

    /// A case with a need, a counselling service, a consent and a referral the recipient accepted.
    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> World {
        let org = try await app.organisation(country: "MD")
        let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
        let foreign = try await app.organisation(country: "MD")
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let outsider = try await CaseKit.member(app, client, .supervisor, in: foreign.id)
        let person = CaseKit.Person()
        let notes = ["export case note \(person.tag)", "export need note \(person.tag)", "export session note \(person.tag)",
                     "export referral note \(person.tag)", "export move note \(person.tag)"]
        let (caseID, reference) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person, note: notes[0]))
        let base = "/v1/cases/\(caseID.uuidString)"
        let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                            ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": notes[1]])
        _ = try await CaseKit.create(client, caseworker.token, base + "/services", [
            "type": "counselling",
            "detail": ["counselling": [["date": CaseKit.daysAgo(1), "counsellor": "C", "minutes": 30, "modality": "individual", "note": notes[2]]]],
        ] as [String: Any])
        let consent = try await CaseKit.create(client, caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["needs", "profile"]))
        let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
            "to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
            "shared_categories": ["needs", "profile"], "note": notes[3],
        ] as [String: Any])
        #expect(try await CaseKit.transition(client, partner.token, referral, ["to": "accepted", "note": notes[4]]).status == .ok)
        return World(org: org, shelter: shelter, caseworker: caseworker, supervisor: supervisor, partner: partner, outsider: outsider,
                     caseID: caseID, reference: reference, referralID: referral, person: person, notes: notes)
    }

    static func export(_ client: any TestClientProtocol, _ member: CaseKit.Member, _ caseID: UUID, reauthenticate: String?) async throws -> TestResponse {
        try await CaseKit.call(client, .get, "/v1/cases/\(caseID.uuidString)/export", member.token,
                               headers: reauthenticate.map { ["X-Reauthenticate": $0] } ?? [:])
    }

    @Test("a supervisor re-authenticated by TOTP gets the whole record: case with identity, needs, services, consents, referrals with transitions, history; audited as export")
    func exportWholeRecord() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let code = try #require(TestApp.totp(world.supervisor.user, offset: 1))
            let response = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "totp \(code)")
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.cacheControl] == "no-store")
            #expect(response.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            let body = try response.json()
            let file = PrivacyKit.object(body["case"])
            #expect(file["id"] as? String == world.caseID.uuidString)
            #expect(file["reference"] as? String == world.reference)
            let identity = PrivacyKit.object(PrivacyKit.object(file["person"])["identity"])
            #expect(identity["given_name"] as? String == world.person.givenName, "\(response.text.prefix(800))")
            #expect(identity["family_name"] as? String == world.person.familyName)
            #expect(PrivacyKit.object(identity["contact"])["phone"] as? String == world.person.phone)
            #expect(file["note"] as? String == world.notes[0])
            let needs = body["needs"] as? [[String: Any]] ?? []
            #expect(needs.count == 1 && needs.first?["note"] as? String == world.notes[1], "needs: \(needs)")
            // The counselling episode, and the one the accepted referral opened.
            let services = body["services"] as? [[String: Any]] ?? []
            #expect(Set(services.compactMap { $0["type"] as? String }) == ["counselling", "safe_accommodation"], "services: \(services)")
            let counselling = services.first { $0["type"] as? String == "counselling" }
            let sessions = (PrivacyKit.object(counselling?["detail"])["counselling"] as? [[String: Any]]) ?? []
            #expect(sessions.first?["note"] as? String == world.notes[2], "session note: \(services)")
            let consents = body["consents"] as? [[String: Any]] ?? []
            #expect(consents.count == 1 && consents.first?["statistics"] as? Bool == true, "consents: \(consents)")
            let referrals = body["referrals"] as? [[String: Any]] ?? []
            #expect(referrals.count == 1, "referrals: \(referrals)")
            let referral = PrivacyKit.object(referrals.first?["referral"])
            #expect(referral["id"] as? String == world.referralID.uuidString)
            #expect(referral["note"] as? String == world.notes[3])
            let transitions = referrals.first?["transitions"] as? [[String: Any]] ?? []
            #expect(transitions.compactMap { $0["to"] as? String } == ["requested", "accepted"], "transitions: \(transitions)")
            #expect(transitions.last?["note"] as? String == world.notes[4])
            let history = body["history"] as? [[String: Any]] ?? []
            let events = Set(history.compactMap { $0["event"] as? String })
            for event in ["case.create", "need.create", "service.create", "consent.create", "referral.create"] {
                #expect(events.contains(event), "history has \(event): \(events.sorted())")
            }
            #expect(body["exported_at"] is String)

            // Audited as export, by this supervisor, for this case; re-authentication audited too.
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'export' AND case_id = $1 AND actor_user = $2 AND outcome = 'success'",
                                      [world.caseID, world.supervisor.id]) == 1)
            #expect(try PrivacyKit.auditCount(app, subtype: "auth.reauthenticate", actor: world.supervisor.id) == 1)
            for row in try CaseKit.auditTexts(app) { CaseKit.expectAbsent(world.person.identifyingValues + world.notes, in: row, "audit row") }

            // The same TOTP code does not serve twice; the password does as well as a code.
            let replay = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "totp \(code)")
            CaseKit.expectProblem(replay, .unauthorized)
            let byPassword = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "password \(world.supervisor.user.password)")
            #expect(byPassword.status == .ok, "\(byPassword.text)")
            #expect(try PrivacyKit.auditCount(app, subtype: "export", caseID: world.caseID) == 2)
        }
    }

    @Test("no X-Reauthenticate: 401 reauthentication-required; a wrong code or password: 401 and auth.reauthenticate-failed; nothing exported")
    func reauthenticationRequired() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let missing = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: nil)
            CaseKit.expectProblem(missing, .unauthorized)
            #expect(PrivacyKit.problemType(missing) == "/problems/reauthentication-required", "\(missing.text)")
            #expect(missing.problemFields.contains("X-Reauthenticate"))

            let wrongCode = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "totp \(PrivacyKit.wrongTOTP(world.supervisor.user))")
            CaseKit.expectProblem(wrongCode, .unauthorized)
            #expect(PrivacyKit.problemType(wrongCode) == "/problems/reauthentication-failed", "\(wrongCode.text)")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'auth.reauthenticate-failed' AND actor_user = $1 AND outcome = 'denied'",
                                      [world.supervisor.id]) == 1)

            let wrongPassword = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "password not-\(world.supervisor.user.password)")
            CaseKit.expectProblem(wrongPassword, .unauthorized)
            #expect(try PrivacyKit.auditCount(app, subtype: "auth.reauthenticate-failed", actor: world.supervisor.id) == 2)

            let malformed = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "fingerprint please")
            #expect(malformed.status == .badRequest, "\(malformed.text)")

            for response in [missing, wrongCode, wrongPassword, malformed] {
                CaseKit.expectAbsent(world.person.identifyingValues + world.notes + [world.reference], in: response.text, "refused export")
                #expect(response.headers[.contentDisposition] == nil)
            }
            #expect(try PrivacyKit.auditCount(app, subtype: "export") == 0, "nothing was exported")
        }
    }

    /// Someone holding a supervisor's token must not be able to guess the password or code
    /// through re-authentication: failures count towards the account's lockout as at login.
    @Test("wrong re-authentications lock the account: then even the right password is refused, and so is a login")
    func reauthenticationFailuresLock() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let threshold = LockoutPolicy().threshold
            for _ in 0..<threshold {
                let wrong = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "password not-\(world.supervisor.user.password)")
                CaseKit.expectProblem(wrong, .unauthorized)
            }
            #expect(try CaseKit.count(app, "app_user", where: "id = $1 AND locked_until > now()", [world.supervisor.id]) == 1)
            #expect(try PrivacyKit.auditCount(app, subtype: "auth.lockout", actor: world.supervisor.id) == 1)

            let right = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "password \(world.supervisor.user.password)")
            CaseKit.expectProblem(right, .unauthorized)
            #expect(PrivacyKit.problemType(right) == "/problems/reauthentication-failed", "\(right.text)")
            #expect(try PrivacyKit.auditCount(app, subtype: "export") == 0, "nothing was exported")
            var login: [String: String] = ["username": world.supervisor.user.user.username, "password": world.supervisor.user.password]
            login["totp"] = TestApp.totp(world.supervisor.user, offset: 1)
            let refused = try await client.send(.post, "/v1/auth/login", json: login)
            #expect(refused.status == .unauthorized, "\(refused.text)")
        }
    }

    @Test("a caseworker (403) or another organisation's supervisor, a partner, an auditor (404) are refused before any re-authentication")
    func refusedBeforeReauthentication() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let auditor = try await CaseKit.member(app, client, .auditor, in: world.org.id)
            let admin = try await CaseKit.member(app, client, .admin, in: world.org.id)
            let expectations: [(CaseKit.Member, HTTPResponse.Status, String)] = [
                (world.caseworker, .forbidden, "the case's own caseworker"), (world.outsider, .notFound, "another organisation's supervisor"),
                (world.partner, .notFound, "the recipient partner"), (auditor, .notFound, "an auditor"), (admin, .notFound, "an admin"),
            ]
            for (member, status, who) in expectations {
                // Without the header: the policy answers, not the re-authentication step.
                let bare = try await Self.export(client, member, world.caseID, reauthenticate: nil)
                #expect(bare.status == status, "\(who) without X-Reauthenticate: \(bare.status.code) \(bare.text)")
                // With a header (right password, or a wrong code): still the policy, and no attempt recorded.
                let withPassword = try await Self.export(client, member, world.caseID, reauthenticate: "password \(member.user.password)")
                #expect(withPassword.status == status, "\(who) with the right password: \(withPassword.status.code) \(withPassword.text)")
                let withCode = try await Self.export(client, member, world.caseID, reauthenticate: "totp 000000")
                #expect(withCode.status == status, "\(who) with a code: \(withCode.status.code)")
                for response in [bare, withPassword, withCode] {
                    CaseKit.expectAbsent(world.person.identifyingValues + world.notes + [world.reference], in: response.text, "\(who)'s answer")
                }
                #expect(try CaseKit.count(app, "audit_event", where: "subtype LIKE 'auth.reauthenticate%' AND actor_user = $1", [member.id]) == 0,
                        "\(who): no re-authentication was attempted")
                #expect(try CaseKit.deniedCount(app, actor: member.id) >= 3, "\(who): every refusal audited as access.denied")
            }
            #expect(try PrivacyKit.auditCount(app, subtype: "export") == 0)
        }
    }

    @Test("erasure: a supervisor erases identity and notes now, audited as case.erase; a second erase is 409; others are refused")
    func erase() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let path = "/v1/cases/\(world.caseID.uuidString)/erase"
            let byCaseworker = try await CaseKit.call(client, .post, path, world.caseworker.token, ["reason": "subject-request"])
            CaseKit.expectProblem(byCaseworker, .forbidden)
            let byOutsider = try await CaseKit.call(client, .post, path, world.outsider.token, ["reason": "subject-request"])
            CaseKit.expectProblem(byOutsider, .notFound)
            let badReason = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "because"])
            #expect(badReason.status == .unprocessableContent || badReason.status == .badRequest, "\(badReason.text)")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND identity_sealed IS NOT NULL", [world.caseID]) == 1, "nothing erased yet")

            let again = ["X-Reauthenticate": "password \(world.supervisor.user.password)"]
            let erased = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "subject-request"], headers: again)
            #expect(erased.status == .ok, "\(erased.text)")
            let body = try erased.json()
            #expect(PrivacyKit.isAbsent(PrivacyKit.object(body["person"])["identity"]), "\(erased.text)")
            #expect(PrivacyKit.isAbsent(body["note"]))
            #expect(body["anonymised"] as? Bool == true)
            #expect(erased.headers[.cacheControl] == "no-store")
            CaseKit.expectAbsent(world.person.identifyingValues + world.notes, in: erased.text, "erase answer")

            let read = try await CaseKit.call(client, .get, "/v1/cases/\(world.caseID.uuidString)", world.supervisor.token)
            #expect(read.status == .ok)
            CaseKit.expectAbsent(world.person.identifyingValues + world.notes, in: read.text, "case after erasure")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND identity_sealed IS NULL AND note_sealed IS NULL AND blind_index IS NULL", [world.caseID]) == 1)
            #expect(try CaseKit.count(app, "need", where: "case_id = $1 AND note_sealed IS NOT NULL", [world.caseID]) == 0)
            #expect(try CaseKit.count(app, "session_note", where: "case_id = $1", [world.caseID]) == 0)
            #expect(try CaseKit.count(app, "referral", where: "case_id = $1 AND note_sealed IS NOT NULL", [world.caseID]) == 0)
            #expect(try CaseKit.count(app, "referral_transition", where: "referral_id = $1 AND note_sealed IS NOT NULL", [world.referralID]) == 0)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.erase' AND case_id = $1 AND actor_user = $2", [world.caseID, world.supervisor.id]) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.erase' AND (detail::jsonb ->> 'reason') = 'subject-request'") == 1)

            let twice = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "subject-request"], headers: again)
            CaseKit.expectProblem(twice, .conflict)
            #expect(try PrivacyKit.auditCount(app, subtype: "case.erase") == 1)

            // What an export gives after erasure holds nothing identifying either.
            let export = try await Self.export(client, world.supervisor, world.caseID, reauthenticate: "password \(world.supervisor.user.password)")
            #expect(export.status == .ok, "\(export.text)")
            CaseKit.expectAbsent(world.person.identifyingValues + world.notes, in: export.text, "export after erasure")
        }
    }

    @Test("erasure cannot be undone, so like the export it asks for the password or code again: without it, or with a wrong one, 401 and nothing is erased")
    func erasureAsksForReauthentication() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let path = "/v1/cases/\(world.caseID.uuidString)/erase"
            let missing = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "subject-request"])
            CaseKit.expectProblem(missing, .unauthorized)
            #expect(missing.problemFields.contains("X-Reauthenticate"), "\(missing.text)")
            let wrong = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "subject-request"],
                                               headers: ["X-Reauthenticate": "totp \(PrivacyKit.wrongTOTP(world.supervisor.user))"])
            CaseKit.expectProblem(wrong, .unauthorized)
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND identity_sealed IS NOT NULL", [world.caseID]) == 1, "nothing erased")
            #expect(try PrivacyKit.auditCount(app, subtype: "case.erase") == 0)
            #expect(try PrivacyKit.auditCount(app, subtype: "auth.reauthenticate-failed", actor: world.supervisor.id) == 1)
            let code = try #require(TestApp.totp(world.supervisor.user, offset: 1))
            let erased = try await CaseKit.call(client, .post, path, world.supervisor.token, ["reason": "subject-request"],
                                                headers: ["X-Reauthenticate": "totp \(code)"])
            #expect(erased.status == .ok, "\(erased.text)")
            #expect(try PrivacyKit.auditCount(app, subtype: "auth.reauthenticate", actor: world.supervisor.id) == 1)
        }
    }

    @Test("erasure leaves no copy behind: replaying the intake's or the need's Idempotency-Key afterwards gives back no erased value")
    func erasureForgetsCachedAnswers() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let person = CaseKit.Person()
            let note = "cached note \(person.tag)", needNote = "cached need note \(person.tag)"
            let body = CaseKit.intake(person, note: note)
            let intake = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, body, headers: ["Idempotency-Key": "erase-me-1"])
            #expect(intake.status == .created)
            let caseID = try CaseKit.id(intake)
            let needBody: [String: Any] = ["domain": "health", "service_type": "medical", "priority": "normal", "note": needNote]
            let need = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/needs", supervisor.token, needBody, headers: ["Idempotency-Key": "erase-me-2"])
            #expect(need.status == .created)
            let needID = try CaseKit.id(need)
            // Before erasure a retry gets the first answer, as it should.
            let retry = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, body, headers: ["Idempotency-Key": "erase-me-1"])
            #expect(retry.status == .created && retry.text.contains(person.givenName))
            #expect(try CaseKit.id(retry) == caseID, "a replay of the first answer")

            let erased = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/erase", supervisor.token, ["reason": "subject-request"],
                                                headers: ["X-Reauthenticate": "password \(supervisor.user.password)"])
            #expect(erased.status == .ok, "\(erased.text)")
            let secrets = person.identifyingValues + [note, needNote]

            // No first answer kept for retries still holds an erased value (opened with the key ring).
            let kept = try CaseKit.ownerRows(app, "SELECT user_id::text, key, encode(response_sealed, 'hex') FROM idempotency_key WHERE response_sealed IS NOT NULL")
            for row in kept {
                guard let user = row[0], let key = row[1], let hex = row[2], let sealed = Hex.decode(hex) else { continue }
                guard let text = try? FieldSealing.openText(sealed, "idempotency:\(user):\(key)", keys: TestKeys.ring) else {
                    Issue.record("a kept answer (key \(key)) does not open with the key ring; cannot check it")
                    continue
                }
                let leaked = secrets.filter { text.contains($0) }
                #expect(leaked.isEmpty, "the answer kept for Idempotency-Key \(key) still holds \(leaked) after erasure")
            }

            // A retry with the same key never gives the erased case back with its identity or notes
            // (it may create the case afresh from the body it carries: that is a new case).
            let replay = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, body, headers: ["Idempotency-Key": "erase-me-1"])
            if replay.text.contains(caseID.uuidString) {
                let leaked = secrets.filter { replay.text.contains($0) }
                #expect(leaked.isEmpty, "the intake retried after erasure (\(replay.status.code)) gives back the erased case with \(leaked)")
            }
            let needReplay = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/needs", supervisor.token, needBody,
                                                    headers: ["Idempotency-Key": "erase-me-2"])
            if needReplay.text.contains(needID.uuidString) {
                #expect(!needReplay.text.contains(needNote), "the need retried after erasure (\(needReplay.status.code)) gives back its erased note")
            }
        }
    }
}
