import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// `GET /v1/worklist`: each part for the user it belongs to and not for another, read as one
/// `worklist.read` event.
@Suite("Cases: the action-needed worklist")
struct CasesWorklistTests {
    static func worklist(_ client: any TestClientProtocol, _ member: CaseKit.Member, sourceLocation: SourceLocation = #_sourceLocation) async throws -> [String: Any] {
        let response = try await CaseKit.call(client, .get, "/v1/worklist", member.token)
        #expect(response.status == .ok, "worklist: \(response.text)", sourceLocation: sourceLocation)
        return try response.json()
    }

    static func ids(_ work: [String: Any], _ part: String) -> [String] {
        ((work[part] as? [[String: Any]]) ?? []).compactMap { ($0["id"] as? String)?.lowercased() }
    }

    static func parts(_ work: [String: Any]) -> Set<String> { Set(work["parts"] as? [String] ?? []) }

    @Test func aNeedPastItsDeadlineIsOnItsCaseworkersWorklistAndNotOnAnothers() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let owner = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let colleague = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let (caseID, reference) = try await CaseKit.createCase(client, owner, CaseKit.intake(CaseKit.Person()))
            let needs = "/v1/cases/\(caseID.uuidString)/needs"
            let late = try await CaseKit.create(client, owner.token, needs, ["domain": "health", "service_type": "medical", "priority": "emergency"])
            let onTime = try await CaseKit.create(client, owner.token, needs, ["domain": "personal", "service_type": "counselling", "priority": "normal"])
            // Recorded 25 hours ago: an emergency's 24 hours have run out.
            _ = try CaseKit.ownerRows(app, "UPDATE need SET created_at = now() - interval '25 hours', due_at = now() - interval '1 hour' WHERE id = $1 RETURNING id::text", [late])

            let before = try CaseKit.count(app, "audit_event", where: "actor_user = $1", [owner.id])
            let work = try await Self.worklist(client, owner)
            #expect(try CaseKit.count(app, "audit_event", where: "actor_user = $1", [owner.id]) == before + 1, "one event for the whole worklist")
            #expect(try CaseKit.count(app, "audit_event", where: "actor_user = $1 AND subtype = 'worklist.read'", [owner.id]) == 1)
            #expect(Self.ids(work, "overdue_needs") == [late.uuidString.lowercased()], "\(work["overdue_needs"] ?? "none")")
            #expect(!Self.ids(work, "overdue_needs").contains(onTime.uuidString.lowercased()))
            let row = (work["overdue_needs"] as? [[String: Any]])?.first
            #expect(row?["overdue"] as? Bool == true)
            #expect(row?["case_reference"] as? String == reference)
            #expect(row?["note"] == nil)

            let other = try await Self.worklist(client, colleague)
            #expect(Self.parts(other).contains("overdue_needs"))
            #expect(Self.ids(other, "overdue_needs").isEmpty, "another caseworker's overdue needs are not mine")

            // Ended, it leaves the worklist.
            let closed = try await CaseKit.call(client, .post, needs + "/\(late.uuidString)/close", owner.token,
                                                ["outcome": "cancelled", "reason": "the person found a clinic herself"])
            #expect(closed.status == .ok, "\(closed.text)")
            #expect(Self.ids(try await Self.worklist(client, owner), "overdue_needs").isEmpty)
        }
    }

    @Test func aConsentEndingWithinSevenDaysIsOnTheWorklistAndOneEndingInTenIsNot() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let owner = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let colleague = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let (caseID, reference) = try await CaseKit.createCase(client, owner, CaseKit.intake(CaseKit.Person()))
            let consents = "/v1/cases/\(caseID.uuidString)/consents"
            let soon = try await CaseKit.create(client, owner.token, consents,
                                                CaseKit.consent(to: [shelter.id], categories: ["profile"], expiresAt: Date().addingTimeInterval(5 * 86_400)))
            let later = try await CaseKit.create(client, owner.token, consents,
                                                 CaseKit.consent(to: [shelter.id], categories: ["profile"], expiresAt: Date().addingTimeInterval(10 * 86_400)))
            let withdrawn = try await CaseKit.create(client, owner.token, consents,
                                                     CaseKit.consent(to: [shelter.id], categories: ["profile"], expiresAt: Date().addingTimeInterval(3 * 86_400)))
            let withdrawal = try await CaseKit.call(client, .post, consents + "/\(withdrawn.uuidString)/withdraw", owner.token)
            #expect(withdrawal.status == .ok, "\(withdrawal.text)")

            let work = try await Self.worklist(client, owner)
            let expiring = (work["consents_expiring"] as? [[String: Any]]) ?? []
            let ids = expiring.compactMap { (($0["consent"] as? [String: Any])?["id"] as? String)?.lowercased() }
            #expect(ids == [soon.uuidString.lowercased()], "\(expiring)")
            #expect(!ids.contains(later.uuidString.lowercased()))
            #expect(expiring.first?["case_reference"] as? String == reference)
            #expect(((try await Self.worklist(client, colleague))["consents_expiring"] as? [[String: Any]] ?? []).isEmpty)
        }
    }

    @Test func aClosureRequestIsOnTheSupervisorsWorklistOnly() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: ngo.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            #expect(Self.ids(try await Self.worklist(client, supervisor), "closures_to_approve").isEmpty)
            let request = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/close", caseworker.token, ["reason": "services-completed"])
            #expect(request.status.code < 300, "\(request.text)")

            let work = try await Self.worklist(client, supervisor)
            #expect(Self.ids(work, "closures_to_approve") == [caseID.uuidString.lowercased()])
            let mine = try await Self.worklist(client, caseworker)
            #expect(!Self.parts(mine).contains("closures_to_approve"))
            #expect(Self.ids(mine, "closures_to_approve").isEmpty)
        }
    }

    @Test func anUnreviewedEmergencyAccessIsOnTheOwningSupervisorsWorklistUntilReviewed() async throws {
        try await TestApp.run { app, client in
            let owning = try await app.organisation("Owning NGO \(UUID().uuidString.prefix(6))", country: "MD")
            let foreign = try await app.organisation("Foreign NGO \(UUID().uuidString.prefix(6))", country: "RO")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: owning.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: owning.id)
            let holder = try await CaseKit.member(app, client, .supervisor, in: foreign.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let granted = try await CaseKit.call(client, .post, "/v1/cases/\(caseID.uuidString)/break-glass", holder.token,
                                                 ["reason": "unconscious at the border post; allergies needed now"])
            #expect(granted.status == .created, "\(granted.text)")
            let grant = try CaseKit.id(granted)

            #expect(Self.ids(try await Self.worklist(client, supervisor), "grants_to_review") == [grant.uuidString.lowercased()])
            let worker = try await Self.worklist(client, caseworker)
            #expect(!Self.parts(worker).contains("grants_to_review"))
            #expect(Self.ids(worker, "grants_to_review").isEmpty)

            let review = try await CaseKit.call(client, .post, "/v1/break-glass/\(grant.uuidString)/review", supervisor.token, ["note": "justified"])
            #expect(review.status == .ok, "\(review.text)")
            #expect(Self.ids(try await Self.worklist(client, supervisor), "grants_to_review").isEmpty)
        }
    }

    @Test func aReferralWaitsOnTheRecipientsWorklistWithItsDueTimeAndAServiceDueOnTheSenders() async throws {
        try await TestApp.run { app, client in
            let ngo = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))")
            let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let base = "/v1/cases/\(caseID.uuidString)"
            let need = try await CaseKit.create(client, caseworker.token, base + "/needs",
                                                ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
            let consent = try await CaseKit.create(client, caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["profile"]))
            let referral = try await CaseKit.create(client, caseworker.token, base + "/referrals",
                                                    ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString,
                                                     "consent_id": consent.uuidString, "shared_categories": ["profile"]])
            let due = try await CaseKit.create(client, caseworker.token, base + "/services",
                                               ["type": "counselling", "status": "planned", "due_on": CaseKit.daysAgo(1)])
            let later = try await CaseKit.create(client, caseworker.token, base + "/services",
                                                 ["type": "legal_aid", "status": "planned", "due_on": CaseKit.daysAhead(5)])

            let inbox = try await Self.worklist(client, partner)
            let awaiting = (inbox["awaiting_answer"] as? [[String: Any]]) ?? []
            #expect(awaiting.compactMap { ($0["id"] as? String)?.lowercased() } == [referral.uuidString.lowercased()])
            #expect(awaiting.first?["due_at"] as? String != nil)
            #expect(!Self.parts(inbox).contains("services_due"), "a partner never sees cases")

            let work = try await Self.worklist(client, caseworker)
            #expect(Self.ids(work, "services_due") == [due.uuidString.lowercased()])
            #expect(!Self.ids(work, "services_due").contains(later.uuidString.lowercased()))
            #expect(Self.ids(work, "awaiting_answer").isEmpty, "the sender does not answer its own referral")
            #expect(Self.parts(work).isSuperset(of: ["awaiting_answer", "overdue_needs", "services_due", "consents_expiring", "open_cases"]))
        }
    }
}
