import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The CTDC / HTCDS core of the trafficking profile and the GBVIMS incident core of the
/// violence profile: stored and answered as given, every wrong one named at once, and the days
/// from the incident to the first service derived, never typed.
@Suite("Cases: the standards' profile fields")
struct CasesStandardProfileTests {
    static func body(trafficking: [String: Any], violence: [String: Any]) -> [String: Any] {
        var body = CaseKit.intake(CaseKit.Person(), caseType: "both")
        var t = body["trafficking"] as? [String: Any] ?? [:]
        t.merge(trafficking) { $1 }
        var v = body["violence"] as? [String: Any] ?? [:]
        v.merge(violence) { $1 }
        body["trafficking"] = t
        body["violence"] = v
        return body
    }

    @Test("the trafficking and violence core fields round-trip through intake, read and change")
    func roundTrip() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let year = CaseKit.thisYear
            let created = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, Self.body(
                trafficking: ["recruitment_type": "job_offer", "transit_countries": ["UA", "PL"], "other_countries_of_exploitation": ["DE"],
                              "years_of_exploitation": [year - 2, year - 1], "trafficked_as_child": true],
                violence: ["incident_date": CaseKit.daysAgo(20), "reported_on": CaseKit.daysAgo(15), "perpetrator_count": 2,
                           "perpetrator_sex": "both", "perpetrator_age_group": "26-40"]))
            #expect(created.status == .created, "\(created.text)")
            let id = try CaseKit.id(created)
            let read = try await CaseKit.call(client, .get, "/v1/cases/\(id.uuidString)", caseworker.token)
            #expect(read.status == .ok, "\(read.text)")
            let file = try read.json()
            let trafficking = try #require(file["trafficking"] as? [String: Any], "\(read.text)")
            #expect(trafficking["recruitment_type"] as? String == "job_offer")
            #expect(trafficking["transit_countries"] as? [String] == ["UA", "PL"])
            #expect(trafficking["other_countries_of_exploitation"] as? [String] == ["DE"])
            #expect(trafficking["years_of_exploitation"] as? [Int] == [year - 2, year - 1])
            #expect(trafficking["trafficked_as_child"] as? Bool == true)
            let violence = try #require(file["violence"] as? [String: Any], "\(read.text)")
            #expect(violence["incident_date"] as? String == CaseKit.daysAgo(20))
            #expect(violence["reported_on"] as? String == CaseKit.daysAgo(15))
            #expect(violence["perpetrator_count"] as? Int == 2)
            #expect(violence["perpetrator_sex"] as? String == "both")
            #expect(violence["perpetrator_age_group"] as? String == "26-40")
            #expect(violence["days_to_first_service"] == nil, "no service yet: \(read.text)")

            // A change replaces the profile as given, and is read back.
            var patchedViolence = violence
            patchedViolence["perpetrator_count"] = 1
            patchedViolence["perpetrator_sex"] = "male"
            var patchedTrafficking = trafficking
            patchedTrafficking["recruitment_type"] = "abduction"
            patchedTrafficking["transit_countries"] = ["RO"]
            let patch = try await CaseKit.call(client, .patch, "/v1/cases/\(id.uuidString)", caseworker.token,
                                               ["violence": patchedViolence, "trafficking": patchedTrafficking],
                                               headers: ["If-Match": read.headers[.eTag] ?? ""])
            #expect(patch.status == .ok, "\(patch.text)")
            let again = try await CaseKit.call(client, .get, "/v1/cases/\(id.uuidString)", caseworker.token)
            let changed = try again.json()
            #expect((changed["violence"] as? [String: Any])?["perpetrator_count"] as? Int == 1)
            #expect((changed["violence"] as? [String: Any])?["perpetrator_sex"] as? String == "male")
            #expect((changed["violence"] as? [String: Any])?["incident_date"] as? String == CaseKit.daysAgo(20))
            #expect((changed["trafficking"] as? [String: Any])?["recruitment_type"] as? String == "abduction")
            #expect((changed["trafficking"] as? [String: Any])?["transit_countries"] as? [String] == ["RO"])
        }
    }

    @Test("wrong values are one 422 naming every wrong field, and nothing is stored")
    func badValues() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let response = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, Self.body(
                trafficking: ["transit_countries": ["XX"], "other_countries_of_exploitation": ["RU"],
                              "years_of_exploitation": [1899, CaseKit.thisYear + 1]],
                violence: ["incident_date": CaseKit.daysAgo(3), "reported_on": CaseKit.daysAgo(5), "perpetrator_count": 100]))
            CaseKit.expectProblem(response, .unprocessableContent)
            for field in ["trafficking.transit_countries", "trafficking.other_countries_of_exploitation", "trafficking.years_of_exploitation",
                          "violence.incident_date", "violence.perpetrator_count"] {
                #expect(response.problemFields.contains(field), "\(field) not named: \(response.text)")
            }
            let future = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, Self.body(
                trafficking: [:], violence: ["incident_date": CaseKit.daysAhead(2), "reported_on": CaseKit.daysAhead(3), "perpetrator_count": 0]))
            CaseKit.expectProblem(future, .unprocessableContent)
            for field in ["violence.incident_date", "violence.reported_on", "violence.perpetrator_count"] {
                #expect(future.problemFields.contains(field), "\(field) not named: \(future.text)")
            }
            // Closed sets, and the derived days, which no one types in.
            let words = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, Self.body(
                trafficking: ["recruitment_type": "kidnapped"],
                violence: ["perpetrator_sex": "many", "perpetrator_age_group": "adult", "days_to_first_service": 3]))
            CaseKit.expectProblem(words, .unprocessableContent)
            for field in ["trafficking.recruitment_type", "violence.perpetrator_sex", "violence.perpetrator_age_group",
                          "violence.days_to_first_service"] {
                #expect(words.problemFields.contains(field), "\(field) not named: \(words.text)")
            }
            let list = try await CaseKit.call(client, .get, "/v1/cases", caseworker.token)
            #expect((try list.jsonArray()).isEmpty, "\(list.text)")
        }
    }

    @Test("the days from the incident to the first service's start are derived from the earliest started service")
    func daysToFirstService() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let created = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, Self.body(
                trafficking: [:], violence: ["incident_date": CaseKit.daysAgo(30), "reported_on": CaseKit.daysAgo(25)]))
            #expect(created.status == .created, "\(created.text)")
            let id = try CaseKit.id(created)
            let base = "/v1/cases/\(id.uuidString)"
            _ = try await CaseKit.create(client, caseworker.token, base + "/services", ["type": "medical", "start_on": CaseKit.daysAgo(12)])
            _ = try await CaseKit.create(client, caseworker.token, base + "/services", ["type": "counselling", "start_on": CaseKit.daysAgo(21)])
            // Planned for later: not yet a service received.
            _ = try await CaseKit.create(client, caseworker.token, base + "/services", ["type": "legal_aid", "start_on": CaseKit.daysAhead(4)])
            let read = try await CaseKit.call(client, .get, base, caseworker.token)
            #expect(read.status == .ok, "\(read.text)")
            let violence = try #require((try read.json())["violence"] as? [String: Any], "\(read.text)")
            #expect(violence["days_to_first_service"] as? Int == 9, "\(read.text)")
        }
    }

    @Test("erasure coarsens the incident and report dates to their month and the derived days go; the rest of the core stays")
    func erasureCoarsensTheDates() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let created = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, Self.body(
                trafficking: ["recruitment_type": "online", "transit_countries": ["UA"]],
                violence: ["incident_date": "2025-03-17", "reported_on": "2025-04-02", "perpetrator_count": 3,
                           "perpetrator_sex": "male", "perpetrator_age_group": "18-25"]))
            #expect(created.status == .created, "\(created.text)")
            let id = try CaseKit.id(created)
            let base = "/v1/cases/\(id.uuidString)"
            _ = try await CaseKit.create(client, supervisor.token, base + "/services", ["type": "medical", "start_on": "2025-03-20"])
            let before = try await CaseKit.call(client, .get, base, supervisor.token)
            #expect((try before.json()["violence"] as? [String: Any])?["days_to_first_service"] as? Int == 3, "\(before.text)")

            let erased = try await CaseKit.call(client, .post, base + "/erase", supervisor.token, ["reason": "subject-request"],
                                                headers: ["X-Reauthenticate": "password \(supervisor.user.password)"])
            #expect(erased.status == .ok, "\(erased.text)")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND incident_date = date '2025-03-01' AND reported_on = date '2025-04-01'",
                                      [id]) == 1)
            let read = try await CaseKit.call(client, .get, base, supervisor.token)
            #expect(read.status == .ok, "\(read.text)")
            let violence = try #require(try read.json()["violence"] as? [String: Any], "\(read.text)")
            #expect(violence["incident_date"] as? String == "2025-03-01", "\(read.text)")
            #expect(violence["reported_on"] as? String == "2025-04-01", "\(read.text)")
            #expect(violence["days_to_first_service"] == nil, "counted from a coarsened day: \(read.text)")
            // Counts, bands and closed-set words identify no one: statistics keep them.
            #expect(violence["perpetrator_count"] as? Int == 3)
            #expect(violence["perpetrator_age_group"] as? String == "18-25")
            #expect((try read.json()["trafficking"] as? [String: Any])?["recruitment_type"] as? String == "online", "\(read.text)")
            #expect(!read.text.contains("2025-03-17") && !read.text.contains("2025-04-02"), "\(read.text)")
        }
    }

    @Test("the elapsed days are nil without both dates or when the service began before the incident")
    func elapsedRule() {
        let incident = CalendarDate(year: 2026, month: 2, day: 27)
        #expect(ViolenceProfile.elapsed(from: incident, toFirstService: CalendarDate(year: 2026, month: 3, day: 2)) == 3)
        #expect(ViolenceProfile.elapsed(from: incident, toFirstService: incident) == 0)
        #expect(ViolenceProfile.elapsed(from: incident, toFirstService: CalendarDate(year: 2026, month: 2, day: 1)) == nil)
        #expect(ViolenceProfile.elapsed(from: nil, toFirstService: incident) == nil)
    }
}
