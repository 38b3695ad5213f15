import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Intake (`POST /v1/cases`), reading with an ETag, and the case list: filters, the fixed sort
/// list, keyset pagination, and summaries that never carry identifying fields.
@Suite("Cases: intake and lists")
struct CasesIntakeTests {
    static var referencePattern: Regex<Substring> { /^[A-Z]{2}-\d{4}-\d{6}$/ }

    @Test("intake stores the person, both profiles and a pseudonymous reference; GET answers it with an ETag")
    func intakeAndRead() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let person = CaseKit.Person()
            let created = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, CaseKit.intake(person, note: "first contact"))
            #expect(created.status == .created, "\(created.text)")
            let body = try created.json()
            let id = try CaseKit.id(created)
            let reference = try #require(body["reference"] as? String)
            #expect(reference.wholeMatch(of: Self.referencePattern) != nil, "reference \(reference)")
            #expect(reference.hasPrefix("MD-\(CaseKit.thisYear)-"), "reference \(reference)")
            #expect(created.headers[.location] == "/v1/cases/\(id.uuidString)")
            // The creator can change the case at once, without reading it for its ETag.
            #expect(created.headers[.eTag] == "W/\"1\"", "ETag \(created.headers[.eTag] ?? "none")")
            // A caseworker's intake is theirs.
            #expect(body["assignee"] as? String == caseworker.id.uuidString)
            #expect(body["created_by"] as? String == caseworker.id.uuidString)
            #expect(body["status"] as? String == "open")
            #expect(body["organisation_id"] as? String == org.id.uuidString)

            let read = try await CaseKit.call(client, .get, "/v1/cases/\(id.uuidString)", caseworker.token)
            #expect(read.status == .ok, "\(read.text)")
            #expect(read.headers[.eTag] == "W/\"1\"", "ETag \(read.headers[.eTag] ?? "none")")
            let file = try read.json()
            #expect(file["reference"] as? String == reference)
            #expect(file["case_type"] as? String == "trafficking")
            #expect(file["identification_status"] as? String == "presumed")
            #expect(file["identified_by"] as? String == "hotline")
            #expect(file["identified_on"] as? String == CaseKit.daysAgo(10))
            #expect(file["risk_level"] as? String == "high")
            #expect(file["note"] as? String == "first contact")
            let personJSON = try #require(file["person"] as? [String: Any])
            #expect(personJSON["sex"] as? String == "female")
            #expect(personJSON["birth_year"] as? Int == 1999)
            #expect(personJSON["citizenship"] as? String == "MD")
            #expect(personJSON["languages"] as? [String] == ["ro", "ru"])
            #expect(personJSON["age_band"] as? String == AgeBand.of(age: CaseKit.thisYear - 1999).rawValue)
            #expect(personJSON["minor"] as? Bool == false)
            let identity = try #require(personJSON["identity"] as? [String: Any])
            #expect(identity["given_name"] as? String == person.givenName)
            #expect(identity["family_name"] as? String == person.familyName)
            #expect(identity["aliases"] as? [String] == [person.alias])
            #expect(identity["date_of_birth"] as? String == "1999-04-12")
            #expect((identity["contact"] as? [String: Any])?["phone"] as? String == person.phone)
            #expect(identity["address"] as? String == person.address)
            #expect((identity["identity_documents"] as? [[String: Any]])?.first?["number"] as? String == person.documentNumber)
            let trafficking = try #require(file["trafficking"] as? [String: Any])
            #expect(Set(trafficking["exploitation_types"] as? [String] ?? []) == ["forced_labour", "sexual"])
            #expect(Set(trafficking["means_of_control"] as? [String] ?? []) == ["debt_bondage", "withheld_documents"])
            #expect(trafficking["labour_sector"] as? String == "agriculture")
            #expect(trafficking["recruiter_relation"] as? String == "friend")
            #expect(trafficking["country_of_exploitation"] as? String == "RU")
            #expect(trafficking["months_exploited"] as? Int == 7)
            #expect(file["violence"] == nil, "a trafficking case has no violence profile: \(read.text)")

            // Domestic violence and both.
            let violence = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, CaseKit.intake(CaseKit.Person(), caseType: "domestic_violence"))
            #expect(violence.status == .created, "\(violence.text)")
            let violenceBody = try violence.json()
            let profile = try #require(violenceBody["violence"] as? [String: Any], "\(violence.text)")
            #expect(Set(profile["types"] as? [String] ?? []) == ["physical_assault", "psychological_abuse"])
            #expect(profile["perpetrator_relation"] as? String == "intimate_partner")
            #expect(profile["location"] as? String == "Nord")
            #expect(violenceBody["trafficking"] == nil)
            let both = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, CaseKit.intake(CaseKit.Person(), caseType: "both"))
            #expect(both.status == .created, "\(both.text)")
            #expect(try both.json()["trafficking"] != nil && both.json()["violence"] != nil, "\(both.text)")
        }
    }

    @Test("references are unique and consecutive per country across its organisations; each country counts on its own")
    func referencesPerCountry() async throws {
        try await TestApp.run { app, client in
            let moldova = try await app.organisation(country: "MD")
            let alsoMoldova = try await app.organisation(country: "MD")
            let romania = try await app.organisation(country: "RO")
            let first = try await CaseKit.member(app, client, .caseworker, in: moldova.id)
            let neighbour = try await CaseKit.member(app, client, .caseworker, in: alsoMoldova.id)
            let second = try await CaseKit.member(app, client, .caseworker, in: romania.id)
            var references: [String] = []
            for _ in 0..<5 { references.append(try await CaseKit.createCase(client, first, CaseKit.intake(CaseKit.Person())).reference) }
            #expect(Set(references).count == 5, "\(references)")
            let numbers = references.compactMap { Int($0.suffix(6)) }
            #expect(numbers == Array(numbers[0]..<(numbers[0] + 5)), "consecutive: \(references)")
            #expect(references.allSatisfy { $0.wholeMatch(of: Self.referencePattern) != nil })
            // Another organisation of the same country goes on from there: a partner receiving
            // from both never sees one reference twice.
            let next = try await CaseKit.createCase(client, neighbour, CaseKit.intake(CaseKit.Person())).reference
            #expect(!references.contains(next) && Int(next.suffix(6)) == (numbers.last ?? 0) + 1, "\(next) after \(references)")
            let other = try await CaseKit.createCase(client, second, CaseKit.intake(CaseKit.Person())).reference
            #expect(other == "RO-\(CaseKit.thisYear)-000001", "\(other)")
            let stored = try CaseKit.ownerRows(app, "SELECT reference FROM case_file WHERE organisation_id = $1", [moldova.id]).compactMap { $0[0] }
            #expect(Set(stored) == Set(references))
        }
    }

    @Test("a supervisor's intake may name an assignee of the organisation, or none")
    func supervisorIntakeAssignment() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await app.user(.caseworker, in: org.id)
            let unassigned = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, CaseKit.intake(CaseKit.Person()))
            #expect(unassigned.status == .created, "\(unassigned.text)")
            #expect(try unassigned.json()["assignee"] == nil, "\(unassigned.text)")
            let assigned = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, CaseKit.intake(CaseKit.Person(), assignee: caseworker.id))
            #expect(assigned.status == .created, "\(assigned.text)")
            #expect(try assigned.json()["assignee"] as? String == caseworker.id.uuidString)
        }
    }

    @Test("assign, closure requested by a caseworker and approved by a supervisor, direct closure, reopening")
    func lifecycle() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let colleague = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let path = "/v1/cases/\(created.id.uuidString)"

            // The new assignee works the case.
            let assign = try await CaseKit.call(client, .post, path + "/assign", supervisor.token, ["assignee": colleague.id.uuidString])
            #expect(assign.status == .ok, "\(assign.text)")
            #expect(try assign.json()["assignee"] as? String == colleague.id.uuidString)
            #expect(try await Self.listIDs(client, colleague.token, "") == [created.id])
            #expect(try await CaseKit.call(client, .get, path, colleague.token).status == .ok)

            // A caseworker's closure request waits for a supervisor.
            let request = try await CaseKit.call(client, .post, path + "/close", colleague.token, ["reason": "services-completed"])
            #expect(request.status == .accepted, "\(request.text)")
            let requested = try request.json()
            #expect(requested["status"] as? String == "open")
            #expect((requested["closure"] as? [String: Any])?["requested_by"] as? String == colleague.id.uuidString, "\(request.text)")
            let twice = try await CaseKit.call(client, .post, path + "/close", colleague.token, ["reason": "services-completed"])
            CaseKit.expectProblem(twice, .conflict)
            let approve = try await CaseKit.call(client, .post, path + "/close/approve", supervisor.token)
            #expect(approve.status == .ok, "\(approve.text)")
            let closed = try approve.json()
            #expect(closed["status"] as? String == "closed")
            #expect((closed["closure"] as? [String: Any])?["reason"] as? String == "services-completed")
            #expect((closed["closure"] as? [String: Any])?["closed_by"] as? String == supervisor.id.uuidString)
            #expect(closed["retention_due"] is String, "a closed case has a retention date: \(approve.text)")

            // A closed case takes no new work until reopened.
            let need = try await CaseKit.call(client, .post, path + "/needs", colleague.token, ["domain": "health", "service_type": "medical", "priority": "urgent"])
            CaseKit.expectProblem(need, .conflict)
            let approveAgain = try await CaseKit.call(client, .post, path + "/close/approve", supervisor.token)
            CaseKit.expectProblem(approveAgain, .conflict)
            let reopen = try await CaseKit.call(client, .post, path + "/reopen", colleague.token, ["reason": "new-needs"])
            #expect(reopen.status == .ok, "\(reopen.text)")
            #expect(try reopen.json()["status"] as? String == "open")
            #expect(try reopen.json()["reopened_count"] as? Int == 1)
            #expect(try reopen.json()["closure"] == nil && reopen.json()["retention_due"] == nil)
            let reopenOpen = try await CaseKit.call(client, .post, path + "/reopen", colleague.token, ["reason": "new-needs"])
            CaseKit.expectProblem(reopenOpen, .conflict)

            // A supervisor closes directly; approval needs a pending request.
            let direct = try await CaseKit.call(client, .post, path + "/close", supervisor.token, ["reason": "lost-contact"])
            #expect(direct.status == .ok, "\(direct.text)")
            #expect(try direct.json()["status"] as? String == "closed")
            #expect(try await Self.listIDs(client, supervisor.token, "status=closed") == [created.id])
            let etag = try await CaseKit.call(client, .get, path, supervisor.token).headers[.eTag] ?? ""
            let patchClosed = try await CaseKit.call(client, .patch, path, supervisor.token, ["risk_level": "low"], headers: ["If-Match": etag])
            CaseKit.expectProblem(patchClosed, .conflict)
        }
    }

    @Test("a case or service PATCH that changes nothing keeps the version (another's ETag stays good) and still leaves its event")
    func aPatchThatChangesNothingKeepsTheVersion() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let created = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, CaseKit.intake(CaseKit.Person()))
            let id = try CaseKit.id(created)
            let path = "/v1/cases/\(id.uuidString)"
            let same = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "high"], headers: ["If-Match": "W/\"1\""])
            #expect(same.status == .ok && same.headers[.eTag] == "W/\"1\"", "\(same.text)")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.update' AND case_id = $1 AND detail::jsonb->'changes' = '[]'::jsonb", [id]) == 1)
            let changed = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "low"], headers: ["If-Match": "W/\"1\""])
            #expect(changed.status == .ok && changed.headers[.eTag] == "W/\"2\"", "\(changed.text)")

            let service = try await CaseKit.call(client, .post, path + "/services", caseworker.token,
                                                 ["type": "medical", "start_on": CaseKit.daysAgo(1)])
            #expect(service.status == .created, "\(service.text)")
            let servicePath = path + "/services/\(try CaseKit.id(service).uuidString)"
            let sameService = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["start_on": CaseKit.daysAgo(1)],
                                                     headers: ["If-Match": "W/\"1\""])
            #expect(sameService.status == .ok && sameService.headers[.eTag] == "W/\"1\"", "\(sameService.text)")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'service.update' AND case_id = $1 AND detail::jsonb->'fields' = '[]'::jsonb",
                                      [id]) == 1)
            let movedService = try await CaseKit.call(client, .patch, servicePath, caseworker.token, ["status": "in_progress"],
                                                      headers: ["If-Match": "W/\"1\""])
            #expect(movedService.status == .ok && movedService.headers[.eTag] == "W/\"2\"", "\(movedService.text)")
        }
    }

    /// Four cases of one organisation with different attributes, one of them closed, and one
    /// case of another organisation.
    struct ListScene {
        var supervisor: CaseKit.Member
        var first: CaseKit.Member
        var second: CaseKit.Member
        var cases: [UUID]
        var people: [CaseKit.Person]
        var otherReference: String
    }

    static func listScene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> ListScene {
        let org = try await app.organisation(country: "MD")
        let otherOrg = try await app.organisation(country: "UA")
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
        let first = try await CaseKit.member(app, client, .caseworker, in: org.id)
        let second = try await CaseKit.member(app, client, .caseworker, in: org.id)
        let outsider = try await CaseKit.member(app, client, .caseworker, in: otherOrg.id)
        let people = (0..<4).map { _ in CaseKit.Person() }
        let specs: [(String, String, String, CaseKit.Member)] = [
            ("trafficking", "high", "presumed", first), ("domestic_violence", "low", "identified", second),
            ("both", "medium", "potential", first), ("trafficking", "low", "identified", second),
        ]
        var cases: [UUID] = []
        for (index, spec) in specs.enumerated() {
            let body = CaseKit.intake(people[index], caseType: spec.0, risk: spec.1, identification: spec.2, assignee: spec.3.id, note: "note \(people[index].tag)")
            cases.append(try await CaseKit.createCase(client, supervisor, body).id)
        }
        let closed = try await CaseKit.call(client, .post, "/v1/cases/\(cases[3].uuidString)/close", supervisor.token, ["reason": "services-completed"])
        #expect(closed.status == .ok, "\(closed.text)")
        let other = try await CaseKit.createCase(client, outsider, CaseKit.intake(CaseKit.Person()))
        return ListScene(supervisor: supervisor, first: first, second: second, cases: cases, people: people, otherReference: other.reference)
    }

    static func listIDs(_ client: any TestClientProtocol, _ token: String, _ query: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [UUID] {
        let response = try await CaseKit.call(client, .get, "/v1/cases?limit=200\(query.isEmpty ? "" : "&" + query)", token)
        #expect(response.status == .ok, "GET /v1/cases?\(query): \(response.text)", sourceLocation: sourceLocation)
        return try CaseKit.ids(response)
    }

    @Test("list filters: status, case type, risk, assignee, identification status, updated since")
    func listFilters() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.listScene(app, client)
            let c = scene.cases
            let token = scene.supervisor.token
            #expect(Set(try await Self.listIDs(client, token, "")) == Set(c), "the organisation's cases and no other")
            #expect(try await Self.listIDs(client, token, "status=closed") == [c[3]])
            #expect(Set(try await Self.listIDs(client, token, "status=open")) == [c[0], c[1], c[2]])
            #expect(try await Self.listIDs(client, token, "case_type=domestic_violence") == [c[1]])
            #expect(try await Self.listIDs(client, token, "case_type=both") == [c[2]])
            #expect(Set(try await Self.listIDs(client, token, "case_type=trafficking")) == [c[0], c[3]])
            #expect(Set(try await Self.listIDs(client, token, "risk_level=low")) == [c[1], c[3]])
            #expect(try await Self.listIDs(client, token, "risk_level=medium") == [c[2]])
            #expect(Set(try await Self.listIDs(client, token, "assignee=\(scene.first.id.uuidString)")) == [c[0], c[2]])
            #expect(Set(try await Self.listIDs(client, token, "identification_status=identified")) == [c[1], c[3]])
            #expect(try await Self.listIDs(client, token, "identification_status=potential") == [c[2]])
            #expect(try await Self.listIDs(client, token, "case_type=trafficking&risk_level=low&status=closed") == [c[3]])

            // A caseworker's list is their own cases, whatever the filter asks.
            #expect(Set(try await Self.listIDs(client, scene.first.token, "")) == [c[0], c[2]])
            #expect(try await Self.listIDs(client, scene.first.token, "assignee=\(scene.second.id.uuidString)") == [])

            // updated_since: change one case after the others, then ask from its new time.
            let read = try await CaseKit.call(client, .get, "/v1/cases/\(c[1].uuidString)", token)
            let etag = try #require(read.headers[.eTag])
            let patched = try await CaseKit.call(client, .patch, "/v1/cases/\(c[1].uuidString)", token, ["risk_level": "high"], headers: ["If-Match": etag])
            #expect(patched.status == .ok, "\(patched.text)")
            let since = try #require(try patched.json()["updated_at"] as? String)
            let encoded = since.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? since
            #expect(try await Self.listIDs(client, token, "updated_since=\(encoded)") == [c[1]])
            #expect(Set(try await Self.listIDs(client, token, "updated_since=2000-01-01T00:00:00Z")) == Set(c))
            #expect(try await Self.listIDs(client, token, "updated_since=2199-01-01T00:00:00Z") == [])

            // Unknown values are refused, naming the parameter.
            for (query, field) in [("status=archived", "status"), ("case_type=smuggling", "case_type"), ("risk_level=extreme", "risk_level"),
                                   ("identification_status=certain", "identification_status"), ("assignee=not-a-uuid", "assignee"),
                                   ("updated_since=yesterday", "updated_since"), ("limit=0", "limit"), ("limit=100000", "limit")] {
                let response = try await CaseKit.call(client, .get, "/v1/cases?\(query)", token)
                CaseKit.expectProblem(response, .badRequest, field: field)
            }
        }
    }

    @Test("lists carry summaries only: no identity, no note, no identifying value")
    func listsCarryNoIdentifyingFields() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.listScene(app, client)
            for member in [scene.supervisor, scene.first, scene.second] {
                let response = try await CaseKit.call(client, .get, "/v1/cases?limit=200", member.token)
                #expect(response.status == .ok)
                let items = try response.jsonArray()
                #expect(!items.isEmpty)
                for item in items {
                    #expect((item["person"] as? [String: Any])?["identity"] == nil, "identity in a list item: \(item)")
                    #expect(item["note"] == nil, "note in a list item: \(item)")
                    #expect(item["reference"] is String)
                }
                CaseKit.expectAbsent(scene.people.flatMap(\.identifyingValues) + scene.people.map { "note \($0.tag)" }, in: response.text, "case list")
                CaseKit.expectAbsent([scene.otherReference], in: response.text, "case list of another organisation")
            }
        }
    }

    @Test("every list is audited with its query (filter names, order, page size, no values); a refused list leaves no event")
    func listsAreAuditedWithTheirQuery() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.listScene(app, client)
            func events() throws -> [[String: Any]] {
                try CaseKit.ownerRows(app, "SELECT detail::text FROM audit_event WHERE actor_user = $1 AND subtype = 'case.list' AND outcome = 'success' ORDER BY id",
                                      [scene.first.id]).compactMap { row in
                    try row[0].flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
                }
            }
            #expect(try events().isEmpty)
            let listed = try await CaseKit.call(client, .get, "/v1/cases?status=open&risk_level=high&limit=1", scene.first.token)
            #expect(listed.status == .ok, "\(listed.text)")
            var recorded = try events()
            #expect(recorded.count == 1)
            #expect(recorded.first?["filters"] as? [String] == ["status", "risk_level"])
            #expect(recorded.first?["limit"] as? Int == 1)
            #expect(recorded.first?["sort"] as? String == "-updated_at")
            #expect(recorded.first?["next_page"] as? Bool == false)
            let text = try CaseKit.ownerRows(app, "SELECT detail::text FROM audit_event WHERE subtype = 'case.list'").compactMap { $0[0] }.joined()
            CaseKit.expectAbsent(["open", "high"], in: text, "the list's audit event")

            let next = try await CaseKit.call(client, .get, "/v1/cases?sort=reference&limit=1", scene.first.token)
            let cursor = try #require(try next.json()["next_cursor"] as? String)
            let second = try await CaseKit.call(client, .get, "/v1/cases?sort=reference&limit=1&cursor=\(cursor)", scene.first.token)
            #expect(second.status == .ok, "\(second.text)")
            recorded = try events()
            #expect(recorded.count == 3)
            #expect(recorded.last?["next_page"] as? Bool == true)
            #expect(recorded.last?["sort"] as? String == "reference")

            // A cursor this list never returned is refused inside the transaction: no event.
            let refused = try await CaseKit.call(client, .get, "/v1/cases?cursor=bm90LWEtY3Vyc29y", scene.first.token)
            CaseKit.expectProblem(refused, .badRequest, field: "cursor")
            #expect(try events().count == 3)
        }
    }

    @Test("sorting from the fixed list; anything else is 400")
    func sorting() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.listScene(app, client)
            let token = scene.supervisor.token
            func references(_ sort: String) async throws -> [String] {
                let response = try await CaseKit.call(client, .get, "/v1/cases?limit=200&sort=\(sort)", token)
                #expect(response.status == .ok, "sort=\(sort): \(response.text)")
                return try response.jsonArray().compactMap { $0["reference"] as? String }
            }
            let ascending = try await references("reference")
            #expect(ascending.count == 4)
            #expect(ascending == ascending.sorted())
            #expect(try await references("-reference") == ascending.sorted().reversed())
            // Created in order c0..c3, so created_at order is the creation order.
            #expect(try await Self.listIDs(client, token, "sort=created_at") == scene.cases)
            #expect(try await Self.listIDs(client, token, "sort=-created_at") == scene.cases.reversed())
            // Touch c0 last: it leads the default order (most recently updated first) and ends updated_at.
            let read = try await CaseKit.call(client, .get, "/v1/cases/\(scene.cases[0].uuidString)", token)
            let patched = try await CaseKit.call(client, .patch, "/v1/cases/\(scene.cases[0].uuidString)", token, ["risk_level": "low"],
                                                 headers: ["If-Match": read.headers[.eTag] ?? ""])
            #expect(patched.status == .ok, "\(patched.text)")
            #expect(try await Self.listIDs(client, token, "").first == scene.cases[0])
            #expect(try await Self.listIDs(client, token, "sort=-updated_at").first == scene.cases[0])
            #expect(try await Self.listIDs(client, token, "sort=updated_at").last == scene.cases[0])
            for sort in ["name", "given_name", "identity_sealed", "reference;DROP", "-", "updated_at,reference"] {
                let encoded = sort.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? sort
                let response = try await CaseKit.call(client, .get, "/v1/cases?sort=\(encoded)", token)
                CaseKit.expectProblem(response, .badRequest, field: "sort")
            }
        }
    }

    @Test("cursor pagination walks every case exactly once in every sort order; a tampered cursor is 400")
    func pagination() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            var all: Set<UUID> = []
            for index in 0..<7 {
                all.insert(try await CaseKit.createCase(client, supervisor, CaseKit.intake(CaseKit.Person(), risk: index % 2 == 0 ? "high" : "low")).id)
            }
            var firstCursor: String?
            for sort in ["-updated_at", "updated_at", "created_at", "-created_at", "reference", "-reference"] {
                let whole = try await Self.listIDs(client, supervisor.token, "sort=\(sort)")
                var walked: [UUID] = []
                var cursor: String?
                var pages = 0
                repeat {
                    var uri = "/v1/cases?limit=3&sort=\(sort)"
                    if let cursor { uri += "&cursor=\(cursor)" }
                    let page = try await CaseKit.call(client, .get, uri, supervisor.token)
                    #expect(page.status == .ok, "\(uri): \(page.text)")
                    let ids = try CaseKit.ids(page)
                    #expect(ids.count <= 3)
                    walked += ids
                    cursor = try page.json()["next_cursor"] as? String
                    if firstCursor == nil { firstCursor = cursor }
                    pages += 1
                } while cursor != nil && pages < 10
                #expect(pages == 3, "sort \(sort): \(pages) pages")
                #expect(walked.count == 7 && Set(walked) == all, "sort \(sort): walked \(walked.count), distinct \(Set(walked).count)")
                #expect(walked == whole, "sort \(sort): the pages follow the unpaged order")
            }
            // Filters hold across pages.
            var highs: [UUID] = []
            var cursor: String?
            repeat {
                let page = try await CaseKit.call(client, .get, "/v1/cases?limit=2&risk_level=high" + (cursor.map { "&cursor=\($0)" } ?? ""), supervisor.token)
                highs += try CaseKit.ids(page)
                cursor = try page.json()["next_cursor"] as? String
            } while cursor != nil && highs.count < 20
            #expect(highs.count == 4 && Set(highs).count == 4)

            let real = try #require(firstCursor)
            let tampered = [
                String(real.dropLast(4)), real + "!!", "not-a-cursor", "%00%01", String(repeating: "A", count: 600),
                Cursor.encode(["only-one"]), Cursor.encode(["abc", UUID().uuidString]), Cursor.encode(["1", "not-a-uuid"]),
                Cursor.encode(["99999999999999999999999", UUID().uuidString]),
                // A number, but a time PostgreSQL cannot reach from its epoch.
                Cursor.encode([String(Int64.max), UUID().uuidString]), Cursor.encode([String(Int64.min), UUID().uuidString]),
            ]
            var answers: [String] = []
            for text in tampered {
                let response = try await CaseKit.call(client, .get, "/v1/cases?limit=3&cursor=\(text)", supervisor.token)
                #expect(response.isProblem && response.problemFields.contains("cursor"), "cursor \(text.prefix(40)): \(response.text)")
                #expect(response.status.code >= 400 && response.status.code < 500)
                answers.append("\(response.status.code)")
            }
            // A query parameter the client got wrong is a bad request, as for limit and sort.
            #expect(Set(answers) == ["400"], "tampered cursors answered \(answers)")
        }
    }

    /// Every list's cursor is checked before it reaches SQL: a forged one is a 400 naming
    /// `cursor`, never a database error.
    @Test("forged cursors on the referral, overdue, break-glass and organisation lists are 400 naming cursor")
    func forgedCursorsOnEveryList() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let id = UUID().uuidString
            let forged: [(String, [String])] = [
                ("/v1/referrals", [String(Int64.max), id]), ("/v1/referrals", ["1", "not-a-uuid"]),
                ("/v1/services/overdue", ["not-a-date", id]), ("/v1/services/overdue", ["2026-13-45", id]),
                ("/v1/break-glass", [String(Int64.min), id]),
                ("/v1/organisations", ["a name", "not-a-uuid"]),
            ]
            for (path, values) in forged {
                let response = try await CaseKit.call(client, .get, "\(path)?cursor=\(Cursor.encode(values))", supervisor.token)
                #expect(response.status == .badRequest && response.problemFields.contains("cursor"), "\(path) \(values): \(response.text)")
            }
        }
    }
}
