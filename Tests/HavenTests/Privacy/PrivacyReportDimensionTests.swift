import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The case report by quarter, region and organisation type, and by three dimensions at once,
/// through HTTP on real PostgreSQL: exact for the organisation's own supervisors, suppressed
/// along every line of the cube when it leaves the organisation (S18); and `to` is the last
/// day counted.
@Suite("Privacy: report dimensions")
struct PrivacyReportDimensionTests {
    typealias Shown = Differencing.Shown

    static var year: Int { PrivacyKit.publishedYear }

    /// `PrivacyReportTests.world`, with organisation A in the region "Centru" (B names none) and
    /// B a government body, and A's twelve cases of both kinds identified in October (the
    /// fourth quarter) instead of June.
    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> PrivacyReportTests.World {
        let world = try await PrivacyReportTests.world(app, client)
        #expect(try PrivacyKit.execute(app, "UPDATE organisation SET region = 'Centru' WHERE id = $1", [world.orgA.id]) == 1)
        #expect(try PrivacyKit.execute(app, "UPDATE organisation SET type = 'government' WHERE id = $1", [world.orgB.id]) == 1)
        #expect(try PrivacyKit.execute(app, "UPDATE case_file SET identified_on = make_date($1::int, 10, 15) WHERE case_type = 'both'", [year]) == 12)
        return world
    }

    static func oneD(_ response: TestResponse, _ dimension: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Shown] {
        #expect(response.status == .ok, "\(response.text)", sourceLocation: sourceLocation)
        let (cells, total) = PrivacyReportTests.oneD(try response.json(), dimension)
        return cells.merging(["(all)": total]) { own, _ in own }
    }

    @Test("by region (the owning organisation's), organisation type and quarter: exact for the own supervisor, suppressed nationally, CSV too")
    func newDimensions() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let a = world.supervisorA.token, auditor = world.auditor.token
            #expect(try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=region", a), "region") == ["Centru": .number(29), "(all)": .number(29)])
            #expect(try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=organisation_type", a), "organisation_type")
                == ["ngo": .number(29), "(all)": .number(29)])
            #expect(try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=quarter", a), "quarter")
                == ["\(Self.year)-Q2": .number(17), "\(Self.year)-Q4": .number(12), "(all)": .number(29)])

            // Nationally: B names no region, and its five cases are a small cell, with a complement.
            let regions = try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=region&period=\(Self.year)", auditor), "region")
            #expect(regions["unknown"] == .small, "\(regions)")
            #expect(regions.values.filter { $0.value == nil }.count >= 2, "complementary suppression: \(regions)")
            PrivacyReportTests.expectFaithful(regions.filter { $0.key != "(all)" }, ["Centru": 29, "unknown": 5], "national by region")
            let types = try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=organisation_type&period=\(Self.year)", auditor),
                                      "organisation_type")
            PrivacyReportTests.expectFaithful(types.filter { $0.key != "(all)" }, ["ngo": 29, "government": 5], "national by organisation type")
            #expect(types["government"] == .small)
            let quarters = try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=quarter&period=\(Self.year)", auditor), "quarter")
            #expect(quarters == ["\(Self.year)-Q2": .number(22), "\(Self.year)-Q4": .number(12), "(all)": .number(34)], "\(quarters)")
            let october = try Self.oneD(try await CaseKit.call(client, .get, "/v1/reports/cases?by=quarter&period=\(Self.year)-10", auditor), "quarter")
            #expect(october == ["\(Self.year)-Q4": .number(12), "(all)": .number(12)], "\(october)")

            let csv = try await CaseKit.call(client, .get, "/v1/reports/cases?by=organisation_type,quarter&format=csv&period=\(Self.year)", auditor)
            #expect(csv.status == .ok)
            let lines = csv.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines.first == "organisation_type,quarter,count", "\(lines)")
            #expect(lines.contains("government,\(Self.year)-Q2,<11"), "\(lines)")
            #expect(lines.contains("ngo,\(Self.year)-Q4,12"), "\(lines)")
            #expect(!lines.contains { $0.hasSuffix(",5") }, "no small count in clear: \(lines)")
            CaseKit.expectAbsent(world.identifying, in: csv.text, "CSV by organisation type and quarter")
        }
    }

    /// A three-dimensional answer read back: every entry by its keys (nil: all), as published.
    static func cube(_ body: [String: Any], _ dimensions: [String]) -> (keys: [[String]], entries: [[String?]: Shown]) {
        var entries: [[String?]: Shown] = [:]
        var keys = [Set<String>](repeating: [], count: dimensions.count)
        for object in (body["cells"] as? [[String: Any]] ?? []) + (body["margins"] as? [[String: Any]] ?? []) {
            let named = dimensions.map { object[$0] as? String }
            for (index, key) in named.enumerated() { if let key { keys[index].insert(key) } }
            entries[named] = PrivacyReportTests.count(object["count"])
        }
        entries[dimensions.map { _ in nil }] = PrivacyReportTests.count(body["total"])
        return (keys.map { $0.sorted() }, entries)
    }

    @Test("three dimensions at once: exact for the own supervisor; nationally every small cell hidden with a complement in each of its lines, nothing recoverable; four is a 422")
    func threeDimensions() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let dimensions = ["case_type", "sex", "organisation_type"]
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex,quarter", world.supervisorA.token)
            #expect(own.status == .ok, "\(own.text)")
            let exact = Self.cube(try own.json(), ["case_type", "sex", "quarter"]).entries
            let q2 = "\(Self.year)-Q2", q4 = "\(Self.year)-Q4"
            #expect(exact[["trafficking", "male", q2]] == .number(2))
            #expect(exact[["both", "female", q4]] == .number(12))
            #expect(exact[["domestic_violence", nil, nil]] == .number(3))
            #expect(exact[[nil, "female", q2]] == .number(15))
            #expect(exact[[nil, nil, nil]] == .number(29))
            #expect(!own.text.contains("<11"))

            // Nationally, the truth: A (ngo) 12 trafficking women, 2 trafficking men, 3 women of
            // domestic violence, 12 women of both; B (government) 5 trafficking women.
            let truth: [[String]: Int] = [["trafficking", "female", "ngo"]: 12, ["trafficking", "male", "ngo"]: 2,
                                          ["domestic_violence", "female", "ngo"]: 3, ["both", "female", "ngo"]: 12, ["trafficking", "female", "government"]: 5]
            let national = try await CaseKit.call(client, .get, "/v1/reports/cases?by=\(dimensions.joined(separator: ","))&period=\(Self.year)",
                                                  world.auditor.token)
            #expect(national.status == .ok, "\(national.text)")
            let body = try national.json()
            #expect(body["dimensions"] as? [String] == dimensions)
            #expect(body["release"] as? String == "published")
            let (keys, published) = Self.cube(body, dimensions)
            let entries = Suppression.entries(keys: keys)
            var shown: [Shown] = []
            for entry in entries {
                let named = entry.enumerated().map { dimension, key in key.map { keys[dimension][$0] } }
                let value = truth.filter { cell, _ in cell.indices.allSatisfy { named[$0] == nil || named[$0] == cell[$0] } }.values.reduce(0, +)
                let entryShown = published[named] ?? .hidden
                #expect(published[named] != nil, "\(named) is published as something")
                PrivacyReportTests.expectFaithful(entryShown, value, "\(named)")
                shown.append(entryShown)
            }
            #expect(published[["trafficking", "male", "ngo"]] == .small)
            #expect(published[["trafficking", "female", "government"]] == .small)
            // Each small cell's three lines hold a second hidden entry.
            for (index, entry) in entries.enumerated() where shown[index] == .small && !entry.contains(nil) {
                for dimension in entry.indices {
                    let line = entries.indices.filter { other in
                        entries[other].indices.allSatisfy { $0 == dimension || entries[other][$0] == entry[$0] }
                    }
                    #expect(line.filter { shown[$0].value == nil }.count >= 2, "the line of \(entry) along \(dimensions[dimension])")
                }
            }
            PrivacyReportTests.expectNoDifferencing(Differencing(groups: Suppression.lines(keys: keys, entries: entries), shown: shown),
                                                    "national by three dimensions")
            CaseKit.expectAbsent(world.identifying, in: national.text, "three-dimensional report")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'report.cases' AND actor_user = $1", [world.auditor.id]) == 1)

            // CSV: every cell and margin, `(all)` for a margin, suppressed as the JSON is.
            let csv = try await CaseKit.call(client, .get, "/v1/reports/cases?by=\(dimensions.joined(separator: ","))&format=csv&period=\(Self.year)",
                                             world.auditor.token)
            #expect(csv.status == .ok)
            let lines = csv.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines.first == "case_type,sex,organisation_type,count", "\(lines.prefix(3))")
            #expect(lines.count == 1 + entries.count, "a line per entry")
            #expect(lines.contains("trafficking,male,ngo,<11"), "\(lines)")
            #expect(lines.contains { $0.hasPrefix("(all),(all),(all),") })
            #expect(!lines.contains { line in (1...10).contains { line.hasSuffix(",\($0)") } }, "no small count in clear: \(lines)")

            let four = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex,quarter,region", world.supervisorA.token)
            CaseKit.expectProblem(four, .unprocessableContent, field: "by")
            let referrals = try await CaseKit.call(client, .get, "/v1/reports/referrals?by=status,service_type,recipient_type", world.supervisorA.token)
            #expect(referrals.status == .ok, "\(referrals.text)")
            #expect(try referrals.json()["margins"] is [Any], "\(referrals.text)")
        }
    }

    @Test("`to` is the last day counted: a case identified on it counts, the day after does not")
    func toIsIncluded() async throws {
        try await TestApp.run { app, client in
            let world = try await PrivacyReportTests.world(app, client)
            let onTheDay = world.seeded.prefix(2).map(\.id)
            for id in onTheDay {
                #expect(try PrivacyKit.execute(app, "UPDATE case_file SET identified_on = make_date($1::int, 6, 20) WHERE id = $2", [Self.year, id]) == 1)
            }
            #expect(try PrivacyKit.execute(app, "UPDATE case_file SET identified_on = make_date($1::int, 6, 21) WHERE id = $2",
                                           [Self.year, world.seeded[2].id]) == 1)
            func total(_ from: String, _ to: String) async throws -> Shown? {
                let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&from=\(Self.year)-\(from)&to=\(Self.year)-\(to)",
                                                      world.supervisorA.token)
                #expect(response.status == .ok, "\(response.text)")
                return PrivacyReportTests.oneD(try response.json(), "case_type").total
            }
            #expect(try await total("06-20", "06-20") == .number(2), "the two cases of the 20th, asked from and to the 20th")
            #expect(try await total("06-19", "06-19") == .number(0))
            #expect(try await total("06-20", "06-21") == .number(3))
        }
    }
}
