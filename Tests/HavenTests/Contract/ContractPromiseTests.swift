import Foundation
import HavenAPI
import HavenCore
import HTTPTypes
import Testing

/// Promises of the document (and of the issue it comes from) that the walk does not exercise:
/// pagination cursors the server did not issue, and idempotent retries of creating POSTs.
@Suite("Contract: documented promises on cursors and idempotent retries")
struct ContractPromiseTests {
    @Test("a cursor a list did not return is a 400 naming `cursor`, like every other bad query parameter")
    func foreignCursorIsBadRequest() async throws {
        let checker = ContractChecker(document: try OpenAPIDocument.load())
        try await TestApp.run { app, client in
            let api = ContractClient(client: client, checker: checker)
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            for list in ["/v1/organisations", "/v1/cases", "/v1/services/overdue", "/v1/referrals"] {
                let response = try await api.call(.get, "\(list)?cursor=not-a-cursor", token: token, expect: .badRequest)
                let fields = response["errors"]?.arrayValue?.compactMap { $0["field"]?.stringValue } ?? []
                #expect(fields.contains("cursor"), "GET \(list): the problem names `cursor`: \(response.text)")
            }
        }
    }

    @Test("a retried intake with the same Idempotency-Key returns the first answer, Location included, and creates nothing")
    func intakeRetryReturnsTheFirstAnswer() async throws {
        let checker = ContractChecker(document: try OpenAPIDocument.load())
        try await TestApp.run { app, client in
            let api = ContractClient(client: client, checker: checker)
            let organisation = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: organisation.id)
            let token = try await app.login(client, caseworker)
            let intake: ContractJSON = [
                "case_type": "domestic_violence", "identification_status": "potential", "identified_by": "self",
                "identified_on": .string(ContractWalkTests.day(0)), "risk_level": "low", "person": ["sex": "unknown"],
            ]
            let key: HTTPFields = [ContractClient.idempotencyKey: "contract-retry-\(UUID().uuidString)"]
            let first = try await api.call(.post, "/v1/cases", token: token, json: intake, headers: key, expect: .created)
            let retry = try await api.call(.post, "/v1/cases", token: token, json: intake, headers: key, expect: .created)
            #expect(retry["id"] == first["id"], "the retry answers the first case")
            #expect(retry.headers[HTTPField.Name("Idempotent-Replayed")!] == "true")
            #expect(retry.headers[.location] == first.headers[.location],
                    "the retry's Location \(retry.headers[.location] ?? "none") is not the first answer's \(first.headers[.location] ?? "none")")
            #expect(try app.count("case_file") == 1, "the retry created a second case")
        }
    }

    @Test("a retried break-glass request with the same Idempotency-Key returns the first grant and opens no second one")
    func breakGlassRetryReturnsTheFirstGrant() async throws {
        let checker = ContractChecker(document: try OpenAPIDocument.load())
        try await TestApp.run { app, client in
            let api = ContractClient(client: client, checker: checker)
            let owner = try await app.organisation()
            let other = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: owner.id)
            let outsider = try await app.user(.supervisor, in: other.id)
            let workerToken = try await app.login(client, caseworker)
            let outsiderToken = try await app.login(client, outsider)
            let opened = try await api.call(.post, "/v1/cases", token: workerToken, json: [
                "case_type": "trafficking", "identification_status": "presumed", "identified_by": "police",
                "identified_on": .string(ContractWalkTests.day(0)), "risk_level": "high", "person": ["sex": "male"],
            ], expect: .created)
            let caseID = try opened.uuid()
            let key: HTTPFields = [ContractClient.idempotencyKey: "contract-glass-\(UUID().uuidString)"]
            let body: ContractJSON = ["reason": "Synthetic: unconscious at the clinic, needs allergies"]
            let first = try await api.call(.post, "/v1/cases/\(caseID)/break-glass", token: outsiderToken, json: body, headers: key, expect: .created)
            let retry = try await api.call(.post, "/v1/cases/\(caseID)/break-glass", token: outsiderToken, json: body, headers: key, expect: .created)
            #expect(retry["id"] == first["id"], "the retry opened a second grant \(retry["id"]?.description ?? "-") besides \(first["id"]?.description ?? "-")")
            #expect(try app.count("break_glass_grant") == 1, "the retry created a second grant")
        }
    }
}
