import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The audit trail (supervisors: their organisation; auditors: all, with chain verification)
/// and the reports with their charts.
extension ConsoleController {
    func registerOversightPages(_ router: Router<HavenRequestContext>) {
        router.get("/audit") { request, context in await page(request, context) { visit in try await auditPage(request, visit) } }
        router.post("/audit/verify") { request, context in
            await action(request, context) { visit, _ in
                let report = try await AuditService(store: store).verify(context: visit.access)
                return try await auditPage(request, visit, verification: report)
            }
        }
        router.get("/reports") { request, context in await page(request, context) { visit in try await reportPage(request, visit) } }
        router.get("/reports.csv") { request, context in
            await page(request, context) { visit in
                let query = try ReportQuery(request)
                var response: Response
                if query.kind == "turnaround" {
                    response = try ReportController.renderTurnaround(try await runTurnaround(query, visit), csv: true)
                } else {
                    let report = try await run(query, visit)
                    response = try ReportController.render(report.table, dimensions: [query.dimension], scope: report.scope, csv: true, extra: [:])
                }
                response.headers.append(contentsOf: ConsoleRenderer.securityHeaders)
                return response
            }
        }
    }

    // MARK: Audit trail

    func auditPage(_ request: Request, _ visit: ConsoleVisit, verification: AuditVerificationReport? = nil) async throws -> Response {
        let query = request.uri.queryParameters
        let day = { (name: String) in query.get(name).flatMap { DateInput.day($0) } }
        let filter = AuditFilter(
            caseID: query.get("case_id").flatMap { UUID(text: String($0)) }, actor: nil, organisation: nil,
            subtype: query.get("subtype").map { String($0) }.flatMap { $0.isEmpty ? nil : $0 },
            outcome: query.get("outcome").flatMap { AuditEvent.Outcome(rawValue: String($0)) },
            from: day("from").map(ConsoleController.start(of:)), to: day("to").map { ConsoleController.start(of: $0).addingTimeInterval(86_400) })
        let page = try await AuditService(store: store).events(filter, page: PageRequest(cursor: query.get("cursor").map { String($0) }, limit: 50),
                                                               context: visit.access)
        let names = try await directory.names(users: Set(page.items.compactMap(\.actorUser)), organisations: Set(page.items.compactMap(\.actorOrganisation)),
                                              viewer: visit.actor)
        let language = visit.language
        let format = visit.format
        var model: [String: Any] = [
            "events": page.items.map { record in
                ["at": format.dateTime(record.recorded),
                 "who": names.user(record.actorUser) ?? record.actorOrganisation.flatMap { names.organisations[$0] } ?? catalogue.text("history.haven", language),
                 "role": record.actorRole.map { catalogue.label("role", $0, language) } ?? "",
                 "what": catalogue.label("event", record.subtype, language), "outcome": catalogue.label("outcome", record.outcome, language),
                 "outcome_code": record.outcome] as [String: Any]
            },
            "empty": page.items.isEmpty,
            "filter": ["case_id": query.get("case_id").map { String($0) } ?? "", "subtype": filter.subtype ?? "",
                       "from": query.get("from").map { String($0) } ?? "", "to": query.get("to").map { String($0) } ?? ""],
            "outcomes": options("outcome", AuditEvent.Outcome.allCases.map(\.rawValue), selected: filter.outcome?.rawValue, visit),
            "verifies": visit.actor.role == .auditor,
        ]
        if let verification {
            model["verification"] = [
                "ok": verification.ok,
                "text": verification.ok
                    ? catalogue.text("audit.intact", language, ["count": String(verification.checked)])
                    : catalogue.text("audit.broken", language, ["kind": catalogue.label("problem", verification.problem?.kind.rawValue ?? "", language),
                                                                "event": verification.problem?.eventID.map(String.init) ?? "?"]),
            ] as [String: Any]
        }
        if let next = page.nextCursor {
            var components = URLComponents()
            components.path = "/audit"
            components.queryItems = (request.uri.queryParameters.map { URLQueryItem(name: String($0.key), value: String($0.value)) }
                .filter { $0.name != "cursor" }) + [URLQueryItem(name: "cursor", value: next)]
            model["next"] = components.string
        }
        return render("audit", visit, title: "audit.title", model)
    }

    static func start(of day: CalendarDate) -> Date {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        return calendar.date(from: DateComponents(year: day.year, month: day.month, day: day.day)) ?? Date(timeIntervalSince1970: 0)
    }

    // MARK: Reports

    /// What the reports page asks for: a kind, one dimension and a whole quarter or year, so two
    /// reports never differ by a day.
    struct ReportQuery {
        var kind: String
        var dimension: String
        var period: String
        var from: CalendarDate
        var to: CalendarDate

        init(_ request: Request) throws {
            let query = request.uri.queryParameters
            kind = query.get("kind").map { String($0) }.flatMap { ReportQuery.kinds.contains($0) ? $0 : nil } ?? "cases"
            let dimensions = ReportQuery.dimensions(of: kind)
            dimension = query.get("by").map { String($0) }.flatMap { dimensions.contains($0) ? $0 : nil } ?? dimensions[0]
            let today = CalendarDate.of(Date())
            let current = "\(today.year)-Q\((today.month - 1) / 3 + 1)"
            period = query.get("period").map { String($0) } ?? current
            guard let range = ReportQuery.range(period) else { throw StoreError.badQuery(FieldError("period", "must be a year or a quarter such as 2026-Q4")) }
            (from, to) = range
        }

        static let kinds = ["cases", "referrals", "turnaround"]

        static func dimensions(of kind: String) -> [String] {
            switch kind {
            case "referrals": return ReferralDimension.allCases.map(\.rawValue)
            case "turnaround": return TurnaroundDimension.allCases.map(\.rawValue)
            default: return CaseDimension.allCases.map(\.rawValue)
            }
        }

        /// `2026` or `2026-Q4` as the first day and the day after the last. Exactly those shapes:
        /// `+2026`, `2026-Q` or an empty text are no period.
        static func range(_ period: String) -> (CalendarDate, CalendarDate)? {
            let parts = period.split(separator: "-Q", omittingEmptySubsequences: false)
            guard let first = parts.first, first.count == 4, first.allSatisfy(\.isASCII), first.allSatisfy(\.isNumber),
                  let year = Int(first), (1900...2200).contains(year) else { return nil }
            if parts.count == 1 {
                guard let from = CalendarDate(year: year, month: 1, day: 1), let to = CalendarDate(year: year + 1, month: 1, day: 1) else { return nil }
                return (from, to)
            }
            guard parts.count == 2, parts[1].count == 1, let quarter = Int(parts[1]), (1...4).contains(quarter),
                  let from = CalendarDate(year: year, month: 3 * quarter - 2, day: 1),
                  let to = quarter == 4 ? CalendarDate(year: year + 1, month: 1, day: 1) : CalendarDate(year: year, month: 3 * quarter + 1, day: 1)
            else { return nil }
            return (from, to)
        }
    }

    func run(_ query: ReportQuery, _ visit: ConsoleVisit) async throws -> ReportService.Report {
        let reports = ReportService(primary: store)
        let period = ReportService.Period(from: query.from, to: query.to)
        if query.kind == "referrals" {
            return try await reports.referrals(by: [ReferralDimension(rawValue: query.dimension) ?? .status], period: period, context: visit.access)
        }
        return try await reports.cases(by: [CaseDimension(rawValue: query.dimension) ?? .caseType], period: period, context: visit.access)
    }

    func reportPage(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = try ReportQuery(request)
        if query.kind == "turnaround" {
            let report = try await runTurnaround(query, visit)
            return render("reports", visit, title: "reports.title", turnaroundModel(report, visit).merging(reportFilters(query, visit)) { own, _ in own })
        }
        let report = try await run(query, visit)
        let language = visit.language
        let table = report.table
        var organisations: [UUID: String] = [:]
        if query.dimension == "organisation" {
            let ids = Set(table.rowKeys.compactMap { UUID(text: $0) })
            organisations = try await directory.names(users: [], organisations: ids, viewer: visit.actor).organisations
        }
        let prefix = ConsoleController.labelPrefix[query.dimension]
        let rows: [(label: String, count: Int?, shown: String)] = table.rowKeys.indices.map { r in
            let key = table.rowKeys[r]
            let label = UUID(text: key).flatMap { organisations[$0] } ?? prefix.map { catalogue.label($0, key, language) } ?? key
            let small = table.cellIsSmall(row: r, column: 0)
            let count = table.cells[r][0]
            // A count hidden to protect another ("suppressed") is said in the page's language.
            let shown = count == nil && !small ? catalogue.text("reports.hidden", language) : Suppression.display(count, small: small)
            return (label, small ? nil : count, shown)
        }
        let model: [String: Any] = [
            "rows": rows.map { ["label": $0.label, "shown": $0.shown] },
            "total": table.total == nil && !table.totalIsSmall ? catalogue.text("reports.hidden", language)
                : Suppression.display(table.total, small: table.totalIsSmall),
            "chart": ReportChart.svg(rows.map { ($0.label, $0.count, $0.shown) }, title: catalogue.text("reports.chart", language)),
            "national": report.scope == nil,
        ]
        return render("reports", visit, title: "reports.title", model.merging(reportFilters(query, visit)) { own, _ in own })
    }

    /// The filters form, the CSV link and the dimension's name: the same for every kind.
    func reportFilters(_ query: ReportQuery, _ visit: ConsoleVisit) -> [String: Any] {
        var components = URLComponents()
        components.path = "/reports.csv"
        components.queryItems = [URLQueryItem(name: "kind", value: query.kind), URLQueryItem(name: "by", value: query.dimension),
                                 URLQueryItem(name: "period", value: query.period)]
        return [
            "csv": components.string ?? "/reports.csv",
            "kinds": options("report_kind", ReportQuery.kinds, selected: query.kind, visit),
            "dimensions": options("dimension", ReportQuery.dimensions(of: query.kind), selected: query.dimension, visit),
            "periods": ConsoleController.periods(selected: query.period).map { ["value": $0, "label": $0, "selected": $0 == query.period] as [String: Any] },
            "dimension_label": catalogue.label("dimension", query.dimension, visit.language),
        ]
    }

    /// The catalogue prefix that labels each dimension's codes.
    static let labelPrefix: [String: String] = [
        "case_type": "case_type", "identification_status": "identification", "exploitation_type": "exploitation", "sex": "sex",
        "status": "referral_status", "service_type": "service_type", "recipient_type": "organisation_type", "priority": "priority",
    ]

    /// The last eight quarters and the last three years, newest first.
    static func periods(selected: String) -> [String] {
        let today = CalendarDate.of(Date())
        var quarter = (today.month - 1) / 3 + 1
        var year = today.year
        var periods: [String] = []
        for _ in 0..<8 {
            periods.append("\(year)-Q\(quarter)")
            quarter -= 1
            if quarter == 0 { (quarter, year) = (4, year - 1) }
        }
        periods += (0..<3).map { String(today.year - $0) }
        if !periods.contains(selected) { periods.insert(selected, at: 0) }
        return periods
    }
}
