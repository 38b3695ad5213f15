import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Case data is never cached (S13), and identifying values never travel in a URL or header
/// (S12) nor land in the audit trail (S7); the case history names fields, not their values.
@Suite("Cases: caching, headers and the audit trail")
struct CasesPrivacyTests {
    @Test("a whole case's life: every answer no-store, no identifying value in Location headers or audit rows, history without values")
    func wholeLife() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let shelter = try await app.organisation(type: .shelter, country: "MD", services: [.safeAccommodation])
            let foreign = try await app.organisation(country: "RO")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
            let outsider = try await CaseKit.member(app, client, .supervisor, in: foreign.id)
            let person = CaseKit.Person()
            let renamed = CaseKit.Person()
            let caseNote = "casenoteqx\(person.tag)"
            let needNote = "neednoteqx\(person.tag)"
            let sessionNote = "sessionnoteqx\(person.tag)"
            let referralNote = "referralnoteqx\(person.tag)"
            let transitionNote = "transitionnoteqx\(person.tag)"
            let outcome = "outcomeqx\(person.tag)"
            var responses: [(String, TestResponse)] = []
            func send(_ label: String, _ method: HTTPRequest.Method, _ path: String, _ token: String, _ body: Any? = nil,
                      headers: [String: String] = [:]) async throws -> TestResponse {
                let response = try await CaseKit.call(client, method, path, token, body, headers: headers)
                responses.append((label, response))
                return response
            }

            let intake = try await send("intake", .post, "/v1/cases", caseworker.token, CaseKit.intake(person, note: caseNote), headers: ["Idempotency-Key": "life-1"])
            #expect(intake.status == .created, "\(intake.text)")
            let caseID = try CaseKit.id(intake)
            let base = "/v1/cases/\(caseID.uuidString)"
            _ = try await send("intake replay", .post, "/v1/cases", caseworker.token, CaseKit.intake(person, note: caseNote), headers: ["Idempotency-Key": "life-1"])
            let read = try await send("read", .get, base, caseworker.token)
            _ = try await send("list", .get, "/v1/cases", caseworker.token)
            let patch = try await send("patch", .patch, base, caseworker.token, [
                "risk_level": "medium", "note": caseNote + " updated",
                "person": ["identity": renamed.identity, "citizenship": "RO", "birth_year": 2001],
            ] as [String: Any], headers: ["If-Match": read.headers[.eTag] ?? ""])
            #expect(patch.status == .ok, "\(patch.text)")
            #expect(patch.text.contains(renamed.familyName))
            let need = try await send("need", .post, base + "/needs", caseworker.token,
                                      ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": needNote])
            let needID = try CaseKit.id(need)
            _ = try await send("needs", .get, base + "/needs", caseworker.token)
            let service = try await send("service", .post, base + "/services", caseworker.token, [
                "type": "counselling", "due_on": CaseKit.daysAgo(1),
                "detail": ["counselling": [["date": CaseKit.daysAgo(2), "counsellor": "Counsellor Q", "minutes": 40, "modality": "remote", "note": sessionNote]]],
            ] as [String: Any])
            _ = try await send("service patch", .patch, base + "/services/\(try CaseKit.id(service).uuidString)", caseworker.token, ["status": "in_progress"])
            _ = try await send("services", .get, base + "/services", caseworker.token)
            _ = try await send("overdue", .get, "/v1/services/overdue", caseworker.token)
            let consent = try await send("consent", .post, base + "/consents", caseworker.token,
                                         CaseKit.consent(to: [shelter.id], categories: ["profile", "needs", "contact", "identity", "notes"]))
            let consentID = try CaseKit.id(consent)
            _ = try await send("consents", .get, base + "/consents", caseworker.token)
            let referral = try await send("referral", .post, base + "/referrals", caseworker.token, [
                "to_organisation": shelter.id.uuidString, "need_id": needID.uuidString, "consent_id": consentID.uuidString,
                "shared_categories": ["profile", "needs", "contact", "identity", "notes"], "note": referralNote,
            ] as [String: Any])
            let referralID = try CaseKit.id(referral)
            let referralPath = "/v1/referrals/\(referralID.uuidString)"
            let partnerRead = try await send("partner read", .get, referralPath, partner.token)
            #expect(partnerRead.text.contains(renamed.givenName), "identity was shared")
            _ = try await send("inbox", .get, "/v1/referrals?direction=incoming", partner.token)
            _ = try await send("accept", .post, referralPath + "/transitions", partner.token, ["to": "accepted", "note": transitionNote])
            _ = try await send("start", .post, referralPath + "/transitions", partner.token, ["to": "in-progress"])
            _ = try await send("complete", .post, referralPath + "/transitions", partner.token, ["to": "completed", "outcome": outcome])
            _ = try await send("referral history", .get, referralPath + "/history", caseworker.token)
            _ = try await send("case referrals", .get, base + "/referrals", caseworker.token)
            let second = try await send("second referral", .post, base + "/referrals", caseworker.token, [
                "to_organisation": shelter.id.uuidString, "need_id": needID.uuidString, "consent_id": consentID.uuidString,
                "shared_categories": ["identity"],
            ] as [String: Any])
            #expect(second.status == .created)
            _ = try await send("withdraw", .post, base + "/consents/\(consentID.uuidString)/withdraw", caseworker.token)
            _ = try await send("partner read after", .get, "/v1/referrals/\(try CaseKit.id(second).uuidString)", partner.token)
            _ = try await send("break-glass", .post, base + "/break-glass", outsider.token, ["reason": "emergency at night, owners unreachable"])
            _ = try await send("break-glass read", .get, base, outsider.token)
            _ = try await send("denied", .get, base, partner.token)
            _ = try await send("close request", .post, base + "/close", caseworker.token, ["reason": "services-completed"])
            _ = try await send("close", .post, base + "/close/approve", supervisor.token, try await CaseKit.decideAll(client, caseID, supervisor.token))
            _ = try await send("reopen", .post, base + "/reopen", supervisor.token, ["reason": "new-needs"])
            let history = try await send("history", .get, base + "/history", supervisor.token)
            #expect(history.status == .ok, "\(history.text)")

            // Cache-Control: no-store on every answer, allowed or not.
            for (label, response) in responses {
                #expect(response.headers[.cacheControl] == "no-store", "\(label): Cache-Control \(response.headers[.cacheControl] ?? "none")")
            }
            // No identifying value in any Location (or any other) header.
            let secrets = person.identifyingValues + renamed.identifyingValues
            let freeText = [caseNote, needNote, sessionNote, referralNote, transitionNote, outcome]
            var locations = 0
            for (label, response) in responses {
                let headers = response.headers.map { "\($0.name.rawName): \($0.value)" }.joined(separator: "\n")
                CaseKit.expectAbsent(secrets + freeText, in: headers, "\(label) headers")
                if let location = response.headers[.location] {
                    locations += 1
                    let pattern = /\/v1\/(cases|referrals|break-glass)(\/[0-9A-Fa-f\-]{36})?(\/(needs|services|consents|referrals))?(\/[0-9A-Fa-f\-]{36})?/
                    #expect(location.wholeMatch(of: pattern) != nil, "\(label): Location \(location) is ids and fixed words only")
                }
            }
            #expect(locations >= 6, "creating answers carry a Location")

            // No identifying value and no free text in the audit trail.
            let rows = try CaseKit.auditTexts(app)
            #expect(rows.count > responses.count, "every read and change was audited (\(rows.count) rows)")
            for row in rows { CaseKit.expectAbsent(secrets + freeText, in: row, "audit_event row") }
            #expect(try CaseKit.count(app, "audit_event", where: "case_id = $1 AND subtype = 'case.read'", [caseID]) >= 2)

            // The history names fields; values only for fields that identify no one.
            CaseKit.expectAbsent(secrets + freeText, in: history.text, "case history")
            let entries = try history.jsonArray()
            let update = try #require(entries.first { $0["event"] as? String == "case.update" }, "\(history.text)")
            let changes = ((update["detail"] as? [String: Any])?["changes"] as? [[String: Any]]) ?? []
            let byField = Dictionary(changes.map { ($0["field"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byField["risk_level"]?["from"] as? String == "high" && byField["risk_level"]?["to"] as? String == "medium", "\(changes)")
            #expect(byField["person.citizenship"]?["from"] as? String == "MD" && byField["person.citizenship"]?["to"] as? String == "RO")
            // With a name, a birth year finds a person: named, never its values.
            #expect(byField["person.birth_year"] != nil && byField["person.birth_year"]?["from"] == nil && byField["person.birth_year"]?["to"] == nil,
                    "\(changes)")
            #expect(byField["person.identity"] != nil && byField["person.identity"]?["from"] == nil && byField["person.identity"]?["to"] == nil, "\(changes)")
            #expect(byField["note"] != nil && byField["note"]?["to"] == nil)
            #expect(update["actor"] as? String == caseworker.id.uuidString)
            #expect(update["at"] is String)
            let events = Set(entries.compactMap { $0["event"] as? String })
            for event in ["case.create", "case.update", "need.create", "service.create", "consent.create", "consent.withdraw",
                          "referral.create", "breakglass.start", "case.close-request", "case.close", "case.reopen"] {
                #expect(events.contains(event), "history shows \(event): \(events.sorted())")
            }
            #expect(entries.contains { $0["event"] as? String == "breakglass.start" && $0["purpose"] as? String == "break-glass"
                    && $0["actor"] as? String == outsider.id.uuidString }, "the break-glass grant shows in the case history")
            #expect(!events.contains("case.read"), "the history lists changes, not reads")
        }
    }

    @Test("no identifying value is accepted in a query string, and lists never echo one")
    func queryStrings() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let person = CaseKit.Person()
            _ = try await CaseKit.createCase(client, supervisor, CaseKit.intake(person))
            // There is no search by name: such parameters are ignored, never matched against sealed data.
            let byName = try await CaseKit.call(client, .get, "/v1/cases?given_name=\(person.givenName)", supervisor.token)
            #expect(byName.status == .ok || byName.status == .badRequest)
            CaseKit.expectAbsent(person.identifyingValues, in: byName.text, "list answer")
            #expect(byName.headers[.cacheControl] == "no-store")
            let rows = try CaseKit.auditTexts(app)
            for row in rows { CaseKit.expectAbsent(person.identifyingValues, in: row, "audit_event row") }
        }
    }
}
