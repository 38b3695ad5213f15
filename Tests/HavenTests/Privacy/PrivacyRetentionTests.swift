import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// Closed cases are anonymised after their organisation's retention period (S17): identity
/// and every note erased, statistics kept, an audit event written, nothing else touched.
@Suite("Privacy: retention and anonymisation")
struct PrivacyRetentionTests {
    /// `date` plus `years` on the calendar (29 February becomes 28 February).
    static func adding(years: Int, to date: CalendarDate) -> CalendarDate {
        CalendarDate(year: date.year + years, month: date.month, day: date.day)
            ?? CalendarDate(year: date.year + years, month: date.month, day: date.day - 1)!
    }

    static func dayBefore(_ date: CalendarDate) -> CalendarDate {
        CalendarDate.of(ISO8601DateFormatter().date(from: date.description + "T12:00:00Z")!.addingTimeInterval(-86_400))
    }

    /// Every raw count the case report can break down by, for comparing before and after.
    static func statistics(_ store: Store) async throws -> [String] {
        var lines: [String] = []
        let single: [[CaseDimension]] = CaseDimension.allCases.map { [$0] }
        let pairs: [[CaseDimension]] = [[.caseType, .sex], [.ageBand, .citizenship], [.exploitationType, .sex], [.period, .identificationStatus]]
        for dimensions in single + pairs {
            let table = try await store.transaction(.system) {
                try ReportStore.cases(by: dimensions, organisation: nil, from: nil, to: nil, frozen: false, on: $0.connection)
            }
            lines.append("\(dimensions.map(\.rawValue)): rows \(table.rowKeys) columns \(table.columnKeys) counts \(table.counts) "
                         + "row totals \(table.rowTotals) column totals \(table.columnTotals) total \(table.total)")
        }
        return lines
    }

    @Test("a closed case is due closure date + the organisation's retention years; runDue anonymises it then and not before, statistics unchanged")
    func anonymiseWhenDue() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let later = try await app.organisation(country: "MD")
            let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
            // This organisation keeps closed cases 3 years; the other keeps the default 5.
            #expect(try PrivacyKit.execute(app, "UPDATE organisation SET retention_years = 3 WHERE id = $1", [org.id]) == 1)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let otherSupervisor = try await CaseKit.member(app, client, .supervisor, in: later.id)
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)

            // The case to anonymise, with every kind of note.
            let person = CaseKit.Person()
            let notes = ["casenote \(person.tag)", "neednote \(person.tag)", "sessionnote \(person.tag)", "referralnote \(person.tag)", "movenote \(person.tag)",
                         "referraloutcome \(person.tag)", "serviceoutcome \(person.tag)"]
            let due = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person, note: notes[0]))
            let base = "/v1/cases/\(due.id.uuidString)"
            let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                                ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": notes[1]])
            let service = try await CaseKit.create(client, caseworker.token, base + "/services", [
                "type": "counselling",
                "detail": ["counselling": [["date": CaseKit.daysAgo(1), "counsellor": "C", "minutes": 30, "modality": "individual", "note": notes[2]]]],
            ] as [String: Any])
            // A service's outcome is written when it ends, not when it is planned.
            let ended = try await CaseKit.call(client, .patch, base + "/services/\(service.uuidString)", caseworker.token,
                                               ["status": "completed", "outcome": notes[6]])
            #expect(ended.status == .ok, "\(ended.text)")
            let consent = try await CaseKit.create(client, caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["needs", "profile"]))
            let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals", [
                "to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
                "shared_categories": ["needs", "profile"], "note": notes[3],
            ] as [String: Any])
            #expect(try await CaseKit.transition(client, partner.token, referral, ["to": "accepted", "note": notes[4]]).status == .ok)
            #expect(try await CaseKit.transition(client, partner.token, referral, ["to": "in-progress"]).status == .ok)
            let completed = try await CaseKit.transition(client, partner.token, referral, ["to": "completed", "outcome": notes[5]])
            #expect(completed.status == .ok, "\(completed.text)")

            // An open case, and a closed case of the 5-year organisation, both with statistics consent.
            let openPerson = CaseKit.Person(), laterPerson = CaseKit.Person()
            let open = try await CaseKit.createCase(client, caseworker, CaseKit.intake(openPerson))
            _ = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(open.id.uuidString)/consents", PrivacyKit.statisticsConsent())
            let notYet = try await CaseKit.createCase(client, otherSupervisor, CaseKit.intake(laterPerson, caseType: "both"))
            _ = try await CaseKit.create(client, otherSupervisor.token, "/v1/cases/\(notYet.id.uuidString)/consents", PrivacyKit.statisticsConsent())

            // Close both as supervisors.
            let close = try await CaseKit.call(client, .post, base + "/close", supervisor.token, ["reason": "services-completed"])
            #expect(close.status == .ok, "\(close.text)")
            let closed = try close.json()
            #expect(closed["status"] as? String == "closed")
            let closedAt = try #require(PrivacyKit.date(PrivacyKit.object(closed["closure"])["closed_at"]), "\(close.text)")
            let expectedDue = Self.adding(years: 3, to: CalendarDate.of(closedAt))
            #expect(closed["retention_due"] as? String == expectedDue.description, "retention_due is closure date + 3 years: \(close.text)")
            #expect(try CaseKit.ownerRows(app, "SELECT retention_due::text FROM case_file WHERE id = $1", [due.id])[0][0] == expectedDue.description)
            let closeLater = try await CaseKit.call(client, .post, "/v1/cases/\(notYet.id.uuidString)/close", otherSupervisor.token, ["reason": "transferred"])
            #expect(closeLater.status == .ok, "\(closeLater.text)")
            let laterClosedAt = try #require(PrivacyKit.date(PrivacyKit.object(try closeLater.json()["closure"])["closed_at"]))
            #expect(try closeLater.json()["retention_due"] as? String == Self.adding(years: 5, to: CalendarDate.of(laterClosedAt)).description,
                    "the default is 5 years: \(closeLater.text)")

            let statisticsBefore = try await Self.statistics(app.store)
            let reportBefore = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex", supervisor.token)
            #expect(reportBefore.status == .ok, "\(reportBefore.text)")

            let related = "SELECT (SELECT count(*) FROM need WHERE case_id = $1)::text, (SELECT count(*) FROM service_episode WHERE case_id = $1)::text, "
                + "(SELECT count(*) FROM referral WHERE case_id = $1)::text, (SELECT count(*) FROM consent WHERE case_id = $1)::text, "
                + "(SELECT count(*) FROM referral_transition t JOIN referral r ON r.id = t.referral_id WHERE r.case_id = $1)::text"
            let relatedBefore = try CaseKit.ownerRows(app, related, [due.id])

            // The day before: nothing.
            #expect(try await Retention.runDue(store: app.store, today: Self.dayBefore(expectedDue)) == 0)
            let untouched = try await CaseKit.call(client, .get, base, supervisor.token)
            #expect(untouched.text.contains(person.givenName), "not yet due: \(untouched.text)")

            // On the due date: the case is anonymised, and only it.
            #expect(try await Retention.runDue(store: app.store, today: expectedDue) == 1)
            let read = try await CaseKit.call(client, .get, base, supervisor.token)
            #expect(read.status == .ok, "\(read.text)")
            let body = try read.json()
            #expect(PrivacyKit.isAbsent(PrivacyKit.object(body["person"])["identity"]), "identity gone: \(read.text)")
            #expect(PrivacyKit.isAbsent(body["note"]), "note gone: \(read.text)")
            #expect(body["anonymised"] as? Bool == true)
            #expect(body["case_type"] as? String == "trafficking" && body["status"] as? String == "closed", "the rest stays")
            CaseKit.expectAbsent(person.identifyingValues + notes, in: read.text, "anonymised case")
            for (path, what) in [(base + "/needs", "needs"), (base + "/services", "services"), (base + "/referrals", "referrals"),
                                 ("/v1/referrals/\(referral.uuidString)/history", "referral history")] {
                let response = try await CaseKit.call(client, .get, path, supervisor.token)
                #expect(response.status == .ok, "\(what): \(response.text)")
                CaseKit.expectAbsent(person.identifyingValues + notes, in: response.text, what)
            }
            let columns = try CaseKit.ownerRows(app, """
                SELECT (identity_sealed IS NULL)::text, (note_sealed IS NULL)::text, (blind_index IS NULL)::text, (anonymised_at IS NOT NULL)::text
                FROM case_file WHERE id = $1
                """, [due.id])[0]
            #expect(columns == ["true", "true", "true", "true"], "sealed columns and blind index cleared: \(columns)")
            #expect(try CaseKit.count(app, "need", where: "case_id = $1 AND note_sealed IS NOT NULL", [due.id]) == 0)
            #expect(try CaseKit.count(app, "session_note", where: "case_id = $1", [due.id]) == 0)
            #expect(try CaseKit.count(app, "referral", where: "case_id = $1 AND note_sealed IS NOT NULL", [due.id]) == 0)
            #expect(try CaseKit.count(app, "referral_transition", where: "referral_id = $1 AND note_sealed IS NOT NULL", [referral]) == 0)
            // Outcomes are free text too.
            #expect(try CaseKit.count(app, "referral", where: "case_id = $1 AND outcome IS NOT NULL", [due.id]) == 0)
            #expect(try CaseKit.count(app, "referral_transition", where: "referral_id = $1 AND outcome IS NOT NULL", [referral]) == 0)
            #expect(try CaseKit.count(app, "service_episode", where: "case_id = $1 AND outcome IS NOT NULL", [due.id]) == 0)
            // Nothing else is deleted.
            #expect(try CaseKit.ownerRows(app, related, [due.id]) == relatedBefore, "needs, services, referrals, consents and transitions stay")
            #expect(relatedBefore.first?.first == "1")
            // Audited, by Haven itself, with the retention purpose.
            #expect(try PrivacyKit.auditCount(app, subtype: "case.anonymise", caseID: due.id) == 1)
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.anonymise' AND case_id = $1 AND actor_user IS NULL AND purpose = 'retention'", [due.id]) == 1)
            for row in try CaseKit.auditTexts(app) { CaseKit.expectAbsent(person.identifyingValues + notes, in: row, "audit row") }

            // The open case and the case not yet due are untouched.
            let openRead = try await CaseKit.call(client, .get, "/v1/cases/\(open.id.uuidString)", supervisor.token)
            let openAnonymised = try openRead.json()["anonymised"] as? Bool
            #expect(openRead.text.contains(openPerson.givenName) && openAnonymised == false, "\(openRead.text)")
            let laterRead = try await CaseKit.call(client, .get, "/v1/cases/\(notYet.id.uuidString)", otherSupervisor.token)
            #expect(laterRead.text.contains(laterPerson.givenName), "\(laterRead.text)")

            // Statistics unchanged: every raw count, and the published report.
            let statisticsAfter = try await Self.statistics(app.store)
            #expect(statisticsAfter == statisticsBefore)
            let reportAfter = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex", supervisor.token)
            #expect(reportAfter.text == reportBefore.text, "before \(reportBefore.text)\nafter \(reportAfter.text)")
            #expect(try reportBefore.json()["total"] != nil)

            // A second run finds nothing; an anonymised case cannot be reopened.
            #expect(try await Retention.runDue(store: app.store, today: expectedDue) == 0)
            #expect(try PrivacyKit.auditCount(app, subtype: "case.anonymise") == 1)
            let reopen = try await CaseKit.call(client, .post, base + "/reopen", supervisor.token, ["reason": "new-needs"])
            CaseKit.expectProblem(reopen, .conflict)
        }
    }

    @Test("statistics survive anonymisation of many cases: the report's raw counts by every dimension are equal before and after")
    func statisticsKept() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let seeded = try await PrivacyKit.seed(client, supervisor, count: 6, caseType: "trafficking", sex: "female", birthYear: 2001)
                + (try await PrivacyKit.seed(client, supervisor, count: 5, caseType: "domestic_violence", sex: "male", birthYear: 1980))
            var dueDates: [CalendarDate] = []
            for case_ in seeded.prefix(8) {
                let close = try await CaseKit.call(client, .post, "/v1/cases/\(case_.id.uuidString)/close", supervisor.token, ["reason": "lost-contact"])
                #expect(close.status == .ok, "\(close.text)")
                dueDates.append(try #require(CalendarDate(try close.json()["retention_due"] as? String ?? "")))
            }
            let before = try await Self.statistics(app.store)
            #expect(try await Retention.runDue(store: app.store, today: dueDates.max()!) == 8)
            #expect(try CaseKit.count(app, "case_file", where: "anonymised_at IS NOT NULL") == 8)
            #expect(try CaseKit.count(app, "case_file", where: "identity_sealed IS NOT NULL") == 3)
            let after = try await Self.statistics(app.store)
            for (b, a) in zip(before, after) { #expect(b == a) }
            #expect(try PrivacyKit.auditCount(app, subtype: "case.anonymise") == 8)
        }
    }
}
