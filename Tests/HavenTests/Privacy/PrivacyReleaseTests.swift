import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// What leaves an organisation cannot single anyone out (issue 25 §2): published reports cover
/// whole months, quarters or years only, and no combination of them gives a hidden count back;
/// the statistics export is k-anonymous (k = 11) over every column; an organisation's own
/// supervisors read their organisation's figures exactly.
@Suite("Privacy: what a report releases")
struct PrivacyReleaseTests {
    typealias Shown = Differencing.Shown

    struct World: Sendable {
        var organisation: UUID
        var supervisorA: CaseKit.Member
        var auditor: CaseKit.Member
        var target: UUID
    }

    /// In 2025 (each registered two days after its identification), organisation A: 24 cases of one common description (female, MD, 27–29, sexual
    /// exploitation, presumed) identified on 1–10 March, the target of the same description
    /// identified alone on 14 March, 12 others (male, UA, 48+, begging, identified) in February,
    /// and 3 more of the common description in May. Every case consents to statistics.
    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> World {
        let orgA = try await app.organisation(country: "MD")
        let supervisorA = try await CaseKit.member(app, client, .supervisor, in: orgA.id)
        let caseworkerA = try await CaseKit.member(app, client, .caseworker, in: orgA.id)
        let auditor = try await CaseKit.member(app, client, .auditor, in: orgA.id)
        let cases = try await PrivacyKit.seed(client, caseworkerA, count: 40)
        func describe(_ id: UUID, day: String, male: Bool) throws {
            let rows = try CaseKit.ownerRows(app, """
                UPDATE case_file SET identified_on = $2::date, created_at = $2::date + interval '2 days', case_type = 'trafficking', sex = $3, citizenship = $4, age_band = $5,
                       exploitation_types = $6::text[], identification_status = $7 WHERE id = $1 RETURNING id::text
                """, [id, day, male ? "male" : "female", male ? "UA" : "MD", male ? "48+" : "27-29", male ? "{begging}" : "{sexual}",
                      male ? "identified" : "presumed"])
            #expect(rows.count == 1)
        }
        for (index, seeded) in cases.prefix(24).enumerated() { try describe(seeded.id, day: "2025-03-\(String(format: "%02d", index % 10 + 1))", male: false) }
        try describe(cases[24].id, day: "2025-03-14", male: false)
        for (index, seeded) in cases[25..<37].enumerated() { try describe(seeded.id, day: "2025-02-\(String(format: "%02d", index + 1))", male: true) }
        for seeded in cases[37...] { try describe(seeded.id, day: "2025-05-20", male: false) }
        return World(organisation: orgA.id, supervisorA: supervisorA, auditor: auditor, target: cases[24].id)
    }

    static let dimensions = ["case_type", "identification_status", "exploitation_type", "sex", "age_band", "citizenship", "organisation", "period"]

    /// A one-dimensional report's published counts by key, and its total; nil when refused.
    static func report(_ client: any TestClientProtocol, _ member: CaseKit.Member, _ dimension: String, from: String, to: String)
        async throws -> (cells: [String: Shown], total: Shown)?
    {
        let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=\(dimension)&from=\(from)&to=\(to)", member.token)
        guard response.status == .ok else {
            CaseKit.expectProblem(response, .unprocessableContent)
            #expect(response.problemFields.contains("from") || response.problemFields.contains("to"), "\(response.text)")
            return nil
        }
        return PrivacyReportTests.oneD(try response.json(), dimension)
    }

    /// The 2025 calendar as the attacker may ask for it: the year, its quarters and its months,
    /// with `to` the last day of each.
    static let year2025: (year: (String, String), quarters: [(String, String)], months: [(String, String)]) = {
        let ends = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        let months = (1...12).map { ("2025-\(String(format: "%02d", $0))-01", "2025-\(String(format: "%02d", $0))-\(ends[$0 - 1])") }
        let quarters = (0..<4).map { (months[3 * $0].0, months[3 * $0 + 2].1) }
        return (("2025-01-01", "2025-12-31"), quarters, months)
    }()

    @Test("the differencing attack over every dimension: periods a day apart are refused, and the year, quarters and months together give no hidden count back")
    func differencingAttack() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            for dimension in Self.dimensions {
                // Reports to 13, 14 and 15 March: each neighbouring pair differs by one day, so
                // whatever both publish exactly isolates the people identified on that day.
                var reports: [(cells: [String: Shown], total: Shown)?] = []
                for to in ["2025-03-13", "2025-03-14", "2025-03-15"] {
                    reports.append(try await Self.report(client, world.auditor, dimension, from: "2025-03-01", to: to))
                }
                for (before, after) in zip(reports, reports.dropFirst()) {
                    guard let before, let after, let people = after.total.value.flatMap({ a in before.total.value.map { a - $0 } }), people > 0 else { continue }
                    for (key, shown) in after.cells {
                        guard let now = shown.value, let then = (before.cells[key] ?? .number(0)).value else { continue }
                        if now - then == people {
                            Issue.record("by \(dimension): the \(people) people identified that day are all \(key) (\(then) → \(now))")
                        }
                    }
                }

                // Everything whole periods publish, linked: a year is its quarters, a quarter its months.
                let calendar = Self.year2025
                let periods = [calendar.year] + calendar.quarters + calendar.months
                var published: [(cells: [String: Shown], total: Shown)] = []
                for (from, to) in periods {
                    let answer = try await Self.report(client, world.auditor, dimension, from: from, to: to)
                    let report = try #require(answer, "a whole period is answered: \(dimension) \(from)…\(to)")
                    published.append(report)
                }
                let keys = Set(published.flatMap(\.cells.keys)).sorted()
                var shown: [Shown] = []
                func entry(_ period: Int, _ key: Int?) -> Int { period * (keys.count + 1) + (key ?? keys.count) }
                for report in published {
                    shown += keys.map { report.cells[$0] ?? .number(0) }
                    shown.append(report.total)
                }
                var groups: [[Int]] = []
                for period in periods.indices { groups.append(keys.indices.map { entry(period, $0) } + [entry(period, nil)]) }
                for key in Array(keys.indices).map(Optional.some) + [nil] {
                    groups.append((1...4).map { entry($0, key) } + [entry(0, key)])
                    for quarter in 0..<4 { groups.append((0..<3).map { entry(5 + 3 * quarter + $0, key) } + [entry(1 + quarter, key)]) }
                }
                let attack = Differencing(groups: groups, shown: shown)
                let recovered = attack.recovered()
                #expect(recovered.isEmpty, "by \(dimension): \(recovered.map { "period \($0.entry / (keys.count + 1)) \($0.entry % (keys.count + 1) < keys.count ? keys[$0.entry % (keys.count + 1)] : "total") by \($0.how)" })")
                // March alone holds the target with 24 alike: its small counts stay hidden.
                for (key, value) in published[5 + 2].cells where value.value != nil { #expect(value.value == 0 || value.value! >= 11, "by \(dimension) \(key)") }
            }
        }
    }

    @Test("cases.csv is k-anonymous: every row shares all its values with at least 10 others")
    func exportIsKAnonymous() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            // One case exploited far away for long, under unusual means: unique before generalising.
            _ = try CaseKit.ownerRows(app, """
                UPDATE case_file SET country_of_exploitation = 'JP', months_exploited = 31, means_of_control = '{debt_bondage,substances}'
                WHERE id = $1 RETURNING id::text
                """, [world.target])
            for reader in [world.auditor, world.supervisorA] {
                let response = try await CaseKit.call(client, .get, "/v1/exports/cases.csv", reader.token)
                #expect(response.status == .ok, "\(response.text)")
                let lines = response.text.split(whereSeparator: \.isNewline).map(String.init)
                let header = lines.first ?? ""
                var classes: [String: Int] = [:]
                for line in lines.dropFirst() { classes[line, default: 0] += 1 }
                let small = classes.filter { $0.value < Suppression.k }
                #expect(small.isEmpty, "\(reader.role): classes under 11 over \(header): \(small)")
                #expect(!classes.isEmpty, "\(reader.role): the common description (27 cases) is exported: \(response.text)")
                for forbidden in ["identified_month", "country_of_exploitation", "citizenship"] {
                    #expect(!header.split(separator: ",").contains(Substring(forbidden)), "\(forbidden) is generalised: \(header)")
                }
            }
        }
    }

    @Test("a supervisor reads their own organisation's report exactly, for any period; an auditor reads it suppressed")
    func ownOrganisationIsExact() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=citizenship&from=2025-03-01&to=2025-05-20", world.supervisorA.token)
            #expect(own.status == .ok, "\(own.text)")
            let (cells, total) = PrivacyReportTests.oneD(try own.json(), "citizenship")
            #expect(cells["MD"] == .number(28), "24 + the target + 3 in May: \(own.text)")
            #expect(total == .number(28), "\(own.text)")
            let small = try await CaseKit.call(client, .get, "/v1/reports/cases?by=sex&from=2025-05-01&to=2025-05-31", world.supervisorA.token)
            let (mayCells, _) = PrivacyReportTests.oneD(try small.json(), "sex")
            #expect(mayCells["female"] == .number(3), "the supervisor may open all three: \(small.text)")
            #expect(!small.text.contains("<11"), "\(small.text)")

            let national = try await CaseKit.call(client, .get, "/v1/reports/cases?by=sex&from=2025-05-01&to=2025-05-31", world.auditor.token)
            #expect(national.status == .ok, "\(national.text)")
            #expect(PrivacyReportTests.oneD(try national.json(), "sex").cells["female"] == .small, "\(national.text)")
        }
    }

    @Test("a published period gives the same answer on every day: the running month is refused, and a case registered after its month was published leaves it as it was")
    func publishedFiguresDoNotChangeOverTime() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let today = CalendarDate.of(Date())
            // The running month (and year) still change every day: refused, naming the field.
            for period in [String(today.description.prefix(7)), String(today.year)] {
                let running = try await CaseKit.call(client, .get, "/v1/reports/cases?by=sex&period=\(period)", world.auditor.token)
                CaseKit.expectProblem(running, .unprocessableContent)
                #expect(running.problemFields == ["period"], "\(period): \(running.text)")
                #expect(running.text.contains("published from"), "\(running.text)")
            }
            func march(_ reader: CaseKit.Member) async throws -> [String: Shown] {
                let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=citizenship&period=2025-03", reader.token)
                #expect(response.status == .ok, "\(response.text)")
                let (cells, total) = PrivacyReportTests.oneD(try response.json(), "citizenship")
                return cells.merging(["total": total]) { own, _ in own }
            }
            func export() async throws -> [String] {
                let response = try await CaseKit.call(client, .get, "/v1/exports/cases.csv", world.auditor.token)
                #expect(response.status == .ok, "\(response.text)")
                return response.text.split(whereSeparator: \.isNewline).map(String.init).sorted()
            }
            let before = try await march(world.auditor), exportBefore = try await export()
            #expect(before["MD"] == .number(25), "24 + the target, all registered in time: \(before)")

            // Today, eleven people of the common description identified on 14 March 2025 are
            // registered: were they counted, comparing the two answers would single out what
            // was registered between them.
            let late = try await PrivacyKit.seed(client, try await CaseKit.member(app, client, .caseworker, in: world.organisation), count: 11)
            for seeded in late {
                _ = try CaseKit.ownerRows(app, """
                    UPDATE case_file SET identified_on = '2025-03-14', case_type = 'trafficking', sex = 'female', citizenship = 'MD', age_band = '27-29',
                           exploitation_types = '{sexual}', identification_status = 'presumed' WHERE id = $1 RETURNING id::text
                    """, [seeded.id])
            }
            #expect(try await march(world.auditor) == before, "the published March is as it was")
            #expect(try await export() == exportBefore, "so is the export")
            // The organisation's own supervisors count them at once: their figures are operational.
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=citizenship&period=2025-03", world.supervisorA.token)
            #expect(PrivacyReportTests.oneD(try own.json(), "citizenship").cells["MD"] == .number(36), "\(own.text)")
        }
    }
}
