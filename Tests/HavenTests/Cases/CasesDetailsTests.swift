import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Needs (with their response times), service episodes with typed detail, the overdue worklist,
/// and consents.
@Suite("Cases: needs, services and consents")
struct CasesDetailsTests {
    static func date(_ text: Any?) -> Date? {
        guard let text = text as? String else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        return ISO8601DateFormatter().date(from: text)
    }

    @Test("needs are due 24 h, 72 h or 14 days after they are recorded, by priority")
    func needsDueTimes() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let path = "/v1/cases/\(caseID.uuidString)/needs"
            let expected: [(String, String, String, TimeInterval)] = [
                ("emergency", "health", "medical", 24 * 3600), ("urgent", "personal", "safe_accommodation", 72 * 3600),
                ("normal", "economic", "reintegration", 14 * 24 * 3600),
            ]
            var created: [UUID] = []
            for (priority, domain, service, interval) in expected {
                let response = try await CaseKit.call(client, .post, path, caseworker.token,
                                                      ["domain": domain, "service_type": service, "priority": priority, "note": "need note \(priority)"])
                #expect(response.status == .created, "\(response.text)")
                let body = try response.json()
                #expect(body["priority"] as? String == priority)
                #expect(body["domain"] as? String == domain)
                #expect(body["service_type"] as? String == service)
                #expect(body["status"] as? String == "open")
                let due = try #require(Self.date(body["due_at"]), "\(response.text)")
                let createdAt = try #require(Self.date(body["created_at"]), "\(response.text)")
                #expect(abs(due.timeIntervalSince(createdAt) - interval) < 120, "\(priority): due \(due) created \(createdAt)")
                created.append(try CaseKit.id(response))
            }
            let list = try await CaseKit.call(client, .get, path, caseworker.token)
            #expect(list.status == .ok)
            let items = try list.jsonArray()
            #expect(items.compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) } == created)
            #expect(items.map { $0["note"] as? String } == ["need note emergency", "need note urgent", "need note normal"])
            #expect(items.allSatisfy { $0["case_id"] as? String == caseID.uuidString })
        }
    }

    @Test("service episodes keep their typed detail: repatriation, counselling sessions with sealed notes, accommodation")
    func typedServiceDetail() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let receiving = try await app.organisation(type: .internationalOrg, country: "RO")
            let shelter = try await app.organisation(type: .shelter)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let path = "/v1/cases/\(caseID.uuidString)/services"
            let need = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/needs",
                                                ["domain": "personal", "service_type": "repatriation", "priority": "urgent"])

            let repatriation = try await CaseKit.call(client, .post, path, caseworker.token, [
                "type": "repatriation", "need_id": need.uuidString, "provider_organisation": org.id.uuidString,
                "start_on": CaseKit.daysAgo(2), "due_on": CaseKit.daysAhead(20),
                "detail": ["repatriation": [
                    "from_country": "RU", "to_country": "MD", "travel_document_status": "requested", "escort": true,
                    "planned_travel_date": CaseKit.daysAhead(15), "receiving_organisation": receiving.id.uuidString,
                    "funded_from_repatriation_fund": true, "amount": 1250,
                ] as [String: Any]],
            ] as [String: Any])
            #expect(repatriation.status == .created, "\(repatriation.text)")
            let repatriationID = try CaseKit.id(repatriation)
            #expect(repatriation.headers[.location] == "\(path)/\(repatriationID.uuidString)")

            let sessionNote = "counselling note \(UUID().uuidString.prefix(8))"
            let counselling = try await CaseKit.call(client, .post, path, caseworker.token, [
                "type": "counselling", "status": "in_progress", "start_on": CaseKit.daysAgo(7),
                "detail": ["counselling": [
                    ["date": CaseKit.daysAgo(7), "counsellor": "Counsellor A", "minutes": 50, "modality": "individual", "note": sessionNote],
                    ["date": CaseKit.daysAgo(3), "counsellor": "Counsellor B", "minutes": 90, "modality": "group"],
                ]],
            ] as [String: Any])
            #expect(counselling.status == .created, "\(counselling.text)")
            let counsellingID = try CaseKit.id(counselling)

            let accommodation = try await CaseKit.call(client, .post, path, caseworker.token, [
                "type": "safe_accommodation", "provider_organisation": shelter.id.uuidString,
                "detail": ["accommodation": ["shelter": shelter.id.uuidString, "from": CaseKit.daysAgo(4), "planned_until": CaseKit.daysAhead(30),
                                             "extensions": [CaseKit.daysAhead(45)]] as [String: Any]],
            ] as [String: Any])
            #expect(accommodation.status == .created, "\(accommodation.text)")

            let list = try await CaseKit.call(client, .get, path, caseworker.token)
            #expect(list.status == .ok)
            let items = try list.jsonArray()
            #expect(items.count == 3)
            let byType = Dictionary(items.map { ($0["type"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
            let repat = try #require((byType["repatriation"]?["detail"] as? [String: Any])?["repatriation"] as? [String: Any], "\(list.text)")
            #expect(repat["from_country"] as? String == "RU")
            #expect(repat["to_country"] as? String == "MD")
            #expect(repat["travel_document_status"] as? String == "requested")
            #expect(repat["escort"] as? Bool == true)
            #expect(repat["planned_travel_date"] as? String == CaseKit.daysAhead(15))
            #expect(repat["receiving_organisation"] as? String == receiving.id.uuidString)
            #expect(repat["funded_from_repatriation_fund"] as? Bool == true)
            #expect(repat["amount"] as? Int == 1250)
            #expect(byType["repatriation"]?["need_id"] as? String == need.uuidString)
            #expect(byType["repatriation"]?["status"] as? String == "planned")
            #expect(byType["repatriation"]?["due_on"] as? String == CaseKit.daysAhead(20))
            let sessions = try #require((byType["counselling"]?["detail"] as? [String: Any])?["counselling"] as? [[String: Any]], "\(list.text)")
            #expect(sessions.count == 2)
            #expect(sessions.first?["note"] as? String == sessionNote)
            #expect(sessions.first?["minutes"] as? Int == 50)
            #expect(sessions.first?["counsellor"] as? String == "Counsellor A")
            #expect(sessions.last?["modality"] as? String == "group")
            #expect(sessions.last?["note"] == nil)
            #expect(byType["counselling"]?["status"] as? String == "in_progress")
            let stay = try #require((byType["safe_accommodation"]?["detail"] as? [String: Any])?["accommodation"] as? [String: Any], "\(list.text)")
            #expect(stay["shelter"] as? String == shelter.id.uuidString)
            #expect(stay["from"] as? String == CaseKit.daysAgo(4))
            #expect(stay["planned_until"] as? String == CaseKit.daysAhead(30))
            #expect(stay["extensions"] as? [String] == [CaseKit.daysAhead(45)])

            // The counselling note is sealed apart, never in the episode's clear detail.
            #expect(try CaseKit.count(app, "service_episode", where: "detail::text LIKE '%' || $1 || '%'", [sessionNote]) == 0)
            #expect(try CaseKit.count(app, "session_note", where: "episode_id = $1", [counsellingID]) == 1)
            #expect(try CaseKit.count(app, "session_note", where: "position(convert_to($1, 'UTF8') in note_sealed) > 0", [sessionNote]) == 0)

            // PATCH (against the ETag of the creation's answer): status, dates, outcome and detail; a detail of the wrong type is refused.
            let servicePath = "\(path)/\(repatriationID.uuidString)"
            let patched = try await CaseKit.call(client, .patch, servicePath, caseworker.token, [
                "status": "in_progress",
                "detail": ["repatriation": ["from_country": "RU", "to_country": "MD", "travel_document_status": "issued",
                                            "actual_travel_date": CaseKit.daysAgo(0), "amount": 1300] as [String: Any]],
            ] as [String: Any], headers: ["If-Match": repatriation.headers[.eTag] ?? "none"])
            #expect(patched.status == .ok, "\(patched.text)")
            let patchedBody = try patched.json()
            #expect(patchedBody["status"] as? String == "in_progress")
            #expect(patched.headers[.eTag] == "W/\"2\"")
            let patchedDetail = (patchedBody["detail"] as? [String: Any])?["repatriation"] as? [String: Any]
            #expect(patchedDetail?["travel_document_status"] as? String == "issued")
            #expect(patchedDetail?["amount"] as? Int == 1300)
            let done = try await CaseKit.call(client, .patch, servicePath, caseworker.token,
                                              ["status": "completed", "end_on": CaseKit.daysAgo(0), "outcome": "returned home"], headers: ["If-Match": "W/\"2\""])
            #expect(done.status == .ok, "\(done.text)")
            #expect(try done.json()["status"] as? String == "completed")
            #expect(try done.json()["outcome"] as? String == "returned home")
            let stale = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["status": "cancelled"], headers: ["If-Match": "W/\"1\""])
            CaseKit.expectProblem(stale, .preconditionFailed, field: "If-Match")
            let wrongType = try await CaseKit.call(client, .patch, servicePath, caseworker.token,
                                                   ["detail": ["counselling": [["date": CaseKit.daysAgo(1), "counsellor": "X", "minutes": 10, "modality": "remote"]]]])
            CaseKit.expectProblem(wrongType, .unprocessableContent, field: "detail.counselling")
            let missing = try await CaseKit.call(client, .patch, "\(path)/\(UUID().uuidString)", caseworker.token, ["status": "cancelled"])
            CaseKit.expectProblem(missing, .notFound)
            // The same rules as at creation, against the service as it is: dates in order, and a
            // finished service does not come back.
            let endsBeforeStart = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["end_on": CaseKit.daysAgo(5)])
            CaseKit.expectProblem(endsBeforeStart, .unprocessableContent, field: "end_on")
            let dueBeforeStart = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["due_on": CaseKit.daysAgo(5)])
            CaseKit.expectProblem(dueBeforeStart, .unprocessableContent, field: "due_on")
            for status in ["planned", "in_progress", "cancelled"] {
                let back = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["status": status])
                CaseKit.expectProblem(back, .unprocessableContent, field: "status")
            }
            let reread = try await CaseKit.call(client, .get, path, caseworker.token)
            let final = try reread.jsonArray().first { $0["id"] as? String == repatriationID.uuidString }
            #expect(final?["status"] as? String == "completed", "refused patches change nothing")
        }
    }

    @Test("the overdue worklist: a caseworker's own cases, the supervisor's whole organisation, nothing else")
    func overdueWorklist() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let other = try await app.organisation(country: "RO")
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let first = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let second = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let outsider = try await CaseKit.member(app, client, .caseworker, in: other.id)
            func service(_ member: CaseKit.Member, due: String, status: String = "planned") async throws -> (caseID: UUID, reference: String, service: UUID) {
                let created = try await CaseKit.createCase(client, member, CaseKit.intake(CaseKit.Person()))
                let service = try await CaseKit.create(client, member.token, "/v1/cases/\(created.id.uuidString)/services",
                                                       ["type": "medical", "status": status, "start_on": CaseKit.daysAgo(30), "due_on": due])
                return (created.id, created.reference, service)
            }
            let late = try await service(first, due: CaseKit.daysAgo(3))
            let lateInProgress = try await service(first, due: CaseKit.daysAgo(1), status: "in_progress")
            let notYet = try await service(first, due: CaseKit.daysAhead(3))
            let lateDone = try await service(first, due: CaseKit.daysAgo(5), status: "completed")
            let secondLate = try await service(second, due: CaseKit.daysAgo(2))
            let outsiderLate = try await service(outsider, due: CaseKit.daysAgo(2))

            func worklist(_ member: CaseKit.Member) async throws -> (ids: [UUID], text: String) {
                let response = try await CaseKit.call(client, .get, "/v1/services/overdue", member.token)
                #expect(response.status == .ok, "\(response.text)")
                return (try CaseKit.ids(response), response.text)
            }
            let mine = try await worklist(first)
            #expect(mine.ids == [late.service, lateInProgress.service], "oldest due first: \(mine.text)")
            #expect(mine.text.contains(late.reference), "the worklist names the case by its reference")
            #expect(!mine.text.contains(notYet.reference) && !mine.text.contains(lateDone.reference))
            let theirs = try await worklist(second)
            #expect(theirs.ids == [secondLate.service])
            let all = try await worklist(supervisor)
            #expect(Set(all.ids) == [late.service, lateInProgress.service, secondLate.service])
            #expect(!all.ids.contains(outsiderLate.service), "another organisation's worklist never shows")
            let outside = try await worklist(outsider)
            #expect(outside.ids == [outsiderLate.service])
            CaseKit.expectAbsent([late.reference, secondLate.reference], in: outside.text, "another organisation's worklist")
            #expect(try await worklist(supervisor).ids.count == 3)

            // Paging through the worklist.
            let page = try await CaseKit.call(client, .get, "/v1/services/overdue?limit=2", supervisor.token)
            let next = try #require(try page.json()["next_cursor"] as? String, "\(page.text)")
            let rest = try await CaseKit.call(client, .get, "/v1/services/overdue?limit=2&cursor=\(next)", supervisor.token)
            #expect(Set(try CaseKit.ids(page) + CaseKit.ids(rest)) == Set(all.ids))
            #expect(try CaseKit.ids(page).count + CaseKit.ids(rest).count == 3)

            // Completing a service takes it off the list.
            let done = try await CaseKit.call(client, .patch, "/v1/cases/\(late.caseID.uuidString)/services/\(late.service.uuidString)",
                                              first.token, ["status": "completed", "outcome": "seen by a doctor"])
            #expect(done.status == .ok, "\(done.text)")
            #expect(try await worklist(first).ids == [lateInProgress.service])
        }
    }

    @Test("consents: created, listed with their status, withdrawn once")
    func consents() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let shelter = try await app.organisation(type: .shelter)
            let clinic = try await app.organisation(type: .health)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let path = "/v1/cases/\(caseID.uuidString)/consents"
            let expires = Date().addingTimeInterval(30 * 86_400)
            let created = try await CaseKit.call(client, .post, path, caseworker.token, [
                "grantor": "guardian", "method": "verbal", "statistics": true, "expires_at": ISO8601DateFormatter().string(from: expires),
                "provisions": [
                    ["recipient_organisation": shelter.id.uuidString, "purpose": "accommodation", "categories": ["profile", "contact", "needs"]],
                    ["recipient_organisation": clinic.id.uuidString, "purpose": "medical care", "categories": ["profile"]],
                ],
            ] as [String: Any])
            #expect(created.status == .created, "\(created.text)")
            let consentID = try CaseKit.id(created)
            let body = try created.json()
            #expect(body["status"] as? String == "active")
            #expect(body["grantor"] as? String == "guardian")
            #expect(body["method"] as? String == "verbal")
            #expect(body["statistics"] as? Bool == true)
            #expect(body["withdrawn_at"] == nil)
            let provisions = try #require(body["provisions"] as? [[String: Any]])
            #expect(provisions.count == 2)
            #expect(provisions.first?["recipient_organisation"] as? String == shelter.id.uuidString)
            #expect(Set(provisions.first?["categories"] as? [String] ?? []) == ["profile", "contact", "needs"])
            let second = try await CaseKit.create(client, caseworker.token, path, CaseKit.consent(to: [clinic.id], categories: ["services"]))

            let list = try await CaseKit.call(client, .get, path, caseworker.token)
            #expect(list.status == .ok)
            #expect(Set(try CaseKit.ids(list)) == [consentID, second])

            let withdraw = try await CaseKit.call(client, .post, "\(path)/\(consentID.uuidString)/withdraw", caseworker.token)
            #expect(withdraw.status == .ok, "\(withdraw.text)")
            let withdrawn = try #require(try withdraw.json()["consent"] as? [String: Any], "\(withdraw.text)")
            #expect(withdrawn["status"] as? String == "withdrawn")
            #expect(withdrawn["withdrawn_at"] is String)
            #expect((try withdraw.json()["cancelled_referrals"] as? [Any])?.isEmpty == true)
            let again = try await CaseKit.call(client, .post, "\(path)/\(consentID.uuidString)/withdraw", caseworker.token)
            CaseKit.expectProblem(again, .conflict)
            let unknown = try await CaseKit.call(client, .post, "\(path)/\(UUID().uuidString)/withdraw", caseworker.token)
            CaseKit.expectProblem(unknown, .notFound)
            let relisted = try await CaseKit.call(client, .get, path, caseworker.token)
            let statuses = Dictionary(try relisted.jsonArray().map { ($0["id"] as? String ?? "", $0["status"] as? String ?? "") }, uniquingKeysWith: { a, _ in a })
            #expect(statuses[consentID.uuidString] == "withdrawn")
            #expect(statuses[second.uuidString] == "active")
        }
    }
}
