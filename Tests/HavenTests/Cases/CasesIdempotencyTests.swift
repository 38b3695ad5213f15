import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// `Idempotency-Key` on every creating POST: a retry with the same key and body gets the first
/// answer and creates nothing; the same key with another body is 422.
@Suite("Cases: idempotent creation")
struct CasesIdempotencyTests {
    static let replayed = HTTPField.Name("Idempotent-Replayed")!

    /// Sends `body` twice with `key`, checks the second is a replay of the first, then sends
    /// `other` with the same key and checks it is refused; `table` holds exactly one new row.
    static func checkReplay(
        _ app: TestApp, _ client: any TestClientProtocol, token: String, path: String, body: [String: Any], other: [String: Any],
        table: String, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let before = try CaseKit.count(app, table)
        let key = "retry-\(UUID().uuidString)"
        let first = try await CaseKit.call(client, .post, path, token, body, headers: ["Idempotency-Key": key])
        #expect(first.status == .created, "POST \(path): \(first.text)", sourceLocation: sourceLocation)
        #expect(first.headers[Self.replayed] == nil, sourceLocation: sourceLocation)
        let second = try await CaseKit.call(client, .post, path, token, body, headers: ["Idempotency-Key": key])
        #expect(second.status == first.status, "replay of \(path): \(second.text)", sourceLocation: sourceLocation)
        #expect(second.text == first.text, "the replay answers the first body", sourceLocation: sourceLocation)
        #expect(second.headers[Self.replayed] == "true", sourceLocation: sourceLocation)
        // The record may have changed since the first answer: a replay does not vouch for its version.
        #expect(second.headers[.eTag] == nil, sourceLocation: sourceLocation)
        #expect(try CaseKit.count(app, table) == before + 1, "one row in \(table)", sourceLocation: sourceLocation)

        let different = try await CaseKit.call(client, .post, path, token, other, headers: ["Idempotency-Key": key])
        CaseKit.expectProblem(different, .unprocessableContent, field: "Idempotency-Key", sourceLocation: sourceLocation)
        #expect(try CaseKit.count(app, table) == before + 1, "nothing more in \(table)", sourceLocation: sourceLocation)

        // Without a key, the same body creates again.
        let fresh = try await CaseKit.call(client, .post, path, token, body)
        #expect(fresh.status == .created, "\(fresh.text)", sourceLocation: sourceLocation)
        #expect(try CaseKit.count(app, table) == before + 2, sourceLocation: sourceLocation)
    }

    @Test("intake: a retry replays the first answer and creates one case; another body with the key is 422")
    func intakeReplay() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let person = CaseKit.Person()
            try await Self.checkReplay(app, client, token: caseworker.token, path: "/v1/cases", body: CaseKit.intake(person),
                                       other: CaseKit.intake(person, risk: "low"), table: "case_file")
            // The stored first answer holds the person: it is sealed, never in clear.
            for value in person.identifyingValues {
                let clear = try CaseKit.count(app, "idempotency_key", where: "position(convert_to($1, 'UTF8') in coalesce(response_sealed, ''::bytea)) > 0", [value])
                #expect(clear == 0, "\(value) stored in clear in idempotency_key")
            }
        }
    }

    /// A replay is a read of the first answer: a caseworker who has since lost the case gets
    /// the same 404 as any outsider, audited as a denial, and not the need they once created.
    @Test("a replay after the case was reassigned away is 404, not the stored answer")
    func replayAsksThePolicyAgain() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let colleague = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let file = try await CaseKit.createCase(client, supervisor, CaseKit.intake(CaseKit.Person(), assignee: caseworker.id))
            let path = "/v1/cases/\(file.id.uuidString)"
            let need: [String: Any] = ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"]
            let key = "need-\(UUID().uuidString)"
            let first = try await CaseKit.call(client, .post, path + "/needs", caseworker.token, need, headers: ["Idempotency-Key": key])
            #expect(first.status == .created, "\(first.text)")
            let again = try await CaseKit.call(client, .post, path + "/needs", caseworker.token, need, headers: ["Idempotency-Key": key])
            #expect(again.status == .created && again.headers[Self.replayed] == "true", "\(again.text)")

            let assign = try await CaseKit.call(client, .post, path + "/assign", supervisor.token, ["assignee": colleague.id.uuidString])
            #expect(assign.status == .ok, "\(assign.text)")
            let denials = try CaseKit.deniedCount(app, actor: caseworker.id)
            let replay = try await CaseKit.call(client, .post, path + "/needs", caseworker.token, need, headers: ["Idempotency-Key": key])
            CaseKit.expectProblem(replay, .notFound)
            #expect(replay.headers[Self.replayed] == nil)
            #expect(try CaseKit.deniedCount(app, actor: caseworker.id) == denials + 1)
            #expect(try CaseKit.count(app, "need", where: "case_id = $1", [file.id]) == 1)
            // The allowed replay was audited against the case it read.
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'idempotency.replay' AND case_id = $1 AND actor_user = $2",
                                      [file.id, caseworker.id]) == 1)
        }
    }

    @Test("a replay is the whole first answer, its Location header included")
    func replayKeepsLocation() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let body = CaseKit.intake(CaseKit.Person())
            let first = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, body, headers: ["Idempotency-Key": "location-1"])
            let second = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, body, headers: ["Idempotency-Key": "location-1"])
            #expect(first.status == .created && second.status == .created)
            #expect(first.headers[.location] != nil)
            #expect(second.headers[.location] == first.headers[.location], "replayed Location: \(second.headers[.location] ?? "none")")
        }
    }

    @Test("keys belong to their user and their endpoint")
    func keysAreScoped() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let first = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let second = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let key = "shared-\(UUID().uuidString)"
            let body = CaseKit.intake(CaseKit.Person())
            let mine = try await CaseKit.call(client, .post, "/v1/cases", first.token, body, headers: ["Idempotency-Key": key])
            let theirs = try await CaseKit.call(client, .post, "/v1/cases", second.token, body, headers: ["Idempotency-Key": key])
            #expect(mine.status == .created && theirs.status == .created)
            #expect(theirs.headers[Self.replayed] == nil, "another user's key is not mine")
            #expect(try CaseKit.id(mine) != CaseKit.id(theirs))
            #expect(try CaseKit.count(app, "case_file") == 2)
            // The same key on another endpoint is a different request.
            let caseID = try CaseKit.id(mine)
            let need = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/needs", first.token,
                                              ["domain": "health", "service_type": "medical", "priority": "urgent"], headers: ["Idempotency-Key": key])
            CaseKit.expectProblem(need, .unprocessableContent, field: "Idempotency-Key")
            #expect(try CaseKit.count(app, "need") == 0)
            // Malformed keys are refused before anything happens.
            let malformed = try await CaseKit.call(client, .post, "/v1/cases", first.token, body, headers: ["Idempotency-Key": String(repeating: "k", count: 300)])
            CaseKit.expectProblem(malformed, .badRequest, field: "Idempotency-Key")
            #expect(try CaseKit.count(app, "case_file") == 2)
        }
    }

    @Test("concurrent retries with one key create one case and all answer the same")
    func concurrentRetries() async throws {
        try await TestApp.run(poolSize: 8) { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let token = caseworker.token
            let key = "burst-\(UUID().uuidString)"
            let person = CaseKit.Person()
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<5 {
                    group.addTask { try await CaseKit.call(client, .post, "/v1/cases", token, CaseKit.intake(person), headers: ["Idempotency-Key": key]) }
                }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(responses.allSatisfy { $0.status == .created }, "\(responses.map { "\($0.status.code) \($0.text)" })")
            #expect(Set(responses.map(\.text)).count == 1, "every retry answers the first body")
            #expect(responses.filter { $0.headers[Self.replayed] == "true" }.count == 4)
            #expect(try CaseKit.count(app, "case_file") == 1)
        }
    }

    @Test("needs, services, consents and referrals replay the same way")
    func detailsReplay() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation, .counselling])
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let base = "/v1/cases/\(caseID.uuidString)"
            try await Self.checkReplay(
                app, client, token: caseworker.token, path: base + "/needs",
                body: ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency", "note": "needs a bed"],
                other: ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent", "note": "needs a bed"], table: "need")
            try await Self.checkReplay(
                app, client, token: caseworker.token, path: base + "/services",
                body: ["type": "counselling", "due_on": CaseKit.daysAhead(5),
                       "detail": ["counselling": [["date": CaseKit.daysAgo(1), "counsellor": "C. One", "minutes": 50, "modality": "individual", "note": "session one"]]]],
                other: ["type": "counselling", "due_on": CaseKit.daysAhead(6)], table: "service_episode")
            try await Self.checkReplay(
                app, client, token: caseworker.token, path: base + "/consents",
                body: CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]),
                other: CaseKit.consent(to: [shelter.id], categories: ["profile"]), table: "consent")
            let consent = try await CaseKit.create(client, caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
            try await Self.checkReplay(
                app, client, token: caseworker.token, path: base + "/referrals",
                body: ["to_organisation": shelter.id.uuidString, "service_type": "safe_accommodation", "consent_id": consent.uuidString,
                       "shared_categories": ["profile", "needs"], "priority": "urgent", "note": "please call first"],
                other: ["to_organisation": shelter.id.uuidString, "service_type": "counselling", "consent_id": consent.uuidString,
                        "shared_categories": ["profile"]], table: "referral")
            // One transition row per created referral: the replay recorded none.
            #expect(try CaseKit.count(app, "referral_transition") == 2)
        }
    }
}
