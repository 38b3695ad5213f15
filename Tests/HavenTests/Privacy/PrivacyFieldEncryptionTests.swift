import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Sealing
import Testing

/// Identifying fields and free text are sealed at rest (S11): nothing of them reaches the
/// database in clear, each ciphertext names its key and has a fresh nonce, a ciphertext moved
/// to another record or read with a missing or wrong key is a clear error (never garbage), and
/// keys rotate.
@Suite("Privacy: field encryption and key rotation")
struct PrivacyFieldEncryptionTests {
    /// Everything secret a case's life puts into the database, and the case it lives on.
    struct Life: Sendable {
        var caseID: UUID
        var reference: String
        var referralID: UUID
        var grantID: UUID
        var secrets: [String]
        var person: CaseKit.Person
        var dateOfBirth: String
        var caseNote: String
        var needNote: String
        var sessionNote: String
        var referralNote: String
        var transitionNote: String
        var breakGlassReason: String
        var reviewNote: String
    }

    /// A case with every sealed kind of data: identity (through an idempotent intake, whose
    /// cached answer holds it too), case note, need note, counselling session note, referral
    /// note, transition note, break-glass reason and review note. Sent through `client`,
    /// which may serve another key ring than `app`.
    static func live(
        _ app: TestApp, _ client: any TestClientProtocol, caseworker: CaseKit.Member, supervisor: CaseKit.Member,
        partner: CaseKit.Member, outsider: CaseKit.Member, shelter: UUID
    ) async throws -> Life {
        let person = CaseKit.Person()
        let tag = person.tag
        let dateOfBirth = "1999-11-23"
        let caseNote = "casenotezq\(tag)", needNote = "neednotezq\(tag)", sessionNote = "sessionnotezq\(tag)"
        let referralNote = "referralnotezq\(tag)", transitionNote = "transitionnotezq\(tag)"
        let breakGlassReason = "night emergency breakglasszq\(tag)", reviewNote = "reviewnotezq\(tag)"
        var body = CaseKit.intake(person, note: caseNote)
        var profile = body["person"] as? [String: Any] ?? [:]
        var identity = person.identity
        identity["date_of_birth"] = dateOfBirth
        profile["identity"] = identity
        body["person"] = profile
        let intake = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, body, headers: ["Idempotency-Key": "sealed-\(tag)"])
        #expect(intake.status == .created, "intake: \(intake.text)")
        let caseID = try CaseKit.id(intake)
        let reference = try #require(try intake.json()["reference"] as? String)
        let base = "/v1/cases/\(caseID.uuidString)"
        let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                            ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": needNote])
        _ = try await CaseKit.create(client, caseworker.token, base + "/services", [
            "type": "counselling",
            "detail": ["counselling": [["date": CaseKit.daysAgo(2), "counsellor": "Counsellor Z", "minutes": 45, "modality": "individual", "note": sessionNote]]],
        ] as [String: Any])
        let consent = try await CaseKit.create(client, caseworker.token, base + "/consents",
                                               CaseKit.consent(to: [shelter], categories: ["profile", "needs", "identity", "contact", "notes"]))
        let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
            "to_organisation": shelter.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
            "shared_categories": ["profile", "needs", "identity", "contact", "notes"], "note": referralNote,
        ] as [String: Any])
        let accepted = try await CaseKit.transition(client, partner.token, referral, ["to": "accepted", "note": transitionNote])
        #expect(accepted.status == .ok, "accept: \(accepted.text)")
        let grant = try await CaseKit.create(client, outsider.token, base + "/break-glass", ["reason": breakGlassReason])
        let review = try await CaseKit.call(client, .post, "/v1/break-glass/\(grant.uuidString)/review", supervisor.token, ["note": reviewNote])
        #expect(review.status == .ok, "review: \(review.text)")
        let secrets = person.identifyingValues + [dateOfBirth, caseNote, needNote, sessionNote, referralNote, transitionNote, breakGlassReason, reviewNote]
        return Life(caseID: caseID, reference: reference, referralID: referral, grantID: grant, secrets: secrets, person: person,
                    dateOfBirth: dateOfBirth, caseNote: caseNote, needNote: needNote, sessionNote: sessionNote, referralNote: referralNote,
                    transitionNote: transitionNote, breakGlassReason: breakGlassReason, reviewNote: reviewNote)
    }

    struct Cast: Sendable {
        var org: Organisation
        var shelter: Organisation
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var partner: CaseKit.Member
        var outsider: CaseKit.Member
    }

    static func cast(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Cast {
        let org = try await app.organisation(country: "MD")
        let shelter = try await app.organisation(type: .shelter, country: "MD", services: [.safeAccommodation])
        let foreign = try await app.organisation(country: "RO")
        return Cast(org: org, shelter: shelter,
                    caseworker: try await CaseKit.member(app, client, .caseworker, in: org.id),
                    supervisor: try await CaseKit.member(app, client, .supervisor, in: org.id),
                    partner: try await CaseKit.member(app, client, .partner, in: shelter.id),
                    outsider: try await CaseKit.member(app, client, .supervisor, in: foreign.id))
    }

    /// Reads everything sealed back through `client` and checks it is what was written.
    static func expectReadable(_ life: Life, _ client: any TestClientProtocol, _ cast: Cast, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let base = "/v1/cases/\(life.caseID.uuidString)"
        let read = try await CaseKit.call(client, .get, base, cast.caseworker.token)
        #expect(read.status == .ok, "read: \(read.text)", sourceLocation: sourceLocation)
        let identity = PrivacyKit.object(PrivacyKit.object(try read.json()["person"])["identity"])
        #expect(identity["given_name"] as? String == life.person.givenName, "\(read.text)", sourceLocation: sourceLocation)
        #expect(identity["date_of_birth"] as? String == life.dateOfBirth, sourceLocation: sourceLocation)
        #expect(try read.json()["note"] as? String == life.caseNote, sourceLocation: sourceLocation)
        let needs = try await CaseKit.call(client, .get, base + "/needs", cast.caseworker.token)
        #expect(try needs.jsonArray().first?["note"] as? String == life.needNote, "\(needs.text)", sourceLocation: sourceLocation)
        let services = try await CaseKit.call(client, .get, base + "/services", cast.caseworker.token)
        #expect(services.text.contains(life.sessionNote), "\(services.text)", sourceLocation: sourceLocation)
        let referral = try await CaseKit.call(client, .get, "/v1/referrals/\(life.referralID.uuidString)", cast.caseworker.token)
        #expect(try referral.json()["note"] as? String == life.referralNote, "\(referral.text)", sourceLocation: sourceLocation)
        let history = try await CaseKit.call(client, .get, "/v1/referrals/\(life.referralID.uuidString)/history", cast.caseworker.token)
        #expect(history.text.contains(life.transitionNote), "\(history.text)", sourceLocation: sourceLocation)
        let grant = try await CaseKit.call(client, .get, "/v1/break-glass/\(life.grantID.uuidString)", cast.supervisor.token)
        #expect(try grant.json()["reason"] as? String == life.breakGlassReason, "\(grant.text)", sourceLocation: sourceLocation)
        #expect(try grant.json()["review_note"] as? String == life.reviewNote, "\(grant.text)", sourceLocation: sourceLocation)
    }

    static func expectUndecryptable(_ response: TestResponse, hiding secrets: [String], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(response.status == .internalServerError, "\(what): \(response.status.code) \(response.text)", sourceLocation: sourceLocation)
        #expect(response.isProblem, "\(what): \(response.text)", sourceLocation: sourceLocation)
        #expect(PrivacyKit.problemType(response) == "/problems/undecryptable", "\(what): \(response.text)", sourceLocation: sourceLocation)
        CaseKit.expectAbsent(secrets + [PrivacyKit.k1Material, PrivacyKit.k2Material], in: response.text, what, sourceLocation: sourceLocation)
    }

    // MARK: Nothing in clear

    @Test("pg_dump of the database after a whole case's life holds no identifying value or note, in clear, hex or base64")
    func pgDumpHoldsNoSecret() async throws {
        try await TestApp.run { app, client in
            let cast = try await Self.cast(app, client)
            let life = try await Self.live(app, client, caseworker: cast.caseworker, supervisor: cast.supervisor, partner: cast.partner,
                                           outsider: cast.outsider, shelter: cast.shelter.id)
            try await Self.expectReadable(life, client, cast)
            let dump = try PrivacyKit.pgDump(app)
            // The dump is real: it holds the case's row (its pseudonymous reference is in clear).
            #expect(dump.contains("COPY public.case_file"), "dump: \(dump.prefix(300))")
            #expect(dump.contains(life.reference), "the dump holds the case row")
            #expect(dump.contains("COPY public.session_note") && dump.contains("COPY public.break_glass_grant"))
            for secret in life.secrets {
                for (form, encoded) in PrivacyKit.encodings(of: secret) where dump.contains(encoded) {
                    Issue.record("pg_dump holds \(secret) (\(form): \(encoded))")
                }
            }
        }
    }

    // MARK: Ciphertext form

    @Test("a sealed value names its key and has a fresh nonce: the same identity sealed twice gives different bytes")
    func keyIDAndFreshNonce() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let person = CaseKit.Person()
            let first = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
            let second = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
            let sealed = try PrivacyKit.bytes(app, "SELECT identity_sealed FROM case_file WHERE id = ANY($1::uuid[]) ORDER BY created_at",
                                              [PGTextArray([first.id.uuidString, second.id.uuidString])]).compactMap { $0 }
            try #require(sealed.count == 2)
            let current = TestKeys.ring.currentKeyID
            #expect(current == "k2")
            for value in sealed {
                #expect(value.first == 0x01, "version byte")
                #expect(Int(value[1]) == current.utf8.count)
                #expect(Array(value[2..<(2 + current.utf8.count)]) == Array(current.utf8), "the key id follows in clear")
                #expect(try KeyRing.keyID(of: value) == current)
                #expect(value.count > 2 + current.utf8.count + 12 + 16, "nonce, ciphertext and tag follow")
                let name = Array(person.givenName.utf8)
                #expect(!(0...(value.count - name.count)).contains { Array(value[$0..<($0 + name.count)]) == name }, "no name bytes in the ciphertext")
            }
            let nonceRange = (2 + current.utf8.count)..<(2 + current.utf8.count + 12)
            #expect(Array(sealed[0][nonceRange]) != Array(sealed[1][nonceRange]), "each sealing draws a new nonce")
            #expect(sealed[0] != sealed[1], "the same identity sealed twice differs")

            // The same text sealed twice under one label: different bytes, both open to it.
            let label = "case:\(first.id.uuidString.lowercased()):note"
            let a = try #require(try FieldSealing.sealText("same words", label, keys: TestKeys.ring))
            let b = try #require(try FieldSealing.sealText("same words", label, keys: TestKeys.ring))
            #expect(a != b)
            #expect(Array(a[nonceRange]) != Array(b[nonceRange]))
            #expect(try FieldSealing.openText(a, label, keys: TestKeys.ring) == "same words")
            #expect(try FieldSealing.openText(b, label, keys: TestKeys.ring) == "same words")
        }
    }

    // MARK: Moved or changed ciphertexts

    @Test("an identity, a note or a need note moved to another record fails to open: 500 undecryptable, never the other record's data")
    func swappedCiphertext() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let alice = CaseKit.Person(), bob = CaseKit.Person()
            let a = try await CaseKit.createCase(client, caseworker, CaseKit.intake(alice, note: "note of alice \(alice.tag)"))
            let b = try await CaseKit.createCase(client, caseworker, CaseKit.intake(bob, note: "note of bob \(bob.tag)"))
            let secrets = alice.identifyingValues + bob.identifyingValues + ["note of alice \(alice.tag)", "note of bob \(bob.tag)"]
            let pathB = "/v1/cases/\(b.id.uuidString)"
            let before = try await CaseKit.call(client, .get, pathB, caseworker.token)
            #expect(before.status == .ok && before.text.contains(bob.givenName))
            let original = try PrivacyKit.bytes(app, "SELECT identity_sealed FROM case_file WHERE id = $1", [b.id])[0]

            // Alice's sealed identity copied into Bob's row.
            #expect(try PrivacyKit.execute(app, "UPDATE case_file SET identity_sealed = (SELECT identity_sealed FROM case_file WHERE id = $1) WHERE id = $2", [a.id, b.id]) == 1)
            Self.expectUndecryptable(try await CaseKit.call(client, .get, pathB, caseworker.token), hiding: secrets, "moved identity")
            let readA = try await CaseKit.call(client, .get, "/v1/cases/\(a.id.uuidString)", caseworker.token)
            #expect(readA.status == .ok && readA.text.contains(alice.givenName), "the original still opens where it belongs")

            // A flipped byte in Bob's own ciphertext.
            var tampered = try #require(original)
            tampered[tampered.count - 20] ^= 0x01
            _ = try PrivacyKit.execute(app, "UPDATE case_file SET identity_sealed = $1 WHERE id = $2", [tampered, b.id])
            Self.expectUndecryptable(try await CaseKit.call(client, .get, pathB, caseworker.token), hiding: secrets, "tampered identity")

            // Bob's identity back; Alice's note copied over Bob's.
            _ = try PrivacyKit.execute(app, "UPDATE case_file SET identity_sealed = $1 WHERE id = $2", [original, b.id])
            #expect(try await CaseKit.call(client, .get, pathB, caseworker.token).status == .ok)
            _ = try PrivacyKit.execute(app, "UPDATE case_file SET note_sealed = (SELECT note_sealed FROM case_file WHERE id = $1) WHERE id = $2", [a.id, b.id])
            Self.expectUndecryptable(try await CaseKit.call(client, .get, pathB, caseworker.token), hiding: secrets, "moved case note")

            // One need's note copied onto another need of the same case.
            let needs = "/v1/cases/\(a.id.uuidString)/needs"
            let first = try await CaseKit.create(client, caseworker.token, needs, ["domain": "health", "service_type": "medical", "priority": "normal", "note": "first need \(alice.tag)"])
            let second = try await CaseKit.create(client, caseworker.token, needs, ["domain": "health", "service_type": "medical", "priority": "normal", "note": "second need \(alice.tag)"])
            #expect(try await CaseKit.call(client, .get, needs, caseworker.token).status == .ok)
            _ = try PrivacyKit.execute(app, "UPDATE need SET note_sealed = (SELECT note_sealed FROM need WHERE id = $1) WHERE id = $2", [first, second])
            let list = try await CaseKit.call(client, .get, needs, caseworker.token)
            Self.expectUndecryptable(list, hiding: secrets + ["first need \(alice.tag)"], "moved need note")
        }
    }

    @Test("a transition note moved to another transition of the same referral fails to open")
    func swappedTransitionNote() async throws {
        try await TestApp.run { app, client in
            let cast = try await Self.cast(app, client)
            let caseID = try await CaseKit.createCase(client, cast.caseworker, CaseKit.intake(CaseKit.Person())).id
            let consent = try await CaseKit.create(client, cast.caseworker.token, "/v1/cases/\(caseID.uuidString)/consents",
                                                   CaseKit.consent(to: [cast.shelter.id], categories: ["profile", "needs"]))
            let referral = try await CaseKit.create(client, cast.caseworker.token, "/v1/cases/\(caseID.uuidString)/referrals", [
                "to_organisation": cast.shelter.id.uuidString, "service_type": "safe_accommodation", "consent_id": consent.uuidString,
                "shared_categories": ["profile", "needs"],
            ] as [String: Any])
            #expect(try await CaseKit.transition(client, cast.partner.token, referral, ["to": "received", "note": "first move note"]).status == .ok)
            #expect(try await CaseKit.transition(client, cast.partner.token, referral, ["to": "accepted", "note": "second move note"]).status == .ok)
            let path = "/v1/referrals/\(referral.uuidString)/history"
            let before = try await CaseKit.call(client, .get, path, cast.caseworker.token)
            #expect(before.status == .ok && before.text.contains("second move note"), "\(before.text)")
            // The received transition's note copied over the accepted transition's.
            let moved = try PrivacyKit.execute(app, """
                UPDATE referral_transition SET note_sealed = (SELECT note_sealed FROM referral_transition WHERE referral_id = $1 AND to_status = 'received')
                WHERE referral_id = $1 AND to_status = 'accepted'
                """, [referral])
            #expect(moved == 1)
            let after = try await CaseKit.call(client, .get, path, cast.caseworker.token)
            let notes = try after.jsonArray().compactMap { $0["note"] as? String }
            #expect(after.status == .internalServerError && PrivacyKit.problemType(after) == "/problems/undecryptable",
                    "the accepted transition now shows another transition's note: \(after.status.code) notes \(notes)")
        }
    }

    // MARK: Missing and wrong keys

    @Test("a key ring without the key, or with a wrong key under its id, gives 500 undecryptable (never garbage) and missingKeys names it")
    func missingOrWrongKey() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let person = CaseKit.Person()
            let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person, note: "a note \(person.tag)"))
            let path = "/v1/cases/\(created.id.uuidString)"
            let secrets = person.identifyingValues + ["a note \(person.tag)"]
            #expect(try await CaseKit.call(client, .get, path, caseworker.token).status == .ok)
            #expect(try await KeyRotation.missingKeys(store: app.store) == [])

            // An instance whose key file lacks k2 (the key that sealed the case).
            try await PrivacyKit.withApp(app, keys: PrivacyKit.onlyK1) { store, other in
                Self.expectUndecryptable(try await CaseKit.call(other, .get, path, caseworker.token), hiding: secrets, "missing key")
                // Lists never open sealed data, so they still answer.
                #expect(try await CaseKit.call(other, .get, "/v1/cases", caseworker.token).status == .ok)
                #expect(try await KeyRotation.missingKeys(store: store) == ["k2"])
                do {
                    _ = try await store.transaction(.system) { try CaseStore.find(created.id, keys: store.keys, open: true, on: $0.connection) }
                    Issue.record("a case sealed under k2 opened without k2")
                } catch let StoreError.undecryptable(message) {
                    #expect(message.contains("k2"), "the error names the missing key: \(message)")
                }
            }
            // An instance whose k2 is another key.
            try await PrivacyKit.withApp(app, keys: PrivacyKit.wrongK2) { store, other in
                Self.expectUndecryptable(try await CaseKit.call(other, .get, path, caseworker.token), hiding: secrets, "wrong key")
                #expect(try await KeyRotation.missingKeys(store: store) == [], "the id is there; only the material is wrong")
            }
        }
    }

    // MARK: Rotation

    @Test("rotation: data sealed under k1, then k2 added and rotate run: every sealed value names k2, everything reads back, k1 can go")
    func rotation() async throws {
        try await TestApp.run { app, client in
            let cast = try await Self.cast(app, client)
            // An instance whose key file holds only k1 writes the case's whole life.
            let life = try await PrivacyKit.withApp(app, keys: PrivacyKit.onlyK1) { _, old in
                try await Self.live(app, old, caseworker: cast.caseworker, supervisor: cast.supervisor, partner: cast.partner,
                                    outsider: cast.outsider, shelter: cast.shelter.id)
            }
            let before = try PrivacyKit.keyIDsInUse(app)
            #expect((before["k1"] ?? 0) >= 9, "case data sealed under k1: \(before)")
            let sealedColumns = try PrivacyKit.sealedColumns(app).map { "\($0.table).\($0.column)" }
            for column in ["case_file.identity_sealed", "case_file.note_sealed", "need.note_sealed", "session_note.note_sealed", "referral.note_sealed",
                           "referral_transition.note_sealed", "break_glass_grant.reason_sealed", "break_glass_grant.review_note_sealed",
                           "idempotency_key.response_sealed", "app_user.totp_secret"] {
                #expect(sealedColumns.contains(column), "\(column) among \(sealedColumns)")
            }
            // The key file now holds k1 and k2 (the test ring; k2 newest). Before rotation an
            // instance with only k2 would lack k1.
            let lacking = try await PrivacyKit.withStore(app, keys: PrivacyKit.onlyK2) { store in
                try await KeyRotation.missingKeys(store: store)
            }
            #expect(lacking == ["k1"])
            try await Self.expectReadable(life, client, cast)

            let changed = try await KeyRotation.rotate(store: app.store, logger: TestApp.logger)
            #expect(changed >= before["k1"] ?? 0, "re-sealed \(changed) values")
            let after = try PrivacyKit.keyIDsInUse(app)
            #expect(Set(after.keys) == ["k2"], "every sealed value names k2 after rotation: \(after)")
            #expect(after.values.reduce(0, +) == before.values.reduce(0, +), "no sealed value lost: \(before) → \(after)")
            #expect(try PrivacyKit.auditCount(app, subtype: "keys.rotate") == 1)
            try await Self.expectReadable(life, client, cast)

            // k1 can leave the key file: an instance with only k2 reads everything, and the blind
            // index (re-made under k2) still finds the same person.
            try await PrivacyKit.withApp(app, keys: PrivacyKit.onlyK2) { store, new in
                #expect(try await KeyRotation.missingKeys(store: store) == [])
                try await Self.expectReadable(life, new, cast)
                var again = CaseKit.intake(life.person)
                var profile = again["person"] as? [String: Any] ?? [:]
                profile["identity"] = life.person.identity
                again["person"] = profile
                let duplicate = try await CaseKit.call(new, .post, "/v1/cases", cast.caseworker.token, again)
                #expect(duplicate.status == .created)
                let hint = PrivacyKit.object(try duplicate.json()["duplicates"])
                #expect(hint["same_organisation"] as? [String] == [life.reference], "blind index after rotation: \(duplicate.text)")
            }
            // Rotating again finds nothing left under an old key.
            _ = try await KeyRotation.rotate(store: app.store, logger: TestApp.logger)
            #expect(Set(try PrivacyKit.keyIDsInUse(app).keys) == ["k2"])
        }
    }
}
