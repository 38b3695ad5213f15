import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Dates, numbers, members and cursors are read strictly: what cannot be read one way only is a
/// problem naming the field, never stored as something else or answered as "not valid JSON".
@Suite("API: strict input")
struct StrictInputTests {
    static func consentPath(_ caseID: UUID) -> String { "/v1/cases/\(caseID.uuidString)/consents" }

    /// A consent body with `member` set to `value`, written as raw JSON text.
    static func consent(_ organisation: UUID, _ member: String) -> String {
        #"{"grantor": "self", "method": "written", "statistics": true, "#
            + #""provisions": [{"recipient_organisation": "\#(organisation.uuidString)", "purpose": "referral for services", "categories": ["profile"]}], "#
            + member + "}"
    }

    @Test("an instant in a body that is no real moment (30 February, year 1, year 99999, 25:00, no offset) is a 422 naming it; nothing is stored")
    func bodyInstants() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            for text in ["2026-02-30T10:00:00Z", "0001-01-01T00:00:00Z", "99999-01-01T00:00:00Z", "2026-11-22T25:00:00Z",
                         "2026-11-22T10:00:00+24:00", "2026-11-22T23:59:60Z", "2026-11-22T10:00:00"] {
                let body = Self.consent(org.id, #""granted_at": "2026-01-10T10:00:00Z", "expires_at": "\#(text)""#)
                let response = try await CaseKit.raw(client, .post, Self.consentPath(caseID), caseworker.token, body)
                CaseKit.expectProblem(response, .unprocessableContent, field: "expires_at")
            }
            #expect(try CaseKit.count(app, "consent") == 0)
            let good = Self.consent(org.id, #""granted_at": "2026-01-10T12:00:00+02:00""#)
            let created = try await CaseKit.raw(client, .post, Self.consentPath(caseID), caseworker.token, good)
            #expect(created.status == .created, "\(created.text)")
            #expect(created.text.contains(#""granted_at":"2026-01-10T10:00:00.000Z""#), "\(created.text)")
        }
    }

    @Test("a calendar date in a body outside 1900–2200 is a 422 naming it")
    func bodyDays() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            var person = CaseKit.intake(CaseKit.Person())
            var identity = (person["person"] as? [String: Any])?["identity"] as? [String: Any] ?? [:]
            identity["identity_documents"] = [["type": "passport", "expires_on": "2301-01-01"]]
            person = CasesBadInputTests.with(person, "person.identity", identity)
            let response = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, person)
            CaseKit.expectProblem(response, .unprocessableContent, field: "person.identity.identity_documents[0].expires_on")
        }
    }

    @Test("query filters take real moments with an offset and real days: 25:00, +24:00, 23:59:60, no offset and 30 February are 400 naming the filter")
    func queryFilters() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let auditor = try await CaseKit.member(app, client, .auditor, in: org.id)
            for text in ["2026-11-22T25:00:00Z", "2026-11-22T10:00:00%2B24:00", "2026-11-22T23:59:60Z", "2026-11-22T10:00:00", "0001-01-01T00:00:00Z"] {
                let cases = try await CaseKit.call(client, .get, "/v1/cases?updated_since=\(text)", caseworker.token)
                CaseKit.expectProblem(cases, .badRequest, field: "updated_since")
                let trail = try await CaseKit.call(client, .get, "/v1/audit-events?from=\(text)", auditor.token)
                CaseKit.expectProblem(trail, .badRequest, field: "from")
            }
            let day = try await CaseKit.call(client, .get, "/v1/cases?identified_from=2026-02-30", caseworker.token)
            CaseKit.expectProblem(day, .badRequest, field: "identified_from")
            let ancient = try await CaseKit.call(client, .get, "/v1/cases?identified_to=1066-10-14", caseworker.token)
            CaseKit.expectProblem(ancient, .badRequest, field: "identified_to")
            let fine = try await CaseKit.call(client, .get, "/v1/cases?updated_since=2026-01-01T10:00:00%2B02:00", caseworker.token)
            #expect(fine.status == .ok, "\(fine.text)")
        }
    }

    @Test("a number no field can hold (1e400, one below Int64's least) is a 422 naming the field, not \"not valid JSON\"")
    func numbersOutOfRange() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let body = CasesBadInputTests.json(CaseKit.intake(CaseKit.Person()))
            for number in ["1e400", "-9223372036854775809", "9223372036854775808", "-1e400"] {
                let text = body.replacingOccurrences(of: #""months_exploited":7"#, with: #""months_exploited":\#(number)"#)
                #expect(text != body)
                let response = try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, text)
                CaseKit.expectProblem(response, .unprocessableContent, field: "trafficking.months_exploited")
            }
            let search = try await CaseKit.raw(client, .post, "/v1/cases/search", caseworker.token, #"{"name": "Ana Test", "birth_year": 1e400}"#)
            CaseKit.expectProblem(search, .unprocessableContent, field: "birth_year")
            #expect(try CaseKit.count(app, "case_file") == 0)
        }
    }

    @Test("a member sent twice is a 400 naming it; a member no field reads is a 422 naming it; nothing is stored")
    func duplicateAndUnknownMembers() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let body = CasesBadInputTests.json(CaseKit.intake(CaseKit.Person()))
            let twice = String(body.dropLast()) + #", "risk_level": "low"}"#
            CaseKit.expectProblem(try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, twice), .badRequest, field: "risk_level")
            let nestedTwice = body.replacingOccurrences(of: #""months_exploited":7"#, with: #""months_exploited":7,"months_exploited":8"#)
            CaseKit.expectProblem(try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, nestedTwice), .badRequest,
                                  field: "trafficking.months_exploited")
            var unknown = CaseKit.intake(CaseKit.Person())
            unknown["riskLevel"] = "low"
            CaseKit.expectProblem(try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, unknown), .unprocessableContent, field: "riskLevel")
            let nested = CasesBadInputTests.with(CaseKit.intake(CaseKit.Person()), "trafficking.months_exploted", 3)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, nested), .unprocessableContent,
                                  field: "trafficking.months_exploted")
            #expect(try CaseKit.count(app, "case_file") == 0)

            let (caseID, _) = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
            let read = try await CaseKit.call(client, .get, "/v1/cases/\(caseID.uuidString)", caseworker.token)
            let etag = try #require(read.headers[.eTag])
            let patch = try await CaseKit.call(client, .patch, "/v1/cases/\(caseID.uuidString)", caseworker.token, ["risk_level": "low", "colour": "red"],
                                               headers: ["If-Match": etag])
            CaseKit.expectProblem(patch, .unprocessableContent, field: "colour")
        }
    }

    @Test("a cursor whose key holds a NUL byte is a 400 naming `cursor`")
    func cursorWithNul() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let cursor = Cursor.encode(["MD-2026\u{0}", UUID().uuidString])
            let response = try await CaseKit.call(client, .get, "/v1/cases?sort=reference&cursor=\(cursor)", caseworker.token)
            CaseKit.expectProblem(response, .badRequest, field: "cursor")
        }
    }
}
