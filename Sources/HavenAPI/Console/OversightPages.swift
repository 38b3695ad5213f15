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
                let query = ReportQuery(request, release: AccessPolicy.release(visit.actor))
                guard query.chosen != nil else { return try await reportPage(request, visit) }
                var response: Response
                do {
                    if query.kind == "turnaround" {
                        response = try ReportController.renderTurnaround(try await runTurnaround(query, visit), csv: true)
                    } else {
                        let report = try await run(query, visit)
                        response = try ReportController.render(report, dimensions: query.dimensions, csv: true, extra: [:])
                    }
                } catch StoreError.invalid {
                    // A refused period: the page says why, next to it.
                    return try await reportPage(request, visit)
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
        // The case as the supervisor knows it: its reference (or an id, as the case page links).
        let caseText = query.get("case_id").map { String($0).trimmingCharacters(in: .whitespaces) } ?? ""
        let caseID = try await auditedCase(caseText, visit)
        let filter = AuditFilter(
            caseID: caseID, actor: nil, organisation: nil,
            subtype: query.get("subtype").map { String($0) }.flatMap { $0.isEmpty ? nil : $0 },
            outcome: query.get("outcome").flatMap { AuditEvent.Outcome(rawValue: String($0)) },
            from: day("from").map(ConsoleController.start(of:)), to: day("to").map { ConsoleController.start(of: $0).addingTimeInterval(86_400) })
        guard caseText.isEmpty || caseID != nil else {
            var model = auditFilterModel(request, filter, visit)
            model["empty"] = true
            model.merge(ConsoleController.errorModel([FieldMessage(field: "case_id", text: catalogue.text("audit.no_such_case", visit.language))])) { _, new in new }
            return render("audit", visit, title: "audit.title", model, status: .unprocessableContent)
        }
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
        ]
        model.merge(auditFilterModel(request, filter, visit)) { _, new in new }
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

    /// What the reports page asks for: a kind, one to three dimensions (`by`, then `by2` and
    /// `by3`, each optional; the turnaround takes one) and one calendar month, quarter or year
    /// (`ReportPeriod`), so two reports never differ by a day. Anything else sent as the
    /// period is kept and refused next to its field.
    struct ReportQuery {
        var kind: String
        /// The first dimension.
        var dimension: String
        /// Every dimension chosen, first to last, each once.
        var dimensions: [String]
        /// As sent (when nothing was: the current quarter, or the latest published one for a
        /// reader whose figures are published, `ReportRelease`).
        var period: String
        /// nil: the period sent is no calendar month, quarter or year.
        var chosen: ReportPeriod?
        var release: ReportRelease

        init(_ request: Request, release: ReportRelease) {
            self.release = release
            let query = request.uri.queryParameters
            kind = query.get("kind").map { String($0) }.flatMap { ReportQuery.kinds.contains($0) ? $0 : nil } ?? "cases"
            let dimensions = ReportQuery.dimensions(of: kind)
            dimension = query.get("by").map { String($0) }.flatMap { dimensions.contains($0) ? $0 : nil } ?? dimensions[0]
            var named = [dimension]
            if kind != "turnaround" {
                // A later choice left empty, unknown or repeating an earlier one adds nothing.
                for name in ReportQuery.furtherFields {
                    if let more = query.get(name).map({ String($0) }), dimensions.contains(more), !named.contains(more) { named.append(more) }
                }
            }
            self.dimensions = named
            let today = CalendarDate.of(Date())
            let current = (release == .published ? ReportPeriod.latestPublished(.quarter, today: today)
                : ReportPeriod.containing(today, .quarter))?.description ?? ""
            period = query.get("period").map { String($0) } ?? current
            chosen = ReportPeriod(name: period)
        }

        var servicePeriod: ReportService.Period { ReportService.Period(chosen, fields: ["period"]) }

        static let kinds = ["cases", "referrals", "turnaround"]

        /// The fields naming the second and third dimension (`Suppression.maximumDimensions`).
        static let furtherFields = ["by2", "by3"]

        static func dimensions(of kind: String) -> [String] {
            switch kind {
            case "referrals": return ReferralDimension.allCases.map(\.rawValue)
            case "turnaround": return TurnaroundDimension.allCases.map(\.rawValue)
            default: return CaseDimension.allCases.map(\.rawValue)
            }
        }
    }

    func run(_ query: ReportQuery, _ visit: ConsoleVisit) async throws -> ReportService.Report {
        let reports = ReportService(primary: store)
        if query.kind == "referrals" {
            let dimensions = query.dimensions.compactMap(ReferralDimension.init(rawValue:))
            return try await reports.referrals(by: dimensions.isEmpty ? [.status] : dimensions, period: query.servicePeriod, context: visit.access)
        }
        let dimensions = query.dimensions.compactMap(CaseDimension.init(rawValue:))
        return try await reports.cases(by: dimensions.isEmpty ? [.caseType] : dimensions, period: query.servicePeriod, context: visit.access)
    }

    func reportPage(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = ReportQuery(request, release: AccessPolicy.release(visit.actor))
        guard query.chosen != nil else {
            return refusedReport(query, visit, messages(for: ValidationFailure("period", "must be a calendar month, quarter or year"), visit.language))
        }
        do {
            return try await answeredReport(query, visit)
        } catch StoreError.invalid(let failure) {
            // The service refused the period: most often one not published yet, said with its day.
            var said = messages(for: failure, visit.language)
            if let chosen = query.chosen, chosen.publishedOn > CalendarDate.of(Date()) {
                said = [FieldMessage(field: "period", text: catalogue.text("error.period_unpublished", visit.language,
                                                                           ["period": chosen.description, "date": visit.format.date(chosen.publishedOn)]))]
            }
            return refusedReport(query, visit, said)
        }
    }

    func refusedReport(_ query: ReportQuery, _ visit: ConsoleVisit, _ said: [FieldMessage]) -> Response {
        let model = ConsoleController.errorModel(said).merging(["refused": true]) { own, _ in own }
        return render("reports", visit, title: "reports.title", model.merging(reportFilters(query, visit)) { own, _ in own }, status: .unprocessableContent)
    }

    func answeredReport(_ query: ReportQuery, _ visit: ConsoleVisit) async throws -> Response {
        if query.kind == "turnaround" {
            let report = try await runTurnaround(query, visit)
            return render("reports", visit, title: "reports.title", turnaroundModel(report, visit).merging(reportFilters(query, visit)) { own, _ in own })
        }
        let report = try await run(query, visit)
        let language = visit.language
        let dimensions = query.dimensions
        let keys = report.cube?.keys ?? [report.table.rowKeys] + (report.table.columnKeys.isEmpty ? [] : [report.table.columnKeys])
        var organisations: [UUID: String] = [:]
        if let position = dimensions.firstIndex(of: "organisation"), position < keys.count {
            let ids = Set(keys[position].compactMap { UUID(text: $0) })
            organisations = try await directory.names(users: [], organisations: ids, viewer: visit.actor).organisations
        }
        func label(_ dimension: Int, _ key: String) -> String {
            if dimensions[dimension] == "organisation", let name = UUID(text: key).flatMap({ organisations[$0] }) { return name }
            if key == "unknown" { return catalogue.text("reports.unknown", language) }
            return ConsoleController.labelPrefix[dimensions[dimension]].map { catalogue.label($0, key, language) } ?? key
        }
        // A count hidden to protect another ("suppressed") is said in the page's language.
        func shown(_ count: Int?, _ small: Bool) -> String {
            count == nil && !small ? catalogue.text("reports.hidden", language) : Suppression.display(count, small: small)
        }
        let table = report.table
        // The chart: the first dimension's counts (its totals when there are more); a hidden one has no bar.
        let bars: [(label: String, count: Int?, shown: String)] = table.rowKeys.indices.map { r in
            let (count, small) = table.columnKeys.isEmpty ? (table.cells[r][0], table.cellIsSmall(row: r, column: 0))
                : (table.rowTotals[r], table.rowTotalIsSmall(r))
            return (label(0, table.rowKeys[r]), small ? nil : count, shown(count, small))
        }
        let chartTitle = catalogue.text(dimensions.count > 1 ? "reports.chart_first" : "reports.chart", language)
        let model: [String: Any] = [
            "sections": reportSections(report, dimensions: dimensions, label: label, shown: shown, language: language),
            "chart": ReportChart.svg(bars, title: chartTitle),
            "national": report.scope == nil,
            "suppressed": report.release.suppresses,
        ]
        return render("reports", visit, title: "reports.title", model.merging(reportFilters(query, visit)) { own, _ in own })
    }

    /// The report's tables: one dimension as a list with its total; two as rows by columns with
    /// both margins; three as one such table for each value of the third, then the one where
    /// the third is all. Each cell as published.
    func reportSections(_ report: ReportService.Report, dimensions: [String], label: (Int, String) -> String,
                        shown: (Int?, Bool) -> String, language: Language) -> [[String: Any]] {
        let totalWord = catalogue.text("reports.total", language)
        func grid(_ rows: [String], _ columns: [String], _ entry: (Int?, Int?) -> (Int?, Bool)) -> [String: Any] {
            let twoDimensional = dimensions.count > 1
            let headers = twoDimensional ? columns.indices.map { label(1, columns[$0]) } + [totalWord] : [catalogue.text("reports.count", language)]
            let columnIndexes: [Int?] = twoDimensional ? columns.indices.map { Optional($0) } + [nil] : [nil]
            func line(_ row: Int?) -> [[String: String]] {
                columnIndexes.map { column in
                    let (count, small) = entry(row, column)
                    return ["shown": shown(count, small)]
                }
            }
            return [
                "row_label": catalogue.label("dimension", dimensions[0], language),
                "columns": headers.map { ["heading": $0] },
                "rows": rows.indices.map { ["label": label(0, rows[$0]), "cells": line($0)] as [String: Any] },
                "footer": ["label": totalWord, "cells": line(nil)] as [String: Any],
            ]
        }
        var sections: [[String: Any]] = []
        if let cube = report.cube {
            let third = cube.keys[2]
            for value in third.indices.map({ Optional($0) }) + [nil] {
                var section = grid(cube.keys[0], cube.keys[1]) { row, column in cube.entry([row, column, value]) }
                let name = value.map { label(2, third[$0]) } ?? catalogue.text("reports.all", language)
                section["caption"] = catalogue.text("reports.section", language,
                                                    ["dimension": catalogue.label("dimension", dimensions[2], language), "value": name])
                sections.append(section)
            }
        } else {
            let table = report.table
            var section = grid(table.rowKeys, table.columnKeys) { row, column in
                switch (row, column) {
                case let (r?, c?): return (table.cells[r][c], table.cellIsSmall(row: r, column: c))
                case let (r?, nil) where table.columnKeys.isEmpty: return (table.cells[r][0], table.cellIsSmall(row: r, column: 0))
                case let (r?, nil): return (table.rowTotals[r], table.rowTotalIsSmall(r))
                case let (nil, c?): return (table.columnTotals[c], table.columnTotalIsSmall(c))
                case (nil, nil): return (table.total, table.totalIsSmall)
                }
            }
            section["caption"] = catalogue.text("reports.chart", language)
            sections.append(section)
        }
        for index in sections.indices { sections[index]["id"] = index == 0 ? "report-table" : "report-table-\(index + 1)" }
        return sections
    }

    /// The filters form, the CSV link and the dimension's name: the same for every kind.
    func reportFilters(_ query: ReportQuery, _ visit: ConsoleVisit) -> [String: Any] {
        var components = URLComponents()
        components.path = "/reports.csv"
        components.queryItems = [URLQueryItem(name: "kind", value: query.kind), URLQueryItem(name: "by", value: query.dimension)]
            + zip(ReportQuery.furtherFields, query.dimensions.dropFirst()).map { URLQueryItem(name: $0, value: $1) }
            + [URLQueryItem(name: "period", value: query.period)]
        let offered = ReportQuery.dimensions(of: query.kind)
        let further: [[String: Any]] = query.kind == "turnaround" ? [] : ReportQuery.furtherFields.enumerated().map { position, field in
            let chosen = position + 1 < query.dimensions.count ? query.dimensions[position + 1] : ""
            let none: [String: Any] = ["value": "", "label": catalogue.text("reports.none", visit.language), "selected": chosen.isEmpty]
            return ["field": field, "label": catalogue.text(position == 0 ? "reports.then_by" : "reports.and_by", visit.language),
                    "choices": [none] + options("dimension", offered, selected: chosen, visit)]
        }
        return [
            "csv": components.string ?? "/reports.csv",
            "kinds": options("report_kind", ReportQuery.kinds, selected: query.kind, visit),
            "dimensions": options("dimension", offered, selected: query.dimension, visit),
            "further_dimensions": further,
            "has_further_dimensions": !further.isEmpty,
            "period_groups": periodGroups(query, visit),
            "dimension_label": catalogue.label("dimension", query.dimension, visit.language),
        ]
    }

    /// The catalogue prefix that labels each dimension's codes.
    static let labelPrefix: [String: String] = [
        "case_type": "case_type", "identification_status": "identification", "exploitation_type": "exploitation", "sex": "sex",
        "status": "referral_status", "service_type": "service_type", "recipient_type": "organisation_type", "priority": "priority",
        "organisation_type": "organisation_type",
    ]

    static let unitKey: [ReportPeriod.Unit: String] = [.month: "reports.unit_month", .quarter: "reports.unit_quarter", .year: "reports.unit_year"]

    /// The choices of period, by unit (the last twelve months, eight quarters and three years,
    /// newest first; only those already published when the reader's figures are), with the
    /// chosen one among them.
    func periodGroups(_ query: ReportQuery, _ visit: ConsoleVisit) -> [[String: Any]] {
        let today = CalendarDate.of(Date())
        var periods = ReportPeriod.recent(today).filter { query.release == .operational || $0.publishedOn <= today }
        if let chosen = query.chosen, !periods.contains(chosen) { periods.insert(chosen, at: 0) }
        return ReportPeriod.Unit.allCases.map { unit in
            let choices = periods.filter { $0.unit == unit }.map { period in
                ["value": period.description, "label": period.description, "selected": period.description == query.period] as [String: Any]
            }
            return ["label": catalogue.text(ConsoleController.unitKey[unit] ?? "reports.period", visit.language), "choices": choices]
        }
    }
}

extension ConsoleController {
    /// The audit page's filter form as the user filled it in.
    func auditFilterModel(_ request: Request, _ filter: AuditFilter, _ visit: ConsoleVisit) -> [String: Any] {
        let query = request.uri.queryParameters
        let typed = { (name: String) -> String in query.get(name).map { String($0) } ?? "" }
        let form: [String: String] = ["case_id": typed("case_id"), "subtype": filter.subtype ?? "", "from": typed("from"), "to": typed("to")]
        let outcomes = options("outcome", AuditEvent.Outcome.allCases.map(\.rawValue), selected: filter.outcome?.rawValue, visit)
        return ["filter": form, "outcomes": outcomes, "verifies": visit.actor.role == .auditor]
    }

    /// A case named in the audit filter by its reference, looked up among the cases the user may
    /// list (an auditor lists none, and names a case by id), or by id. Nil when none matches.
    func auditedCase(_ text: String, _ visit: ConsoleVisit) async throws -> UUID? {
        guard !text.isEmpty else { return nil }
        if let id = UUID(text: text) { return id }
        guard Capabilities(visit.actor).listCases, text.count <= 64 else { return nil }
        let found = try await cases.list(CaseFilter(search: CaseSearch(reference: text)), page: PageRequest(cursor: nil, limit: 1), context: visit.access)
        return found.items.first?.id
    }
}
