import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// An id that does not exist and another organisation's record look the same to the caller and
/// in every trail the caller's organisation reads (S2, S8): neither the answer nor the caller's
/// supervisor learns that the record exists.
@Suite struct PrivacyExistenceOracleTests {
    @Test func anUnknownIdAndAnotherOrganisationsRecordLeaveTheSameTraceInTheCallersTrail() async throws {
        try await TestApp.run { app, client in
            let own = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let other = try await app.organisation("Synthetic Office \(UUID().uuidString.prefix(6))")
            let owner = try await CaseKit.member(app, client, .caseworker, in: other.id)
            let (real, _) = try await CaseKit.createCase(client, owner, CaseKit.intake(CaseKit.Person()))
            let prober = try await CaseKit.member(app, client, .caseworker, in: own.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: own.id)
            let unknown = UUID()

            for path in ["/v1/cases/\(real.uuidString)", "/v1/cases/\(unknown.uuidString)"] {
                CaseKit.expectProblem(try await CaseKit.call(client, .get, path, prober.token), .notFound)
            }
            let trail = try await CaseKit.call(client, .get, "/v1/audit-events?subtype=access.denied&actor=\(prober.id.uuidString)", supervisor.token)
            #expect(trail.status == .ok, "\(trail.text)")
            let events = try trail.jsonArray()
            #expect(events.count == 2, "one denial for each request: \(trail.text)")
            // Everything but the event's own id, time and request is the same for both.
            func shape(_ event: [String: Any]) -> String {
                var event = event
                for key in ["id", "recorded", "request_id"] { event[key] = nil }
                let data = (try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys])) ?? Data()
                return String(decoding: data, as: UTF8.self)
            }
            #expect(Set(events.map(shape)).count == 1, "the two denials differ: \(trail.text)")
            #expect(!trail.text.contains(real.uuidString.lowercased()) && !trail.text.contains(real.uuidString))
            #expect(!trail.text.contains(unknown.uuidString.lowercased()) && !trail.text.contains(unknown.uuidString))

            // The owning organisation's supervisor still sees the attempt on its record.
            let ownerSupervisor = try await CaseKit.member(app, client, .supervisor, in: other.id)
            let theirs = try await CaseKit.call(client, .get, "/v1/audit-events?subtype=access.denied&case_id=\(real.uuidString)", ownerSupervisor.token)
            #expect(try theirs.jsonArray().count == 1, "\(theirs.text)")
        }
    }
}
