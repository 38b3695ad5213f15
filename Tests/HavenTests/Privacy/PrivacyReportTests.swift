import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Reports and exports that never identify anyone (S18), through HTTP: counts of 1–10 shown as
/// `<11` with complementary suppression, only cases whose consent allows statistics, the
/// reader's scope (organisation or national), CSV, referral times, and the statistics export.
@Suite("Privacy: reports and the statistics export")
struct PrivacyReportTests {
    // MARK: Reading a report back

    typealias Shown = Differencing.Shown

    /// A published count: a number, `<11`, or the marker of a count hidden to protect another.
    /// Fails on anything else.
    static func count(_ value: Any?, sourceLocation: SourceLocation = #_sourceLocation) -> Shown {
        if let shown = Differencing.parse(value) { return shown }
        Issue.record("not a published count: \(String(describing: value))", sourceLocation: sourceLocation)
        return .hidden
    }

    /// A one-dimensional report: key → what it shows, and the total.
    static func oneD(_ body: [String: Any], _ dimension: String) -> (cells: [String: Shown], total: Shown) {
        var cells: [String: Shown] = [:]
        for cell in body["cells"] as? [[String: Any]] ?? [] {
            guard let key = cell[dimension] as? String else { continue }
            cells[key] = count(cell["count"])
        }
        return (cells, count(body["total"]))
    }

    static func attack(_ cells: [String: Shown], total: Shown) -> Differencing {
        let keys = cells.keys.sorted()
        return Differencing(cells: keys.map { [cells[$0]!] }, rowTotals: [], columnTotals: [], total: total, twoDimensional: false)
    }

    struct TwoD {
        var rowKeys: [String]
        var columnKeys: [String]
        var cells: [[Shown]]
        var rowTotals: [Shown]
        var columnTotals: [Shown]
        var total: Shown

        var attack: Differencing {
            Differencing(cells: cells, rowTotals: rowTotals, columnTotals: columnTotals, total: total, twoDimensional: true)
        }
    }

    static func twoD(_ body: [String: Any], _ first: String, _ second: String) -> TwoD {
        let rowTotals = (body["row_totals"] as? [[String: Any]] ?? []).map { ($0[first] as? String ?? "?", count($0["count"])) }
        let columnTotals = (body["column_totals"] as? [[String: Any]] ?? []).map { ($0[second] as? String ?? "?", count($0["count"])) }
        var lookup: [String: Shown] = [:]
        for cell in body["cells"] as? [[String: Any]] ?? [] {
            lookup["\(cell[first] as? String ?? "?")|\(cell[second] as? String ?? "?")"] = count(cell["count"])
        }
        let rows = rowTotals.map(\.0), columns = columnTotals.map(\.0)
        let cells = rows.map { r in columns.map { c in lookup["\(r)|\(c)"] ?? .number(0) } }
        return TwoD(rowKeys: rows, columnKeys: columns, cells: cells, rowTotals: rowTotals.map(\.1), columnTotals: columnTotals.map(\.1),
                    total: count(body["total"]))
    }

    /// Fails when a reader could work out a hidden count from what is published.
    static func expectNoDifferencing(_ attack: Differencing, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let recovered = attack.recovered()
        let shown = attack.shown.map(\.description)
        let how = recovered.map { "\($0.entry) (\($0.how))" }
        #expect(recovered.isEmpty, "\(what): published \(shown) gives away entries \(how)", sourceLocation: sourceLocation)
    }

    /// Every published count is the true one, every true count of 1–10 shows `<11`, and no
    /// count of 11 or more is said to be under 11.
    static func expectFaithful(_ published: [String: Shown], _ truth: [String: Int], _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(Set(published.keys) == Set(truth.filter { $0.value > 0 }.keys), "\(what): keys \(published.keys.sorted()) vs \(truth)", sourceLocation: sourceLocation)
        for (key, value) in truth {
            guard let shown = published[key] else { continue }
            expectFaithful(shown, value, "\(what): \(key)", sourceLocation: sourceLocation)
        }
    }

    static func expectFaithful(_ shown: Shown, _ value: Int, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch shown {
        case .number(let number): #expect(number == value && !Suppression.isSmall(value), "\(what) shown as \(number), is \(value)", sourceLocation: sourceLocation)
        case .small: #expect(Suppression.isSmall(value), "\(what) = \(value) shown as <11", sourceLocation: sourceLocation)
        case .large, .hidden: #expect(!Suppression.isSmall(value), "\(what) = \(value) hidden without <11", sourceLocation: sourceLocation)
        }
    }

    // MARK: A world of cases

    struct World: Sendable {
        var orgA: Organisation
        var orgB: Organisation
        var shelter: Organisation
        var supervisorA: CaseKit.Member
        var caseworkerA: CaseKit.Member
        var supervisorB: CaseKit.Member
        var partner: CaseKit.Member
        var auditor: CaseKit.Member
        var admin: CaseKit.Member
        var seeded: [PrivacyKit.Seeded]
        var excluded: [PrivacyKit.Seeded]

        /// Everything that would identify a person or a case.
        var identifying: [String] {
            (seeded + excluded).flatMap { $0.person.identifyingValues + [$0.reference, $0.id.uuidString, $0.id.uuidString.lowercased()] }
                + [supervisorA, caseworkerA, supervisorB, partner].flatMap { [$0.id.uuidString, $0.id.uuidString.lowercased(), $0.user.user.username] }
        }
    }

    /// Organisation A: trafficking 14 (12 female, 2 male), domestic violence 3, both 12 — all
    /// with statistics consent — plus a trafficking case without any consent and one whose
    /// statistics consent was withdrawn. Organisation B: 5 trafficking cases with consent. All
    /// moved to `PrivacyKit.publishedYear`, which national figures are asked for.
    static func world(_ app: TestApp, _ client: any TestClientProtocol) async throws -> World {
        let orgA = try await app.organisation(country: "MD")
        let orgB = try await app.organisation(country: "MD")
        let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
        let supervisorA = try await CaseKit.member(app, client, .supervisor, in: orgA.id)
        let caseworkerA = try await CaseKit.member(app, client, .caseworker, in: orgA.id)
        let supervisorB = try await CaseKit.member(app, client, .supervisor, in: orgB.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let auditor = try await CaseKit.member(app, client, .auditor, in: orgB.id)
        let admin = try await CaseKit.member(app, client, .admin, in: orgA.id)
        var seeded: [PrivacyKit.Seeded] = []
        seeded += try await PrivacyKit.seed(client, caseworkerA, count: 12, caseType: "trafficking", sex: "female", birthYear: 1999)
        seeded += try await PrivacyKit.seed(client, caseworkerA, count: 2, caseType: "trafficking", sex: "male", birthYear: 1985)
        seeded += try await PrivacyKit.seed(client, caseworkerA, count: 3, caseType: "domestic_violence", sex: "female", birthYear: 1975)
        seeded += try await PrivacyKit.seed(client, caseworkerA, count: 12, caseType: "both", sex: "female", birthYear: 2004)
        var excluded = try await PrivacyKit.seed(client, caseworkerA, count: 1, caseType: "trafficking", sex: "female", consent: false)
        let withdrawn = try await PrivacyKit.seed(client, caseworkerA, count: 1, caseType: "trafficking", sex: "female", consent: false)
        let consent = try await CaseKit.create(client, caseworkerA.token, "/v1/cases/\(withdrawn[0].id.uuidString)/consents", PrivacyKit.statisticsConsent())
        let withdraw = try await CaseKit.call(client, .post, "/v1/cases/\(withdrawn[0].id.uuidString)/consents/\(consent.uuidString)/withdraw", caseworkerA.token)
        #expect(withdraw.status == .ok, "withdraw: \(withdraw.text)")
        excluded += withdrawn
        seeded += try await PrivacyKit.seed(client, supervisorB, count: 5, caseType: "trafficking", sex: "female", birthYear: 1999)
        try PrivacyKit.moveToPublishedYear(app)
        return World(orgA: orgA, orgB: orgB, shelter: shelter, supervisorA: supervisorA, caseworkerA: caseworkerA, supervisorB: supervisorB,
                     partner: partner, auditor: auditor, admin: admin, seeded: seeded, excluded: excluded)
    }

    // MARK: Case reports

    @Test("case report by type, national: 1–10 shows <11, a second cell is hidden so the total gives nothing back, only consenting cases count")
    func caseReportOneDimension() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            #expect(body["scope"] as? String == "national")
            #expect(body["release"] as? String == "published")
            #expect(body["period"] as? String == String(PrivacyKit.publishedYear), "\(response.text)")
            #expect(body["k"] as? Int == 11)
            #expect(body["dimensions"] as? [String] == ["case_type"])
            let (cells, total) = Self.oneD(body, "case_type")
            // 19 trafficking cases consent (14 in A, 5 in B); the one without consent and the withdrawn one do not count.
            #expect(cells["trafficking"] == .number(19), "\(response.text)")
            #expect(total == .number(34), "\(response.text)")
            #expect(cells["domestic_violence"] == .small, "3 cases show as <11: \(response.text)")
            #expect(response.text.contains("\"<11\""))
            Self.expectFaithful(cells, ["trafficking": 19, "domestic_violence": 3, "both": 12], "national by case_type")
            // The differencing attack: total minus the published cells must not give the 3 back.
            #expect(cells.values.filter { $0.value == nil }.count >= 2, "complementary suppression hides a second cell: \(cells)")
            Self.expectNoDifferencing(Self.attack(cells, total: total), "national by case_type")
            CaseKit.expectAbsent(world.identifying, in: response.text, "case report")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'report.cases' AND actor_user = $1 AND purpose = 'statistics'", [world.auditor.id]) == 1)

            // Organisation A's own supervisor reads its figures exactly: they may open every one of these cases.
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type", world.supervisorA.token)
            let ownBody = try own.json()
            #expect(ownBody["scope"] as? String == "organisation" && ownBody["release"] as? String == "operational", "\(own.text)")
            let (ownCells, ownTotal) = Self.oneD(ownBody, "case_type")
            #expect(ownCells == ["trafficking": .number(14), "domestic_violence": .number(3), "both": .number(12)], "\(own.text)")
            #expect(ownTotal == .number(29))
            CaseKit.expectAbsent(world.identifying, in: own.text, "own case report")
        }
    }

    @Test("case report by case type and sex: every small cell and margin hidden, no cell recoverable from rows, columns or totals")
    func caseReportTwoDimensions() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex", world.supervisorA.token)
            let ownTable = Self.twoD(try own.json(), "case_type", "sex")
            #expect(ownTable.cells == [[.number(12), .number(0)], [.number(3), .number(0)], [.number(12), .number(2)]], "exact for A's supervisor: \(own.text)")
            #expect(ownTable.total == .number(29))
            for reader in [world.auditor] {
                let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex&period=\(PrivacyKit.publishedYear)", reader.token)
                #expect(response.status == .ok, "\(response.text)")
                let table = Self.twoD(try response.json(), "case_type", "sex")
                let national = reader.role == .auditor
                let truth: [String: [String: Int]] = [
                    "trafficking": ["female": national ? 17 : 12, "male": 2], "domestic_violence": ["female": 3], "both": ["female": 12],
                ]
                #expect(table.rowKeys == ["both", "domestic_violence", "trafficking"], "\(response.text)")
                #expect(table.columnKeys == ["female", "male"], "\(response.text)")
                for (r, row) in table.rowKeys.enumerated() {
                    for (c, column) in table.columnKeys.enumerated() {
                        Self.expectFaithful(table.cells[r][c], truth[row]?[column] ?? 0, "\(reader.role) \(row)/\(column)")
                    }
                    Self.expectFaithful(table.rowTotals[r], truth[row]?.values.reduce(0, +) ?? 0, "\(reader.role) \(row) total")
                }
                for (c, column) in table.columnKeys.enumerated() {
                    Self.expectFaithful(table.columnTotals[c], truth.values.compactMap { $0[column] }.reduce(0, +), "\(reader.role) \(column) total")
                }
                Self.expectFaithful(table.total, national ? 34 : 29, "\(reader.role) total")
                Self.expectNoDifferencing(table.attack, "\(reader.role) by case_type,sex")
                CaseKit.expectAbsent(world.identifying, in: response.text, "2-D case report")
            }
        }
    }

    @Test("scope: a supervisor sees its organisation, an auditor the nation; caseworkers, partners and admins are refused")
    func reportScope() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let national = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            #expect(national.status == .ok, "\(national.text)")
            let nationalBody = try national.json()
            #expect(nationalBody["scope"] as? String == "national")
            let (cells, total) = Self.oneD(nationalBody, "case_type")
            #expect(cells["trafficking"] == .number(19), "12 + 2 in A and 5 in B: \(national.text)")
            #expect(total == .number(34), "\(national.text)")
            Self.expectFaithful(cells, ["trafficking": 19, "domestic_violence": 3, "both": 12], "national by case_type")

            // Organisation B alone has 5 cases: its own supervisor reads them exactly, nothing of A's.
            let own = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type", world.supervisorB.token)
            let (ownCells, ownTotal) = Self.oneD(try own.json(), "case_type")
            #expect(ownCells.count == 1 && ownCells["trafficking"] == .number(5), "\(own.text)")
            #expect(ownTotal == .number(5), "\(own.text)")

            // By organisation, the national view: organisation A's row is there, B's is hidden.
            let byOrganisation = try await CaseKit.call(client, .get, "/v1/reports/cases?by=organisation&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            let (orgCells, _) = Self.oneD(try byOrganisation.json(), "organisation")
            let shownA = orgCells[world.orgA.id.uuidString.lowercased()] ?? orgCells[world.orgA.id.uuidString]
            let shownB = orgCells[world.orgB.id.uuidString.lowercased()] ?? orgCells[world.orgB.id.uuidString]
            #expect(shownA == .number(29) || shownA?.value == nil, "\(byOrganisation.text)")
            #expect(shownB == .small, "organisation B's 5 cases show as <11: \(byOrganisation.text)")
            #expect(orgCells.count == 2, "\(byOrganisation.text)")

            for (member, who) in [(world.caseworkerA, "caseworker"), (world.partner, "partner"), (world.admin, "admin")] {
                for path in ["/v1/reports/cases?by=case_type", "/v1/reports/referrals", "/v1/exports/cases.csv"] {
                    let refused = try await CaseKit.call(client, .get, path, member.token)
                    #expect(refused.status == .forbidden || refused.status == .notFound, "\(who) \(path): \(refused.status.code)")
                    #expect(refused.isProblem)
                    CaseKit.expectAbsent(world.identifying, in: refused.text, "\(who)'s refusal")
                }
            }
            let anonymous = try await CaseKit.call(client, .get, "/v1/reports/cases", nil)
            #expect(anonymous.status == .unauthorized)
        }
    }

    @Test("?format=csv gives the same suppressed table as CSV with <11")
    func csvReport() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let csv = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&format=csv&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            #expect(csv.status == .ok, "\(csv.text)")
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true, "\(csv.headers[.contentType] ?? "none")")
            let lines = csv.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(lines.first == "case_type,count", "\(lines)")
            #expect(lines.contains("trafficking,19"), "\(lines)")
            #expect(lines.contains("domestic_violence,<11"), "\(lines)")
            #expect(lines.contains("(all),34"), "\(lines)")
            #expect(lines.dropFirst().filter { Differencing.parse(String($0.split(separator: ",").last ?? ""))?.value == nil }.count >= 2,
                    "complementary suppression in CSV too: \(lines)")
            CaseKit.expectAbsent(world.identifying, in: csv.text, "CSV report")

            let twoD = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex&format=csv&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            #expect(twoD.status == .ok)
            let twoDLines = twoD.text.split(whereSeparator: \.isNewline).map(String.init)
            #expect(twoDLines.first == "case_type,sex,count", "\(twoDLines)")
            #expect(twoDLines.contains("domestic_violence,female,<11"), "\(twoDLines)")
            #expect(twoDLines.contains("trafficking,male,<11"), "\(twoDLines)")
            #expect(!twoDLines.contains { $0.hasSuffix(",2") || $0.hasSuffix(",3") }, "no small count in clear: \(twoDLines)")

            let bad = try await CaseKit.call(client, .get, "/v1/reports/cases?format=xml", world.supervisorA.token)
            CaseKit.expectProblem(bad, .badRequest, field: "format")
            let badDimension = try await CaseKit.call(client, .get, "/v1/reports/cases?by=given_name", world.supervisorA.token)
            CaseKit.expectProblem(badDimension, .badRequest, field: "by")
            let tooMany = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type,sex,age_band,quarter", world.supervisorA.token)
            CaseKit.expectProblem(tooMany, .unprocessableContent, field: "by")
            let backwards = try await CaseKit.call(client, .get, "/v1/reports/cases?from=2026-06-01&to=2026-05-01", world.supervisorA.token)
            CaseKit.expectProblem(backwards, .badRequest, field: "to")
            // The same dimension twice would show a suppressed cell's count as a margin.
            for path in ["/v1/reports/cases?by=sex,sex", "/v1/reports/referrals?by=status,status"] {
                let twice = try await CaseKit.call(client, .get, path, world.supervisorA.token)
                CaseKit.expectProblem(twice, .badRequest, field: "by")
            }
        }
    }

    @Test("other breakdowns (age band, exploitation type, period, citizenship) publish no small count and no identifying value")
    func otherBreakdowns() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            for dimension in ["age_band", "exploitation_type", "period", "citizenship", "identification_status", "sex"] {
                let response = try await CaseKit.call(client, .get, "/v1/reports/cases?by=\(dimension)&period=\(PrivacyKit.publishedYear)", world.auditor.token)
                #expect(response.status == .ok, "\(dimension): \(response.text)")
                let (cells, _) = Self.oneD(try response.json(), dimension)
                #expect(!cells.isEmpty, "\(dimension): \(response.text)")
                for (key, shown) in cells { if let value = shown.value { #expect(value == 0 || value >= 11, "\(dimension) \(key) = \(value)") } }
                CaseKit.expectAbsent(world.identifying, in: response.text, "report by \(dimension)")
            }
            // Ages are bands: 1999 → 27, 1985 → 41, 1975 → 51, 2004 → 22 in 2026.
            let ages = try await CaseKit.call(client, .get, "/v1/reports/cases?by=age_band&period=\(PrivacyKit.publishedYear)", world.auditor.token)
            let (bands, _) = Self.oneD(try ages.json(), "age_band")
            #expect(Set(bands.keys).isSubset(of: Set(AgeBand.allCases.map(\.rawValue) + ["unknown"])), "\(bands.keys)")
            #expect(!ages.text.contains("1999") && !ages.text.contains("2004"), "no birth year in the age report")
            // The year before holds nothing; this year and the next are not published yet, and no
            // period at all is the latest published quarter.
            let after = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&period=\(PrivacyKit.publishedYear - 1)", world.auditor.token)
            #expect(after.status == .ok)
            #expect(Self.oneD(try after.json(), "case_type").total == .number(0), "\(after.text)")
            for year in [CaseKit.thisYear, CaseKit.thisYear + 1] {
                let future = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type&period=\(year)", world.auditor.token)
                CaseKit.expectProblem(future, .unprocessableContent, field: "period")
            }
            let latest = try await CaseKit.call(client, .get, "/v1/reports/cases?by=case_type", world.auditor.token)
            #expect(try latest.json()["period"] as? String == ReportPeriod.latestPublished(.quarter, today: CalendarDate.of(Date()))?.description,
                    "\(latest.text)")
        }
    }

    // MARK: Referral report

    @Test("referral report: counts by status with times to acceptance; small groups hidden in the counts and in the times alike")
    func referralReport() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation(country: "MD")
            let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
            let auditor = try await CaseKit.member(app, client, .auditor, in: org.id)
            let person = CaseKit.Person(), silent = CaseKit.Person()
            let counted = try await CaseKit.createCase(client, caseworker, CaseKit.intake(person))
            let notCounted = try await CaseKit.createCase(client, caseworker, CaseKit.intake(silent))
            func consent(_ caseID: UUID, statistics: Bool) async throws -> UUID {
                try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/consents",
                                         PrivacyKit.statisticsConsent(statistics, recipient: shelter.id))
            }
            func refer(_ caseID: UUID, _ consentID: UUID) async throws -> UUID {
                try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/referrals", [
                    "to_organisation": shelter.id.uuidString, "service_type": "safe_accommodation", "consent_id": consentID.uuidString,
                    "shared_categories": ["needs"], "note": "referral note \(person.tag)",
                ] as [String: Any])
            }
            let countedConsent = try await consent(counted.id, statistics: true)
            let silentConsent = try await consent(notCounted.id, statistics: false)
            // 12 accepted, 11 left requested, 2 entered in error; 3 more on a case without statistics consent.
            var referrals: [UUID] = []
            for _ in 0..<25 { referrals.append(try await refer(counted.id, countedConsent)) }
            for referral in referrals.prefix(12) {
                let moved = try await CaseKit.transition(client, partner.token, referral, ["to": "accepted"])
                #expect(moved.status == .ok, "\(moved.text)")
            }
            for referral in referrals.suffix(2) {
                let moved = try await CaseKit.transition(client, caseworker.token, referral, ["to": "entered-in-error"])
                #expect(moved.status == .ok, "\(moved.text)")
            }
            for _ in 0..<3 { _ = try await refer(notCounted.id, silentConsent) }
            try PrivacyKit.moveToPublishedYear(app)

            // As the national view reads them (this organisation's are all there are): suppressed.
            let response = try await CaseKit.call(client, .get, "/v1/reports/referrals?by=status&period=\(PrivacyKit.publishedYear)", auditor.token)
            #expect(response.status == .ok, "\(response.text)")
            let body = try response.json()
            let (cells, total) = Self.oneD(body, "status")
            #expect(total == .number(25), "only the consenting case's referrals count: \(response.text)")
            Self.expectFaithful(cells, ["accepted": 12, "requested": 11, "entered-in-error": 2], "referrals by status")
            #expect(cells["entered-in-error"] == .small)

            // Times: by status and overall, published only for groups of at least 11.
            let times = body["times"] as? [[String: Any]] ?? []
            let byGroup = Dictionary(times.map { ($0["group"] as? String ?? "?", $0) }, uniquingKeysWith: { a, _ in a })
            let overall = try #require(byGroup["all"], "an overall group: \(times)")
            #expect(Self.count(overall["referrals"]) == .number(25))
            let toAccepted = PrivacyKit.object(overall["hours_to_accepted"])
            let median = try #require(toAccepted["median"] as? Double, "12 accepted referrals publish a median: \(overall)")
            let p90 = try #require(toAccepted["p90"] as? Double, "and a p90: \(overall)")
            #expect(median >= 0 && p90 >= median, "hours to acceptance: median \(median) p90 \(p90)")
            #expect(PrivacyKit.object(overall["hours_to_completed"])["median"] as? String == "<11", "nothing completed: \(overall)")
            let error = try #require(byGroup["entered-in-error"], "\(times)")
            #expect(Self.count(error["referrals"]) == .small, "2 referrals show as <11: \(error)")
            #expect(PrivacyKit.object(error["hours_to_accepted"])["median"] as? String == "<11")

            // No count the table hides may be published by the times beside it: together they
            // must not give any hidden count back.
            var known: [String: Shown] = cells
            for (group, entry) in byGroup where group != "all" {
                guard let published = Self.count(entry["referrals"]).value else { continue }
                if cells[group]?.value == nil {
                    Issue.record("status \(group) is hidden in the counts but its times publish \(published) referrals: \(response.text)")
                }
                known[group] = .number(published)
            }
            let overallShown = Self.count(overall["referrals"])
            Self.expectNoDifferencing(Self.attack(known, total: overallShown.value == nil ? total : overallShown), "referral counts and times together")
            CaseKit.expectAbsent(person.identifyingValues + silent.identifyingValues + [counted.reference, notCounted.reference,
                                 counted.id.uuidString.lowercased(), counted.id.uuidString, "referral note \(person.tag)"] + referrals.map(\.uuidString),
                                 in: response.text, "referral report")

            // Two dimensions and CSV work; the recipient partner may not read reports; an auditor sees the nation.
            let twoD = try await CaseKit.call(client, .get, "/v1/reports/referrals?by=service_type,recipient_type", supervisor.token)
            #expect(twoD.status == .ok, "\(twoD.text)")
            Self.expectNoDifferencing(Self.twoD(try twoD.json(), "service_type", "recipient_type").attack, "referrals by service and recipient type")
            let csv = try await CaseKit.call(client, .get, "/v1/reports/referrals?by=status&format=csv&period=\(PrivacyKit.publishedYear)", auditor.token)
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.contains("entered-in-error,<11"), "\(csv.text)")
            let refused = try await CaseKit.call(client, .get, "/v1/reports/referrals", partner.token)
            #expect(refused.status == .forbidden || refused.status == .notFound)
            let national = try await CaseKit.call(client, .get, "/v1/reports/referrals?period=\(PrivacyKit.publishedYear)", auditor.token)
            let nationalScope = try national.json()["scope"] as? String
            #expect(national.status == .ok && nationalScope == "national")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'report.referrals'") == 4)
        }
    }

    // MARK: The statistics export

    @Test("cases.csv: generalised rows of consenting cases in classes of 11 or more, no identifying field, audited as export")
    func statisticsExport() async throws {
        try await TestApp.run { app, client in
            let world = try await Self.world(app, client)
            let response = try await CaseKit.call(client, .get, "/v1/exports/cases.csv", world.supervisorA.token)
            #expect(response.status == .ok, "\(response.text)")
            #expect(response.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(response.headers[.contentDisposition]?.hasPrefix("attachment") == true)
            #expect(response.headers[.cacheControl] == "no-store")
            let lines = response.text.split(whereSeparator: \.isNewline).map(String.init)
            let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init) ?? []
            let rows = lines.dropFirst().map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
            #expect(header == StatisticsExport.header, "\(header)")
            // A's 29 consenting cases: 12 trafficking women and 12 "both" women of one description
            // each are published; the 2 men and the 3 domestic-violence cases are too few alike.
            #expect(rows.count == 24, "\(lines)")
            var classes: [[String]: Int] = [:]
            for row in rows { classes[row, default: 0] += 1 }
            #expect(classes.values.allSatisfy { $0 >= Suppression.k }, "\(classes)")
            let quarter = /\d{4}-Q[1-4]|\d{4}/
            for row in rows {
                #expect(row.count == header.count, "\(row)")
                #expect(row.first?.wholeMatch(of: quarter) != nil, "a quarter or a year: \(row)")
                for field in row {
                    #expect(field.wholeMatch(of: /\d{4}-\d{2}.*/) == nil, "no month or day: \(field)")
                    #expect(!["1999", "1985", "1975", "2004", "MD"].contains(field), "no birth year or country: \(row)")
                }
            }
            CaseKit.expectAbsent(world.identifying + [world.orgA.id.uuidString, world.orgA.id.uuidString.lowercased()], in: response.text, "cases.csv")
            #expect(try CaseKit.count(app, "audit_event", where: """
                subtype = 'export' AND entity_kind = 'report' AND actor_user = $1 AND (detail::jsonb ->> 'rows') = '24'
                AND (detail::jsonb ->> 'left_out') = '5'
                """, [world.supervisorA.id]) == 1)

            // The auditor's export is national: B's 5 join A's 12 alike.
            let national = try await CaseKit.call(client, .get, "/v1/exports/cases.csv", world.auditor.token)
            #expect(national.status == .ok)
            #expect(national.text.split(whereSeparator: \.isNewline).count == 1 + 29)
            CaseKit.expectAbsent(world.identifying, in: national.text, "national cases.csv")
            #expect(try PrivacyKit.auditCount(app, subtype: "export") == 2)
        }
    }

    /// A statistics consent that expires stops counting: the sweep takes its case out of the
    /// reports; a case whose consent does not expire stays in.
    @Test("an expired statistics consent takes its case out of the reports")
    func expiredStatisticsConsent() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let expiring = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let lasting = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            var body = PrivacyKit.statisticsConsent()
            body["expires_at"] = ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))
            let consent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(expiring.uuidString)/consents", body)
            _ = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(lasting.uuidString)/consents", PrivacyKit.statisticsConsent())
            let counted = "SELECT statistics_consent::text FROM case_file WHERE id = $1"
            #expect(try CaseKit.ownerRows(app, counted, [expiring]) == [["true"]])
            #expect(try CaseKit.ownerRows(app, "UPDATE consent SET expires_at = now() - interval '1 second' WHERE id = $1 RETURNING id::text", [consent]).count == 1)
            _ = try await ConsentSweeper(store: app.store).sweep()
            #expect(try CaseKit.ownerRows(app, counted, [expiring]) == [["false"]])
            #expect(try CaseKit.ownerRows(app, counted, [lasting]) == [["true"]])
        }
    }
}
