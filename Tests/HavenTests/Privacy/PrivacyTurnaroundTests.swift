import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Referral turnaround through HTTP (S18): median and p90 of the hours to the first answer and
/// the days to completion, computed by PostgreSQL, published only for groups of 11 or more, in
/// the reader's scope, only for cases that consent to statistics.
@Suite("Privacy: referral turnaround")
struct PrivacyTurnaroundTests {
    struct World: Sendable {
        var supervisor: CaseKit.Member
        var caseworker: CaseKit.Member
        var partner: CaseKit.Member
        var auditor: CaseKit.Member
        var outsider: CaseKit.Member
        var referrals: [UUID]
        var identifying: [String]
    }

    /// Twelve safe-accommodation referrals answered 1, 2, … 12 hours after they were sent (eleven
    /// of them completed 1, 2, … 11 days after), five counselling referrals answered after 100
    /// hours (two rejected), and three referrals of a case without statistics consent answered
    /// after 1000 hours, which must count nowhere. The times are set by SQL as the owner, and
    /// everything is moved to `PrivacyKit.publishedYear`, which national figures are asked for.
    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> World {
        let org = try await app.organisation("Synthetic NGO \(UUID().uuidString.prefix(6))", country: "MD")
        let shelter = try await app.organisation("Synthetic Shelter \(UUID().uuidString.prefix(6))", type: .shelter,
                                                 services: [.safeAccommodation, .counselling])
        let other = try await app.organisation("Synthetic Other NGO \(UUID().uuidString.prefix(6))", country: "MD")
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let auditor = try await CaseKit.member(app, client, .auditor, in: other.id)
        let outsider = try await CaseKit.member(app, client, .supervisor, in: other.id)
        let person = CaseKit.Person(), silent = CaseKit.Person()
        let counted = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
        let notCounted = try await CaseKit.createCase(client, caseworker, CaseKit.intake(silent))
        let countedConsent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(counted.id.uuidString)/consents",
                                                      PrivacyKit.statisticsConsent(true, recipient: shelter.id))
        let silentConsent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(notCounted.id.uuidString)/consents",
                                                     PrivacyKit.statisticsConsent(false, recipient: shelter.id))
        func refer(_ caseID: UUID, _ consent: UUID, _ service: String, priority: String) async throws -> UUID {
            try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/referrals", [
                "to_organisation": shelter.id.uuidString, "service_type": service, "consent_id": consent.uuidString,
                "shared_categories": ["needs"], "priority": priority,
            ] as [String: Any])
        }
        func move(_ referral: UUID, _ body: [String: Any]) async throws {
            let moved = try await CaseKit.transition(client, partner.token, referral, body)
            #expect(moved.status == .ok, "\(body): \(moved.text)")
        }
        /// Moves the referral's first transition to `status` to `amount` units after its creation.
        func at(_ referral: UUID, _ status: String, _ amount: Int, _ unit: String) throws {
            let changed = try CaseKit.ownerRows(app, """
                UPDATE referral_transition t SET at = r.created_at + ($3::text || ' ' || $4::text)::interval
                FROM referral r WHERE r.id = t.referral_id AND t.referral_id = $1 AND t.to_status = $2::text RETURNING t.id::text
                """, [referral, status, String(amount), unit])
            #expect(changed.count == 1, "\(status) of \(referral)")
        }
        var referrals: [UUID] = []
        for index in 1...12 {
            let referral = try await refer(counted.id, countedConsent, "safe_accommodation", priority: "urgent")
            try await move(referral, ["to": "accepted"])
            try at(referral, "accepted", index, "hours")
            if index <= 11 {
                try await move(referral, ["to": "in-progress"])
                try await move(referral, ["to": "completed", "outcome": "synthetic outcome"])
                try at(referral, "completed", index, "days")
            }
            referrals.append(referral)
        }
        for index in 1...5 {
            let referral = try await refer(counted.id, countedConsent, "counselling", priority: "normal")
            try await move(referral, index <= 2 ? ["to": "rejected", "reason": "no-capacity"] : ["to": "accepted"])
            try at(referral, index <= 2 ? "rejected" : "accepted", 100, "hours")
            referrals.append(referral)
        }
        for _ in 1...3 {
            let referral = try await refer(notCounted.id, silentConsent, "safe_accommodation", priority: "urgent")
            try await move(referral, ["to": "accepted"])
            try at(referral, "accepted", 1000, "hours")
            referrals.append(referral)
        }
        try PrivacyKit.moveToPublishedYear(app)
        let identifying = person.identifyingValues + silent.identifyingValues + [counted.reference, notCounted.reference]
            + [counted.id, notCounted.id].flatMap { [$0.uuidString, $0.uuidString.lowercased()] } + referrals.map { $0.uuidString.lowercased() }
        return World(supervisor: supervisor, caseworker: caseworker, partner: partner, auditor: auditor, outsider: outsider,
                     referrals: referrals, identifying: identifying)
    }

    static func groups(_ body: [String: Any]) -> [String: [String: Any]] {
        Dictionary((body["groups"] as? [[String: Any]] ?? []).map { ($0["group"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
    }

    @Test("JSON and CSV: median and p90 of a group of 12 come out right; a group of 5 shows <11 nationally; audited by dimension only")
    func turnaroundReport() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let year = PrivacyKit.publishedYear
            // The national view (every referral of the world is the organisation's): published, so suppressed.
            let response = try await CaseKit.call(client, .get, "/v1/reports/turnaround?period=\(year)&by=service_type", world.auditor.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(body["scope"] as? String == "national")
            #expect(body["release"] as? String == "published")
            #expect(body["k"] as? Int == 11)
            #expect(body["dimension"] as? String == "service_type")
            let groups = Self.groups(body)
            #expect(Set(groups.keys) == ["safe_accommodation", "counselling"], "\(response.text)")

            // Hours 1…12: median 6.5, p90 10.9 (percentile_cont); days 1…11: median 6, p90 10.
            let shelter = try #require(groups["safe_accommodation"])
            let answer = PrivacyKit.object(shelter["first_answer"])
            #expect(answer["median_hours"] as? Double == 6.5, "\(answer)")
            #expect(answer["p90_hours"] as? Double == 10.9, "\(answer)")
            // Its count is 12, or hidden to protect the counselling group's 5 from the total.
            let answered = PrivacyTurnaroundTests.shown(answer["referrals"])
            #expect(answered == "12" || answered == "suppressed", "\(answer)")
            let completion = PrivacyKit.object(shelter["completion"])
            #expect(completion["median_days"] as? Double == 6.0, "\(completion)")
            #expect(completion["p90_days"] as? Double == 10.0, "\(completion)")

            // Five answers (two rejections among them) are too few: nothing but <11.
            let counselling = try #require(groups["counselling"])
            let small = PrivacyKit.object(counselling["first_answer"])
            #expect(small["referrals"] as? String == "<11" && small["median_hours"] as? String == "<11" && small["p90_hours"] as? String == "<11",
                    "\(small)")
            #expect(!response.text.contains("1000"), "the case without statistics consent counts nowhere")

            // Over the whole scope: 17 answers, 9 of them within 9 hours, the five slow ones last.
            let overall = PrivacyKit.object(body["overall"])
            let all = PrivacyKit.object(overall["first_answer"])
            #expect(all["median_hours"] as? Double == 9.0, "\(all)")
            #expect(all["p90_hours"] as? Double == 100.0, "\(all)")
            #expect(all["referrals"] as? Int == 17, "\(all)")
            CaseKit.expectAbsent(world.identifying, in: response.text, "turnaround report")

            let csv = try await CaseKit.call(client, .get, "/v1/reports/turnaround?period=\(year)&by=service_type&format=csv", world.auditor.token)
            #expect(csv.status == .ok, "\(csv.text)")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            let lines = csv.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines.first == "service_type,first_answer_referrals,first_answer_median_hours,first_answer_p90_hours,"
                    + "first_answer_in_time_percent,completion_referrals,completion_median_days,completion_p90_days", "\(lines)")
            // Every answer came within its priority's deadline (urgent 72 hours, normal 14 days).
            #expect(lines.contains { $0.hasPrefix("safe_accommodation,") && $0.hasSuffix(",6.5,10.9,100,11,6.0,10.0") }, "\(lines)")
            #expect(lines.contains("counselling,<11,<11,<11,<11,0,<11,<11"), "\(lines)")
            #expect(lines.contains("(all),17,9.0,100.0,100,11,6.0,10.0"), "\(lines)")

            // Had the shelter referrals been due 6 hours after they were sent, the answers after
            // 7…12 hours were late: half of the twelve in time, and 11 of the 17 overall.
            _ = try CaseKit.ownerRows(app, "UPDATE referral SET due_at = created_at + interval '6 hours' WHERE service_type = 'safe_accommodation'")
            let late = try await CaseKit.call(client, .get, "/v1/reports/turnaround?period=\(year)&by=service_type", world.auditor.token)
            let lateBody = try late.json()
            #expect(PrivacyKit.object(Self.groups(lateBody)["safe_accommodation"]?["first_answer"])["in_time_percent"] as? Int == 50, "\(late.text)")
            #expect(PrivacyKit.object(Self.groups(lateBody)["counselling"]?["first_answer"])["in_time_percent"] as? String == "<11", "\(late.text)")
            #expect(PrivacyKit.object(PrivacyKit.object(lateBody["overall"])["first_answer"])["in_time_percent"] as? Int == 65, "\(late.text)")
            CaseKit.expectAbsent(world.identifying, in: csv.text, "turnaround CSV")

            // One event per read, naming the dimension and nothing measured.
            let events = try CaseKit.ownerRows(app, "SELECT detail::text FROM audit_event WHERE subtype = 'report.turnaround' AND actor_user = $1",
                                               [world.auditor.id])
            #expect(events.count == 3, "\(events)")
            for event in events { #expect(event[0]?.contains("service_type") == true && event[0]?.contains("6.5") == false, "\(event)") }

            // The organisation's own supervisor reads the same figures exactly, for any span of days.
            let own = try await CaseKit.call(client, .get, "/v1/reports/turnaround?by=service_type&from=\(PrivacyKit.publishedYear)-06-10&to=\(PrivacyKit.publishedYear)-06-20",
                                             world.supervisor.token)
            #expect(own.status == .ok, "\(own.text)")
            let ownBody = try own.json()
            #expect(ownBody["scope"] as? String == "organisation" && ownBody["release"] as? String == "operational", "\(own.text)")
            let ownCounselling = PrivacyKit.object(Self.groups(ownBody)["counselling"]?["first_answer"])
            #expect(ownCounselling["referrals"] as? Int == 5, "\(own.text)")
            #expect(ownCounselling["median_hours"] is Double, "\(own.text)")
            #expect(!own.text.contains("<11"), "nothing hidden; no completion time where none completed: \(own.text)")
        }
    }

    @Test("scope: an auditor sees the nation, another organisation's supervisor nothing of it; other roles are refused; bad input is 400")
    func turnaroundScope() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let national = try await CaseKit.call(client, .get, "/v1/reports/turnaround?by=priority&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            #expect(national.status == .ok, "\(national.text)")
            let body = try national.json()
            #expect(body["scope"] as? String == "national")
            let urgent = PrivacyKit.object(Self.groups(body)["urgent"]?["first_answer"])
            #expect(urgent["median_hours"] as? Double == 6.5, "the twelve urgent ones, not the 1000-hour ones: \(national.text)")

            let elsewhere = try await CaseKit.call(client, .get, "/v1/reports/turnaround", world.outsider.token)
            #expect(elsewhere.status == .ok)
            #expect(Self.groups(try elsewhere.json()).isEmpty, "\(elsewhere.text)")

            for member in [world.caseworker, world.partner] {
                let refused = try await CaseKit.call(client, .get, "/v1/reports/turnaround", member.token)
                #expect(refused.status == .forbidden || refused.status == .notFound, "\(member.role): \(refused.status.code)")
                CaseKit.expectAbsent(world.identifying, in: refused.text, "\(member.role)'s refusal")
            }
            #expect(try await CaseKit.call(client, .get, "/v1/reports/turnaround", nil).status == .unauthorized)
            for (query, field) in [("by=status", "by"), ("by=service_type,priority", "by"), ("period=2026-Q5", "period"), ("period=", "period"),
                                   ("period=+2026", "period"), ("format=xml", "format")] {
                let bad = try await CaseKit.call(client, .get, "/v1/reports/turnaround?\(query)", world.supervisor.token)
                CaseKit.expectProblem(bad, .badRequest, field: field)
            }
        }
    }

    /// A published count as text: a number or its marker.
    static func shown(_ value: Any?) -> String {
        if let number = value as? Int { return String(number) }
        return value as? String ?? "?"
    }
}
