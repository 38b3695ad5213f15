import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Fixtures for the case-management suites: synthetic people whose identifying values are
/// unique per test (so a leak check can search any text for them), JSON bodies built as plain
/// dictionaries (so a test can also send wrong types), logged-in members, and peeks at the
/// database as the schema owner (which row-level security does not filter).
enum CaseKit {
    // MARK: Synthetic people

    /// A made-up person. Every identifying value carries `tag`, so finding any of them in a
    /// response, a header or an audit row is a leak, never a coincidence.
    struct Person: Sendable {
        let tag: String

        init() { tag = String(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(10)).lowercased() }

        /// The tag in letters only: a name's digits split it into words for the name search, and
        /// a tag with many digits made more words than a search takes.
        var letters: String { String(tag.map { $0.isNumber ? Character(UnicodeScalar(UInt8(ascii: "g") + UInt8($0.wholeNumberValue ?? 0))) : $0 }) }
        var givenName: String { "Givenqx\(letters)" }
        var familyName: String { "Familyqx\(letters)" }
        var alias: String { "Aliasqx\(letters)" }
        var phone: String { "+000-\(tag)-77" }
        var email: String { "mailqx\(tag)@example.invalid" }
        var address: String { "Streetqx\(tag) 1, Synthetic Town" }
        var documentNumber: String { "DOCQX\(tag.uppercased())" }
        var names: [String] { [givenName, familyName, alias] }
        /// Every value that identifies this person.
        var identifyingValues: [String] { [givenName, familyName, alias, phone, email, address, documentNumber] }

        var identity: [String: Any] {
            [
                "given_name": givenName, "family_name": familyName, "aliases": [alias], "date_of_birth": "1999-04-12",
                "contact": ["phone": phone, "email": email], "address": address,
                "identity_documents": [["type": "passport", "number": documentNumber, "issuing_country": "MD"]],
            ]
        }
    }

    /// A date `days` before today (UTC), as the API writes dates.
    static func daysAgo(_ days: Int) -> String { CalendarDate.of(Date().addingTimeInterval(-Double(days) * 86_400)).description }
    static func daysAhead(_ days: Int) -> String { CalendarDate.of(Date().addingTimeInterval(Double(days) * 86_400)).description }
    static var thisYear: Int { CalendarDate.of(Date()).year }

    /// An intake body: a presumed trafficking case with a full person unless told otherwise.
    static func intake(
        _ person: Person, caseType: String = "trafficking", risk: String = "high", identification: String = "presumed",
        assignee: UUID? = nil, note: String? = nil
    ) -> [String: Any] {
        var body: [String: Any] = [
            "case_type": caseType, "identification_status": identification, "identified_by": "hotline",
            "identified_on": daysAgo(10), "risk_level": risk,
            "person": [
                "identity": person.identity, "sex": "female", "birth_year": 1999, "citizenship": "MD", "languages": ["ro", "ru"],
                "disability": false,
            ] as [String: Any],
        ]
        if caseType != "domestic_violence" {
            body["trafficking"] = [
                "exploitation_types": ["forced_labour", "sexual"], "labour_sector": "agriculture",
                "means_of_control": ["debt_bondage", "withheld_documents"], "recruiter_relation": "friend",
                "country_of_exploitation": "RU", "months_exploited": 7,
            ] as [String: Any]
        }
        if caseType != "trafficking" {
            body["violence"] = [
                "types": ["physical_assault", "psychological_abuse"], "perpetrator_relation": "intimate_partner", "location": "Nord",
            ] as [String: Any]
        }
        if let assignee { body["assignee"] = assignee.uuidString }
        if let note { body["note"] = note }
        return body
    }

    static func consent(to organisations: [UUID], categories: [String], expiresAt: Date? = nil) -> [String: Any] {
        var body: [String: Any] = [
            "grantor": "self", "method": "written", "statistics": true,
            "provisions": organisations.map { ["recipient_organisation": $0.uuidString, "purpose": "referral for services", "categories": categories] },
        ]
        if let expiresAt { body["expires_at"] = ISO8601DateFormatter().string(from: expiresAt) }
        return body
    }

    // MARK: HTTP

    /// Sends `body` (anything `JSONSerialization` takes, keys sorted so equal bodies are equal
    /// bytes) with a bearer token.
    static func call(
        _ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?, _ body: Any? = nil,
        headers: [String: String] = [:]
    ) async throws -> TestResponse {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        var buffer: ByteBuffer?
        if let body {
            let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
            buffer = ByteBuffer(bytes: data)
            if fields[.contentType] == nil { fields[.contentType] = "application/json" }
        }
        return try await client.executeRequest(uri: uri, method: method, headers: fields, body: buffer)
    }

    /// Sends raw text as the body (malformed JSON and the like).
    static func raw(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, _ token: String?, _ text: String,
                    contentType: String = "application/json", headers: [String: String] = [:]) async throws -> TestResponse {
        var fields = HTTPFields()
        if let token { fields[.authorization] = "Bearer \(token)" }
        fields[.contentType] = contentType
        for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
        return try await client.executeRequest(uri: uri, method: method, headers: fields, body: ByteBuffer(string: text))
    }

    /// The `id` member of a JSON answer, failing the test when it is missing.
    static func id(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> UUID {
        let text = (try response.json()["id"] as? String) ?? ""
        return try #require(UUID(uuidString: text), "no id in \(response.status) \(response.text)", sourceLocation: sourceLocation)
    }

    static func ids(_ response: TestResponse, _ key: String = "items") throws -> [UUID] {
        try response.jsonArray(key).compactMap { ($0["id"] as? String).flatMap(UUID.init(uuidString:)) }
    }

    /// Checks an answer is a problem+json with `status`, naming `field` when given.
    static func expectProblem(
        _ response: TestResponse, _ status: HTTPResponse.Status, field: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(response.status == status, "expected \(status.code), got \(response.status.code): \(response.text)", sourceLocation: sourceLocation)
        #expect(response.isProblem, "content type \(response.headers[.contentType] ?? "none"): \(response.text)", sourceLocation: sourceLocation)
        if let field {
            #expect(response.problemFields.contains(field), "expected field \(field) named in \(response.text)", sourceLocation: sourceLocation)
        }
    }

    /// Fails when any of `values` appears in `text`.
    static func expectAbsent(_ values: [String], in text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        for value in values where text.contains(value) {
            Issue.record("\(what) contains \(value): \(text.prefix(600))", sourceLocation: sourceLocation)
        }
    }

    // MARK: Members

    /// A logged-in user.
    struct Member: Sendable {
        let user: TestApp.TestUser
        let token: String
        var id: UUID { user.id }
        var organisation: UUID { user.organisationID }
        var role: Role { user.user.role }
    }

    static func member(_ app: TestApp, _ client: any TestClientProtocol, _ role: Role, in organisation: UUID) async throws -> Member {
        let user = try await app.user(role, in: organisation)
        return Member(user: user, token: try await app.login(client, user))
    }

    /// Creates a case as `member` and returns its id and reference.
    static func createCase(
        _ client: any TestClientProtocol, _ member: Member, _ body: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (id: UUID, reference: String) {
        let response = try await call(client, .post, "/v1/cases", member.token, body)
        #expect(response.status == .created, "intake: \(response.text)", sourceLocation: sourceLocation)
        let reference = try #require(try response.json()["reference"] as? String, "intake: \(response.text)", sourceLocation: sourceLocation)
        return (try id(response, sourceLocation: sourceLocation), reference)
    }

    static func create(
        _ client: any TestClientProtocol, _ token: String, _ path: String, _ body: [String: Any], sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> UUID {
        let response = try await call(client, .post, path, token, body)
        #expect(response.status == .created, "POST \(path): \(response.text)", sourceLocation: sourceLocation)
        return try id(response, sourceLocation: sourceLocation)
    }

    static func transition(
        _ client: any TestClientProtocol, _ token: String, _ referral: UUID, _ body: [String: Any]
    ) async throws -> TestResponse {
        try await call(client, .post, "/v1/referrals/\(referral.uuidString)/transitions", token, body)
    }

    // MARK: Database, as the owner

    static func ownerRows(_ app: TestApp, _ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> [[String?]] {
        let connection = try app.database.connect(as: DatabaseSetup.ownerRole)
        let result = try connection.query(sql, parameters)
        return try result.rows.map { row in try (0..<result.columnCount).map { try row.decode(String?.self, at: $0) } }
    }

    static func count(_ app: TestApp, _ table: String, where condition: String = "true", _ parameters: [(any PGEncodable)?] = []) throws -> Int {
        Int(try ownerRows(app, "SELECT count(*)::text FROM \(table) WHERE \(condition)", parameters)[0][0] ?? "") ?? -1
    }

    /// Every audit row as JSON text.
    static func auditTexts(_ app: TestApp) throws -> [String] {
        try ownerRows(app, "SELECT row_to_json(e)::text FROM audit_event e ORDER BY e.id").compactMap { $0[0] }
    }

    static func deniedCount(_ app: TestApp, actor: UUID) throws -> Int {
        try count(app, "audit_event", where: "subtype = 'access.denied' AND outcome = 'denied' AND actor_user = $1", [actor])
    }
}
