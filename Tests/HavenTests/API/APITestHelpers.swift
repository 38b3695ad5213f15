import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Helpers shared by the API suites: database peeks as the schema owner, problem+json checks,
/// and common fixtures (an admin with a token).
extension TestApp {
    /// Runs SQL as the schema owner (who owns the tables and so bypasses row-level security) and
    /// returns every row's columns as text. Cast non-text columns to `::text` in the SQL.
    func ownerRows(_ sql: String, _ parameters: [(any PGEncodable)?] = []) throws -> [[String?]] {
        let connection = try database.connect(as: DatabaseSetup.ownerRole)
        let result = try connection.query(sql, parameters)
        return try result.rows.map { row in try (0..<result.columnCount).map { try row.decode(String?.self, at: $0) } }
    }

    /// Runs a script as the schema owner (tampering with the audit trail).
    func ownerScript(_ sql: String, _ parameters: [(any PGEncodable)?] = []) throws {
        let connection = try database.connect(as: DatabaseSetup.ownerRole)
        if parameters.isEmpty {
            try connection.run(script: sql)
        } else {
            try connection.execute(sql, parameters)
        }
    }

    /// Rows in a table, counted by the owner.
    func count(_ table: String, where condition: String = "true", _ parameters: [(any PGEncodable)?] = []) throws -> Int {
        Int(try ownerRows("SELECT count(*)::text FROM \(table) WHERE \(condition)", parameters)[0][0] ?? "") ?? -1
    }

    /// Every audit event as stored, as a JSON object per row (`row_to_json`), oldest first.
    func auditEvents(subtype: String? = nil) throws -> [[String: Any]] {
        let rows = try ownerRows(
            "SELECT row_to_json(e)::text FROM audit_event e WHERE $1::text IS NULL OR e.subtype = $1 ORDER BY e.id", [subtype])
        return rows.compactMap { row in
            row[0].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        }
    }

    /// Every audit row as raw JSON text, to search for strings that must never be there.
    func auditRowTexts() throws -> [String] {
        try ownerRows("SELECT row_to_json(e)::text FROM audit_event e ORDER BY e.id").compactMap { $0[0] }
    }

    /// A new organisation with an admin in it, logged in.
    func admin(_ client: any TestClientProtocol) async throws -> (user: TestUser, token: String) {
        let organisation = try await organisation()
        let admin = try await user(.admin, in: organisation.id)
        return (admin, try await login(client, admin))
    }

    /// A user of the given role in `organisation`, logged in.
    func loggedIn(_ role: Role, in organisation: UUID, _ client: any TestClientProtocol) async throws -> (user: TestUser, token: String) {
        let user = try await user(role, in: organisation)
        return (user, try await login(client, user))
    }
}

extension TestResponse {
    func header(_ name: String) -> String? { headers[HTTPField.Name(name)!] }

    /// The `detail` member of a problem answer.
    var problemDetail: String? { (try? json())?["detail"] as? String }

    /// The `type` member of a problem answer.
    var problemType: String? { (try? json())?["type"] as? String }
}

/// Checks an answer is an RFC 9457 problem with the given status, whose `status` member agrees,
/// and (when given) whose `errors` name `field`.
func expectProblem(
    _ response: TestResponse, _ status: HTTPResponse.Status, field: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(response.status == status, "status \(response.status) body \(response.text)", sourceLocation: sourceLocation)
    #expect(response.isProblem, "content type \(response.headers[.contentType] ?? "none")", sourceLocation: sourceLocation)
    let body = (try? response.json()) ?? [:]
    #expect(body["status"] as? Int == status.code, "problem body \(response.text)", sourceLocation: sourceLocation)
    #expect((body["title"] as? String)?.isEmpty == false, "problem body \(response.text)", sourceLocation: sourceLocation)
    #expect((body["type"] as? String)?.isEmpty == false, "problem body \(response.text)", sourceLocation: sourceLocation)
    if let field {
        #expect(response.problemFields.contains(field), "expected field \(field) in \(response.text)", sourceLocation: sourceLocation)
    }
}

/// A password good enough for the policy, different every call.
func strongPassword() -> String { "Synthetic-\(UUID().uuidString.prefix(12))" }

/// A username the policy accepts, different every call.
func freshUsername(_ prefix: String = "user") -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }
