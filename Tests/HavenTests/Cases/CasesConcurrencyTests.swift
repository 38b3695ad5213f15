import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
@testable import HavenStore
import Postgres
import Testing

/// Optimistic concurrency on cases (`If-Match` / `ETag`) and reference allocation under
/// concurrent intake.
@Suite("Cases: If-Match and concurrency")
struct CasesConcurrencyTests {
    @Test("PATCH without If-Match is 428; with a stale version 412; with the current one it applies and bumps the ETag")
    func ifMatchRequired() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let path = "/v1/cases/\(created.id.uuidString)"

            let missing = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "low"])
            CaseKit.expectProblem(missing, .preconditionRequired, field: "If-Match")
            let malformed = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "low"], headers: ["If-Match": "seven"])
            #expect(malformed.status.code >= 400 && malformed.status.code < 500 && malformed.status != .ok)
            let stale = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "low"], headers: ["If-Match": "W/\"0\""])
            CaseKit.expectProblem(stale, .preconditionFailed)
            let unchanged = try await CaseKit.call(client, .get, path, caseworker.token)
            #expect(unchanged.headers[.eTag] == "W/\"1\"")
            #expect(try unchanged.json()["risk_level"] as? String == "high", "refused changes store nothing")

            let applied = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "low"], headers: ["If-Match": "W/\"1\""])
            #expect(applied.status == .ok, "\(applied.text)")
            #expect(applied.headers[.eTag] == "W/\"2\"")
            #expect(try applied.json()["risk_level"] as? String == "low")
            // The old ETag is stale now.
            let again = try await CaseKit.call(client, .patch, path, caseworker.token, ["risk_level": "medium"], headers: ["If-Match": "W/\"1\""])
            CaseKit.expectProblem(again, .preconditionFailed)
            let after = try await CaseKit.call(client, .get, path, caseworker.token)
            #expect(try after.json()["risk_level"] as? String == "low")
            #expect(after.headers[.eTag] == "W/\"2\"")
        }
    }

    @Test("two concurrent updaters with the same ETag: exactly one 200, one 412, and the winner's change is stored", arguments: 0..<3)
    func concurrentUpdaters(round: Int) async throws {
        try await TestApp.run(poolSize: 6) { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let path = "/v1/cases/\(created.id.uuidString)"
            let read = try await CaseKit.call(client, .get, path, caseworker.token)
            let etag = try #require(read.headers[.eTag])

            let newName = "Renamedqx\(round)\(UUID().uuidString.prefix(6))"
            let tokens = [caseworker.token, supervisor.token]
            let results = try await withThrowingTaskGroup(of: (Int, TestResponse).self) { group in
                for index in 0..<2 {
                    let token = tokens[index]
                    group.addTask {
                        (index, try await CaseKit.call(client, .patch, path, token, Self.patch(index, newName: newName), headers: ["If-Match": etag]))
                    }
                }
                var results: [Int: TestResponse] = [:]
                for try await (index, response) in group { results[index] = response }
                return results
            }
            let statuses = (0..<2).map { results[$0]?.status.code ?? 0 }
            #expect(statuses.sorted() == [200, 412], "statuses \(statuses): \(results.values.map(\.text))")
            let winner = try #require(statuses.firstIndex(of: 200))

            let final = try await CaseKit.call(client, .get, path, supervisor.token)
            let body = try final.json()
            #expect(final.headers[.eTag] == "W/\"2\"", "exactly one change applied")
            let identity = (body["person"] as? [String: Any])?["identity"] as? [String: Any]
            if winner == 0 {
                #expect(body["risk_level"] as? String == "low")
                #expect(body["note"] as? String == "caseworker's change")
                #expect(body["identification_status"] as? String == "presumed", "the loser's change is not half-applied")
                #expect(identity?["given_name"] as? String != newName)
            } else {
                #expect(body["identification_status"] as? String == "identified")
                #expect(identity?["given_name"] as? String == newName)
                #expect(body["risk_level"] as? String == "high", "the loser's change is not half-applied")
                #expect(body["note"] == nil)
            }
            // The loser re-reads and retries: nothing is lost.
            let loser = 1 - winner
            let retry = try await CaseKit.call(client, .patch, path, tokens[loser], Self.patch(loser, newName: newName), headers: ["If-Match": final.headers[.eTag] ?? ""])
            #expect(retry.status == .ok, "\(retry.text)")
            let merged = try retry.json()
            #expect(merged["risk_level"] as? String == "low")
            #expect(merged["identification_status"] as? String == "identified")
            #expect(((merged["person"] as? [String: Any])?["identity"] as? [String: Any])?["given_name"] as? String == newName)
            #expect(retry.headers[.eTag] == "W/\"3\"")
        }
    }

    /// The two competing changes: the caseworker's (0) and the supervisor's (1).
    static func patch(_ index: Int, newName: String) -> [String: Any] {
        index == 0
            ? ["risk_level": "low", "note": "caseworker's change"]
            : ["identification_status": "identified", "person": ["identity": ["given_name": newName]]]
    }

    @Test("50 concurrent intakes in one organisation get 50 distinct references")
    func concurrentIntakes() async throws {
        try await TestApp.run(poolSize: 12) { app, client in
            let org = try await app.organisation(country: "MD")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let token = caseworker.token
            let supervisorToken = supervisor.token
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        let body = CaseKit.intake(CaseKit.Person(), risk: ["high", "medium", "low"][index % 3])
                        return try await CaseKit.call(client, .post, "/v1/cases", index % 5 == 0 ? supervisorToken : token, body)
                    }
                }
                var all: [TestResponse] = []
                for try await response in group { all.append(response) }
                return all
            }
            #expect(responses.count == 50)
            let failures = responses.filter { $0.status != .created }
            #expect(failures.isEmpty, "\(failures.map { "\($0.status.code) \($0.text)" })")
            let references = try responses.compactMap { try $0.json()["reference"] as? String }
            #expect(references.count == 50)
            #expect(Set(references).count == 50, "duplicates: \(references.sorted())")
            #expect(references.allSatisfy { $0.wholeMatch(of: /^MD-\d{4}-\d{6}$/) != nil })
            let stored = try CaseKit.ownerRows(app, "SELECT reference FROM case_file WHERE organisation_id = $1", [org.id]).compactMap { $0[0] }
            #expect(stored.count == 50 && Set(stored).count == 50)
        }
    }

    @Test("referrals under one consent do not wait for each other; a withdrawal waits for them, then ends them")
    func referralsShareTheirConsentsLock() async throws {
        try await TestApp.run { app, client in
            let scene = try await CasesPartnerViewTests.scene(app, client)
            let (first, consent) = try await CasesPartnerViewTests.refer(client, scene, ["profile"])
            // Another referral under way on this consent, holding it as the service does, not yet committed.
            let held = try app.database.connect(as: DatabaseSetup.ownerRole)
            _ = try held.execute("BEGIN")
            _ = try held.query("SELECT id FROM consent WHERE id = $1 FOR SHARE", [consent])
            let holder = try held.query("SELECT pg_current_xact_id()::text")[0].decode(String.self, at: 0)
            let second = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/referrals", [
                "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": consent.uuidString,
                "shared_categories": ["profile"],
            ])
            let withdrawal = Task {
                try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/consents/\(consent.uuidString)/withdraw", scene.caseworker.token)
            }
            // PostgreSQL says when the withdrawal waits for the held lock; no clock decides.
            var waiting = false
            for _ in 0..<1_500 where !waiting {
                waiting = try CaseKit.ownerRows(app, """
                    SELECT count(*)::text FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted AND transactionid::text = $1
                    """, [holder])[0][0] != "0"
                if !waiting { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(waiting, "the withdrawal did not wait for the referral under way")
            _ = try held.execute("ROLLBACK")
            let answer = try await withdrawal.value
            #expect(answer.status == .ok, "\(answer.text)")
            for referral in [first, second] {
                let row = try CaseKit.ownerRows(app, "SELECT status, status_reason FROM referral WHERE id = $1", [referral])
                #expect(row.first == ["cancelled", "consent-withdrawn"], "referral \(referral): \(row)")
            }
        }
    }
}
