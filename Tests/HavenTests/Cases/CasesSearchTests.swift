import Foundation
import HavenAPI
import HavenCore
import HavenDev
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Logging
import Postgres
import Testing

/// Searching the case list: by reference (a query parameter), by a person's exact name and
/// birth year (a POST body, matched through the blind index only), by identification dates;
/// only within what the caller may list, with no name in a URL, a log line or the audit trail.
@Suite("Cases: search")
struct CasesSearchTests {
    /// Two organisations; the same synthetic person registered in both, another person in the first.
    struct Scene {
        let supervisor: CaseKit.Member
        let caseworker: CaseKit.Member
        let otherSupervisor: CaseKit.Member
        let person: CaseKit.Person
        let mine: (id: UUID, reference: String)
        let colleagues: (id: UUID, reference: String)
        let otherOrganisations: (id: UUID, reference: String)
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let home = try await app.organisation(country: "MD")
        let away = try await app.organisation(country: "MD")
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: home.id)
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: home.id)
        let colleague = try await CaseKit.member(app, client, .caseworker, in: home.id)
        let otherSupervisor = try await CaseKit.member(app, client, .supervisor, in: away.id)
        let otherCaseworker = try await CaseKit.member(app, client, .caseworker, in: away.id)
        let person = CaseKit.Person()
        let mine = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
        let colleagues = try await CaseKit.createCase(client, colleague, CaseKit.intake(CaseKit.Person()))
        let otherOrganisations = try await CaseKit.createCase(client, otherCaseworker, CaseKit.intake(person))
        return Scene(supervisor: supervisor, caseworker: caseworker, otherSupervisor: otherSupervisor, person: person, mine: mine,
                     colleagues: colleagues, otherOrganisations: otherOrganisations)
    }

    static func search(_ client: any TestClientProtocol, _ member: CaseKit.Member, _ body: [String: Any],
                       sourceLocation: SourceLocation = #_sourceLocation) async throws -> [UUID] {
        let response = try await CaseKit.call(client, .post, "/v1/cases/search", member.token, body)
        #expect(response.status == .ok, "search: \(response.text)", sourceLocation: sourceLocation)
        return try CaseKit.ids(response)
    }

    @Test("a reference finds its case, in the list's scope only; identification dates bound the list")
    func byReference() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let listed = { (member: CaseKit.Member, query: String) in try await CasesIntakeTests.listIDs(client, member.token, query) }
            #expect(try await listed(scene.caseworker, "reference=\(scene.mine.reference)") == [scene.mine.id])
            #expect(try await listed(scene.supervisor, "reference=\(scene.mine.reference.lowercased())") == [scene.mine.id])
            // Another organisation's case, or a colleague's for a caseworker, is not found: the same as no case.
            #expect(try await listed(scene.supervisor, "reference=\(scene.otherOrganisations.reference)") == [])
            #expect(try await listed(scene.caseworker, "reference=\(scene.colleagues.reference)") == [])
            #expect(try await listed(scene.supervisor, "reference=\(scene.colleagues.reference)") == [scene.colleagues.id])
            // Intake identified every case ten days ago (CaseKit.intake).
            #expect(Set(try await listed(scene.supervisor, "identified_from=\(CaseKit.daysAgo(10))&identified_to=\(CaseKit.daysAgo(10))"))
                    == [scene.mine.id, scene.colleagues.id])
            #expect(try await listed(scene.supervisor, "identified_from=\(CaseKit.daysAgo(9))") == [])
            #expect(try await listed(scene.supervisor, "identified_to=\(CaseKit.daysAgo(11))") == [])
            // The body takes the reference too.
            #expect(try await Self.search(client, scene.caseworker, ["reference": scene.mine.reference]) == [scene.mine.id])
        }
    }

    @Test("name and birth year find the same person's case in my organisation only, in either order, whatever the case and accents")
    func byNameAndBirthYear() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let person = scene.person
            for name in ["\(person.givenName) \(person.familyName)", "\(person.familyName) \(person.givenName)",
                         "  \(person.givenName.uppercased())   \(person.familyName.lowercased()) ",
                         "\(person.givenName.replacingOccurrences(of: "e", with: "é")) \(person.familyName.replacingOccurrences(of: "a", with: "ă"))"] {
                #expect(try await Self.search(client, scene.supervisor, ["name": name, "birth_year": 1999]) == [scene.mine.id], "\(name)")
                #expect(try await Self.search(client, scene.caseworker, ["name": name, "birth_year": 1999]) == [scene.mine.id], "\(name)")
            }
            // The other organisation finds its own case of the same person, never ours.
            #expect(try await Self.search(client, scene.otherSupervisor, ["name": "\(person.givenName) \(person.familyName)", "birth_year": 1999])
                    == [scene.otherOrganisations.id])
            // Exact only: another year, one name alone, a prefix, an alias find nothing. (Intake's index keeps
            // letters only, so the prefix cuts letters off the family name, not the digits of its tag.)
            for (name, year) in [("\(person.givenName) \(person.familyName)", 1998), (person.familyName, 1999),
                                 ("\(person.givenName) \(person.familyName.prefix(7))", 1999), ("\(person.alias) \(person.familyName)", 1999)] {
                #expect(try await Self.search(client, scene.supervisor, ["name": name, "birth_year": year]) == [], "\(name) \(year)")
            }
            // The search combines with the list's filters.
            let name = "\(person.givenName) \(person.familyName)"
            #expect(try await Self.search(client, scene.supervisor, ["name": name, "birth_year": 1999, "status": "closed"]) == [])
            #expect(try await Self.search(client, scene.supervisor, ["name": name, "birth_year": 1999, "status": "open", "risk_level": "high",
                                                                     "assignee": scene.caseworker.id.uuidString, "sort": "reference"]) == [scene.mine.id])
        }
    }

    @Test("the name is in no log line and no audit event; the list's event names the fields searched, never their values")
    func theNameStaysOutOfLogsAndTheTrail() async throws {
        let lines = LogHandlerTests.Lines()
        try await TestApp.run(logging: lines) { app, client in
            let scene = try await Self.scene(app, client)
            let person = scene.person
            let name = "\(person.familyName) \(person.givenName)"
            #expect(try await Self.search(client, scene.supervisor, ["name": name, "birth_year": 1999, "risk_level": "high"]) == [scene.mine.id])
            let refused = try await CaseKit.call(client, .post, "/v1/cases/search", scene.supervisor.token, ["name": name])
            CaseKit.expectProblem(refused, .unprocessableContent, field: "birth_year")
            CaseKit.expectAbsent(person.names, in: refused.text, "the refusal")
            let misplaced = try await CaseKit.call(client, .get, "/v1/cases?name=\(person.givenName)&birth_year=1999", scene.supervisor.token)
            CaseKit.expectProblem(misplaced, .badRequest, field: "name")
            CaseKit.expectAbsent(person.names, in: misplaced.text, "the refusal of a name in a URL")

            let trail = try CaseKit.auditTexts(app).joined(separator: "\n")
            CaseKit.expectAbsent(person.names + ["1999"], in: trail, "the audit trail")
            let events = try CaseKit.ownerRows(app, "SELECT detail::text FROM audit_event WHERE actor_user = $1 AND subtype = 'case.list' ORDER BY id",
                                               [scene.supervisor.id]).compactMap { $0[0] }
            let detail = try #require(events.first.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(detail["filters"] as? [String] == ["risk_level", "name", "birth_year"], "\(events)")
            CaseKit.expectAbsent(["high"], in: events.joined(), "the search's audit event")
        }
        let logged = lines.lines.joined(separator: "\n")
        #expect(logged.contains("/v1/cases/search"), "the request lines were captured: \(logged.suffix(400))")
        // Every person made in this test carries the same marker prefix; none of their names may be logged.
        #expect(!logged.contains("Givenqx") && !logged.contains("Familyqx"), "a name reached the log: \(logged.suffix(600))")
    }

    @Test("bad search input is refused naming every bad field at once, in the body (422) and the query string (400)")
    func badInputNamesEveryField() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let token = scene.supervisor.token
            let cases: [([String: Any], [String])] = [
                (["name": "Ana Test"], ["birth_year"]),
                (["birth_year": 1990], ["name"]),
                (["name": "Ana Test", "birth_year": 1850], ["birth_year"]),
                (["name": "Ana Test", "birth_year": CaseKit.thisYear + 1], ["birth_year"]),
                (["name": "Ana Test", "birth_year": "1990"], ["birth_year"]),
                (["name": "1234 5678", "birth_year": 1990], ["name"]),
                (["name": String(repeating: "a", count: 201), "birth_year": 1990], ["name"]),
                (["name": "a b c d e f g h i", "birth_year": 1990], ["name"]),
                (["reference": "MD-26-1"], ["reference"]),
                (["identified_from": "2026-02-30"], ["identified_from"]),
                (["identified_from": "2026-03-02", "identified_to": "2026-03-01"], ["identified_to"]),
                (["given_name": "Ana"], ["given_name"]),
                (["name": "Ana Test", "birth_year": 3000, "status": "archived", "reference": "nope", "assignee": "me",
                  "identified_to": "yesterday", "sort": "name", "limit": 0, "updated_since": "soon"],
                 ["birth_year", "status", "reference", "assignee", "identified_to", "sort", "limit", "updated_since"]),
            ]
            for (body, fields) in cases {
                let response = try await CaseKit.call(client, .post, "/v1/cases/search", token, body)
                CaseKit.expectProblem(response, .unprocessableContent)
                #expect(Set(response.problemFields) == Set(fields), "\(body): \(response.text)")
            }
            for (query, fields) in [("name=Ana", ["name"]), ("birth_year=1990", ["birth_year"]), ("reference=x&status=archived", ["reference", "status"]),
                                    ("identified_from=2026-03-02&identified_to=2026-03-01&limit=0", ["identified_to", "limit"])] {
                let response = try await CaseKit.call(client, .get, "/v1/cases?\(query)", token)
                CaseKit.expectProblem(response, .badRequest)
                #expect(Set(response.problemFields) == Set(fields), "\(query): \(response.text)")
            }
            let notJSON = try await CaseKit.raw(client, .post, "/v1/cases/search", token, "[1, 2]")
            #expect(notJSON.status.code >= 400 && notJSON.status.code < 500 && notJSON.isProblem, "\(notJSON.text)")
        }
    }
}

extension TestApp {
    /// `run` with Haven's own log handler writing to `lines` at every level, for a test that
    /// checks what Haven logs.
    static func run<T: Sendable>(
        logging lines: LogHandlerTests.Lines, _ body: @Sendable @escaping (TestApp, any TestClientProtocol) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "haven") { LazyMetadataLogHandler(label: $0, stream: lines) }
        logger.logLevel = .trace
        return try await withTestDatabase { database in
            let pool = try database.pool(size: 4)
            let store = try Store(pool: pool, keys: TestKeys.ring, logger: logger)
            let credentials = Credentials.fast()
            let configuration = AppConfiguration(host: "127.0.0.1", port: 0)
            let testApp = TestApp(database: database, store: store, credentials: credentials, configuration: configuration)
            let application = buildApplication(
                configuration: configuration,
                dependencies: HavenDependencies(store: store, schema: DatabaseSchema(try TestSchema.migrator()), hasher: credentials), logger: logger)
            do {
                let value = try await application.test(.router) { client in try await body(testApp, client) }
                await pool.close()
                await credentials.shutdown()
                return value
            } catch {
                await pool.close()
                await credentials.shutdown()
                throw error
            }
        }
    }
}
