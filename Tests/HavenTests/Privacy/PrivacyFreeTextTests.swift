import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Every free-text field is sealed like the notes (issue 25): consent purposes, service and
/// referral outcomes (and the outcomes on referral transitions), labour sector, violence
/// location and counsellors' names never reach the database in clear, still read back through
/// the API and the console, go with erasure, and an older database's clear values are sealed at
/// start-up.
@Suite("Privacy: free text sealed at rest")
struct PrivacyFreeTextTests {
    /// Marked synthetic values, one per free-text field.
    struct Marks: Sendable {
        let tag = PrivacyKit.letters(12)
        var labourSector: String { "labourzq\(tag)" }
        var violenceLocation: String { "locationzq\(tag)" }
        var purpose: String { "purposezq\(tag)" }
        var counsellor: String { "Counsellorzq\(tag)" }
        var serviceOutcome: String { "serviceoutcomezq\(tag)" }
        var referralOutcome: String { "referraloutcomezq\(tag)" }
        var all: [String] { [labourSector, violenceLocation, purpose, counsellor, serviceOutcome, referralOutcome] }
    }

    struct Records: Sendable {
        var caseID: UUID
        var serviceID: UUID
        var consentID: UUID
        var referralID: UUID
    }

    /// A case holding a marked value in every free-text field: its profile, a counselling
    /// service with an outcome, a consent, and a referral completed with an outcome.
    static func record(_ marks: Marks, _ client: any TestClientProtocol, _ cast: PrivacyFieldEncryptionTests.Cast) async throws -> Records {
        var body = CaseKit.intake(CaseKit.Person(), caseType: "both")
        var trafficking = PrivacyKit.object(body["trafficking"])
        trafficking["labour_sector"] = marks.labourSector
        body["trafficking"] = trafficking
        var violence = PrivacyKit.object(body["violence"])
        violence["location"] = marks.violenceLocation
        body["violence"] = violence
        let (caseID, _) = try await CaseKit.createCase(client, cast.caseworker, body)
        let base = "/v1/cases/\(caseID.uuidString)"
        let service = try await CaseKit.create(client, cast.caseworker.token, base + "/services", [
            "type": "counselling",
            "detail": ["counselling": [["date": CaseKit.daysAgo(2), "counsellor": marks.counsellor, "minutes": 45, "modality": "individual"]]],
        ] as [String: Any])
        let patched = try await CaseKit.call(client, .patch, base + "/services/\(service.uuidString)", cast.caseworker.token,
                                             ["status": "in_progress", "outcome": marks.serviceOutcome])
        #expect(patched.status == .ok, "service outcome: \(patched.text)")
        // Ending within the week, so the worklist lists it too.
        var consentBody = CaseKit.consent(to: [cast.shelter.id], categories: ["profile", "needs", "services"], expiresAt: Date().addingTimeInterval(3 * 86_400))
        consentBody["provisions"] = [["recipient_organisation": cast.shelter.id.uuidString, "purpose": marks.purpose,
                                      "categories": ["profile", "needs", "services"]]]
        let consent = try await CaseKit.create(client, cast.caseworker.token, base + "/consents", consentBody)
        let referral = try await CaseKit.create(client, cast.caseworker.token, base + "/referrals", [
            "to_organisation": cast.shelter.id.uuidString, "service_type": "safe_accommodation", "consent_id": consent.uuidString,
            "shared_categories": ["profile", "services"],
        ] as [String: Any])
        for move in [["to": "accepted"], ["to": "in-progress"], ["to": "completed", "outcome": marks.referralOutcome]] {
            let moved = try await CaseKit.transition(client, cast.partner.token, referral, move)
            #expect(moved.status == .ok, "\(move): \(moved.text)")
        }
        return Records(caseID: caseID, serviceID: service, consentID: consent, referralID: referral)
    }

    /// Each value reads back where it was written, through the API (and the referral's outcome on the console).
    static func expectReadable(_ marks: Marks, _ records: Records, _ app: TestApp, _ client: any TestClientProtocol,
                               _ cast: PrivacyFieldEncryptionTests.Cast, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let base = "/v1/cases/\(records.caseID.uuidString)"
        let file = try await CaseKit.call(client, .get, base, cast.caseworker.token)
        #expect(PrivacyKit.object(try file.json()["trafficking"])["labour_sector"] as? String == marks.labourSector, "\(file.text)",
                sourceLocation: sourceLocation)
        #expect(PrivacyKit.object(try file.json()["violence"])["location"] as? String == marks.violenceLocation, "\(file.text)",
                sourceLocation: sourceLocation)
        let consent = try await CaseKit.call(client, .get, base + "/consents/\(records.consentID.uuidString)", cast.caseworker.token)
        let provisions = try consent.json()["provisions"] as? [[String: Any]] ?? []
        #expect(provisions.first?["purpose"] as? String == marks.purpose, "\(consent.text)", sourceLocation: sourceLocation)
        let services = try await CaseKit.call(client, .get, base + "/services", cast.caseworker.token)
        let episodes = try services.jsonArray()
        let counselling = try #require(episodes.first { ($0["id"] as? String)?.lowercased() == records.serviceID.uuidString.lowercased() }, "\(services.text)",
                                       sourceLocation: sourceLocation)
        #expect(counselling["outcome"] as? String == marks.serviceOutcome, "\(services.text)", sourceLocation: sourceLocation)
        #expect(services.text.contains(marks.counsellor), "\(services.text)", sourceLocation: sourceLocation)
        // The referral's outcome, copied to the service episode its acceptance started.
        #expect(episodes.contains { $0["outcome"] as? String == marks.referralOutcome }, "\(services.text)", sourceLocation: sourceLocation)
        let referral = try await CaseKit.call(client, .get, "/v1/referrals/\(records.referralID.uuidString)", cast.caseworker.token)
        #expect(try referral.json()["outcome"] as? String == marks.referralOutcome, "\(referral.text)", sourceLocation: sourceLocation)
        let history = try await CaseKit.call(client, .get, "/v1/referrals/\(records.referralID.uuidString)/history", cast.caseworker.token)
        #expect(history.text.contains(marks.referralOutcome), "\(history.text)", sourceLocation: sourceLocation)
        let worklist = try await CaseKit.call(client, .get, "/v1/worklist", cast.caseworker.token)
        #expect(worklist.status == .ok && worklist.text.contains(marks.purpose), "worklist: \(worklist.text.prefix(600))", sourceLocation: sourceLocation)
        let browser = try await ConsoleKit.login(client, cast.caseworker.user)
        let page = try await ConsoleKit.get(client, "/referrals/\(records.referralID.uuidString.lowercased())", cookie: browser.cookie)
        #expect(page.status == .ok && page.text.contains(marks.referralOutcome), "console referral page: \(page.text.prefix(400))",
                sourceLocation: sourceLocation)
    }

    /// Fails for each marked value found in the dump, in any form it could take there.
    static func expectNotInDump(_ values: [String], _ app: TestApp, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dump = try PrivacyKit.pgDump(app)
        #expect(dump.contains("outcome_sealed"), "the dump is of the current schema", sourceLocation: sourceLocation)
        for value in values {
            for (form, encoded) in PrivacyKit.encodings(of: value) {
                #expect(!dump.contains(encoded), "\(value) in the dump (\(form))", sourceLocation: sourceLocation)
            }
        }
    }

    @Test("pg_dump holds none of a case's consent purpose, outcomes, labour sector, violence location or counsellor name; all read back")
    func pgDumpHoldsNoFreeText() async throws {
        try await TestApp.run { app, client in
            let cast = try await PrivacyFieldEncryptionTests.cast(app, client)
            let marks = Marks()
            let records = try await Self.record(marks, client, cast)
            try await Self.expectReadable(marks, records, app, client, cast)
            try Self.expectNotInDump(marks.all, app)
        }
    }

    @Test("erasure takes the consent purpose, outcomes, labour sector, violence location and counsellor name with the identity")
    func erasureTakesTheFreeText() async throws {
        try await TestApp.run { app, client in
            let cast = try await PrivacyFieldEncryptionTests.cast(app, client)
            let marks = Marks()
            let records = try await Self.record(marks, client, cast)
            let erased = try await CaseKit.call(client, .post, "/v1/cases/\(records.caseID.uuidString)/erase", cast.supervisor.token,
                                                ["reason": "subject-request"],
                                                headers: ["X-Reauthenticate": "password \(cast.supervisor.user.password)"])
            #expect(erased.status == .ok, "erase: \(erased.text)")
            // Nothing of it is left, sealed or not: the key would open nothing.
            for (table, column) in [("case_file", "labour_sector_sealed"), ("case_file", "violence_location_sealed"),
                                    ("consent", "purposes_sealed"), ("service_episode", "outcome_sealed"),
                                    ("service_episode", "counsellors_sealed"), ("referral", "outcome_sealed")] {
                let key = table == "case_file" ? "id" : "case_id"
                #expect(try CaseKit.count(app, table, where: "\(key) = $1 AND \(column) IS NOT NULL", [records.caseID]) == 0, "\(table).\(column)")
            }
            #expect(try CaseKit.count(app, "referral_transition", where: "referral_id = $1 AND outcome_sealed IS NOT NULL", [records.referralID]) == 0)
            try Self.expectNotInDump(marks.all, app)
            // What stays (recipients, categories, statuses) still reads, without the free text.
            let consent = try await CaseKit.call(client, .get, "/v1/cases/\(records.caseID.uuidString)/consents/\(records.consentID.uuidString)",
                                                 cast.supervisor.token)
            #expect(consent.status == .ok, "\(consent.text)")
            let provisions = try consent.json()["provisions"] as? [[String: Any]] ?? []
            #expect((provisions.first?["recipient_organisation"] as? String)?.lowercased() == cast.shelter.id.uuidString.lowercased(), "\(consent.text)")
            let purpose = provisions.first?["purpose"] as? String
            #expect(purpose == nil || purpose == "", "\(consent.text)")
            let referral = try await CaseKit.call(client, .get, "/v1/referrals/\(records.referralID.uuidString)", cast.supervisor.token)
            #expect(try referral.json()["status"] as? String == "completed", "\(referral.text)")
            CaseKit.expectAbsent(marks.all, in: referral.text, "referral after erasure")
            let services = try await CaseKit.call(client, .get, "/v1/cases/\(records.caseID.uuidString)/services", cast.supervisor.token)
            CaseKit.expectAbsent(marks.all, in: services.text, "services after erasure")
        }
    }

    @Test("values an older version kept in clear read back, and start-up seals them: then the dump holds none and they still read")
    func startUpSealsWhatWasClear() async throws {
        try await TestApp.run { app, client in
            let cast = try await PrivacyFieldEncryptionTests.cast(app, client)
            let marks = Marks()
            let records = try await Self.record(marks, client, cast)
            // As an older Haven stored them: in the clear columns, nothing sealed.
            let caseID = records.caseID
            _ = try PrivacyKit.execute(app, """
                UPDATE case_file SET labour_sector = $2, labour_sector_sealed = NULL, violence_location = $3, violence_location_sealed = NULL
                WHERE id = $1
                """, [caseID, marks.labourSector, marks.violenceLocation])
            _ = try PrivacyKit.execute(app, """
                UPDATE consent SET purposes_sealed = NULL, provisions = jsonb_build_array(jsonb_build_object(
                    'recipient_organisation', $2::text, 'purpose', $3::text, 'categories', jsonb_build_array('profile', 'needs', 'services')))
                WHERE id = $1
                """, [records.consentID, cast.shelter.id.uuidString.lowercased(), marks.purpose])
            _ = try PrivacyKit.execute(app, """
                UPDATE service_episode SET outcome = $2, outcome_sealed = NULL, counsellors_sealed = NULL,
                    detail = jsonb_set(detail, '{counselling,0,counsellor}', to_jsonb($3::text))
                WHERE id = $1
                """, [records.serviceID, marks.serviceOutcome, marks.counsellor])
            _ = try PrivacyKit.execute(app, """
                UPDATE service_episode SET outcome = $2, outcome_sealed = NULL WHERE case_id = $1 AND referral_id IS NOT NULL
                """, [caseID, marks.referralOutcome])
            _ = try PrivacyKit.execute(app, "UPDATE referral SET outcome = $2, outcome_sealed = NULL WHERE id = $1",
                                       [records.referralID, marks.referralOutcome])
            _ = try PrivacyKit.execute(app, """
                UPDATE referral_transition SET outcome = $2, outcome_sealed = NULL WHERE referral_id = $1 AND to_status = 'completed'
                """, [records.referralID, marks.referralOutcome])
            try await Self.expectReadable(marks, records, app, client, cast)
            // What the dump check looks for is there while it is in clear (as before this change).
            let before = try PrivacyKit.pgDump(app)
            for value in marks.all { #expect(before.contains(value), "\(value) in clear before sealing") }

            let sealed = try await FreeTextSealing.sealClearValues(store: app.store)
            #expect(sealed == 6, "case, consent, two services, referral and its transition: \(sealed)")
            try Self.expectNotInDump(marks.all, app)
            try await Self.expectReadable(marks, records, app, client, cast)
            #expect(try PrivacyKit.auditCount(app, subtype: "keys.seal-free-text") == 1)
            // Once sealed, nothing is left to do.
            #expect(try await FreeTextSealing.sealClearValues(store: app.store) == 0)
        }
    }
}
