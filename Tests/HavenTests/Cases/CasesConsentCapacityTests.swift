import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// A young person's consent: a guardian's, or from 15 their own with a supervisor's recorded
/// assessment of their capacity; refused 422 naming `grantor` otherwise, nothing saved.
@Suite("Cases: consent of a person under 18")
struct CasesConsentCapacityTests {
    /// A case of a person whose birthday this year was on 1 January: `age` whole years old today.
    static func child(_ app: TestApp, _ client: any TestClientProtocol, age: Int) async throws -> (CaseKit.Member, CaseKit.Member, String, UUID) {
        let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
        let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))")
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: ngo.id)
        let person = CaseKit.Person()
        var body = CaseKit.intake(person)
        var profile = body["person"] as? [String: Any] ?? [:]
        var identity = person.identity
        identity["date_of_birth"] = "\(CaseKit.thisYear - age)-01-01"
        profile["identity"] = identity
        profile["birth_year"] = CaseKit.thisYear - age
        body["person"] = profile
        let (caseID, _) = try await CaseKit.createCase(client, caseworker, body)
        return (caseworker, supervisor, "/v1/cases/\(caseID.uuidString)/consents", shelter.id)
    }

    static func consent(_ to: UUID, grantor: String, assessed: Bool? = nil) -> [String: Any] {
        var body = CaseKit.consent(to: [to], categories: ["needs"])
        body["grantor"] = grantor
        if let assessed { body["capacity_assessed"] = assessed }
        return body
    }

    @Test func aFifteenYearOldConsentsAloneOnlyWithASupervisorsAssessment() async throws {
        try await TestApp.run { app, client in
            let (caseworker, supervisor, path, shelter) = try await Self.child(app, client, age: 15)
            let alone = try await CaseKit.call(client, .post, path, caseworker.token, Self.consent(shelter, grantor: "self"))
            CaseKit.expectProblem(alone, .unprocessableContent, field: "grantor")
            #expect(alone.text.contains("under 18"), "\(alone.text)")
            let claimed = try await CaseKit.call(client, .post, path, caseworker.token, Self.consent(shelter, grantor: "self", assessed: true))
            CaseKit.expectProblem(claimed, .unprocessableContent, field: "capacity_assessed")
            #expect(try CaseKit.count(app, "consent") == 0)

            let assessed = try await CaseKit.call(client, .post, path, supervisor.token, Self.consent(shelter, grantor: "self", assessed: true))
            #expect(assessed.status == .created, "\(assessed.text)")
            #expect((try assessed.json()["capacity_assessed_by"] as? String)?.lowercased() == supervisor.id.uuidString.lowercased())
            let guardian = try await CaseKit.call(client, .post, path, caseworker.token, Self.consent(shelter, grantor: "guardian"))
            #expect(guardian.status == .created, "\(guardian.text)")
            #expect(try guardian.json()["capacity_assessed_by"] == nil)
        }
    }

    @Test func underFifteenOnlyAGuardianConsents() async throws {
        try await TestApp.run { app, client in
            let (_, supervisor, path, shelter) = try await Self.child(app, client, age: 14)
            let assessed = try await CaseKit.call(client, .post, path, supervisor.token, Self.consent(shelter, grantor: "self", assessed: true))
            CaseKit.expectProblem(assessed, .unprocessableContent, field: "grantor")
            #expect(try CaseKit.count(app, "consent") == 0)
            let guardian = try await CaseKit.call(client, .post, path, supervisor.token, Self.consent(shelter, grantor: "guardian"))
            #expect(guardian.status == .created, "\(guardian.text)")
        }
    }

    @Test func anAdultConsentsAlone() async throws {
        try await TestApp.run { app, client in
            let (caseworker, _, path, shelter) = try await Self.child(app, client, age: 18)
            let alone = try await CaseKit.call(client, .post, path, caseworker.token, Self.consent(shelter, grantor: "self"))
            #expect(alone.status == .created, "\(alone.text)")
        }
    }

    @Test func theConsoleShowsWhyNextToGrantorInTheUsersLanguageKeepingTheInput() async throws {
        try await TestApp.run { app, client in
            let (caseworker, _, path, shelter) = try await Self.child(app, client, age: 16)
            let browser = try await ConsoleKit.login(client, caseworker.user)
            let caseID = path.split(separator: "/")[2]
            let refused = try await ConsoleKit.post(client, "/cases/\(caseID)/consents", [
                "csrf": browser.formToken, "idempotency_key": "consent-young", "grantor": "self", "method": "written",
                "recipient": shelter.uuidString.lowercased(), "categories": "needs", "purpose": "Purposeqx shelter place",
            ], cookie: browser.cookie, headers: ["Accept-Language": "ro"])
            #expect(refused.status == .unprocessableContent)
            #expect(refused.text.contains("id=\"grantor-error\""), "\(refused.text.prefix(400))")
            #expect(refused.text.contains("O persoană sub 18 ani nu poate consimți singură"))
            #expect(refused.text.contains("value=\"Purposeqx shelter place\""))
            #expect(try CaseKit.count(app, "consent") == 0)
        }
    }
}
