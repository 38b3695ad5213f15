import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird
import Logging
import NIOCore

/// Reports and exports that never identify anyone (S18), only for cases whose consent allows
/// statistics. Supervisors read their organisation exactly; what leaves an organisation (the
/// auditors' national view, the export) has every cell of 1–10 shown as `<11` with
/// complementary suppression and covers one whole month, quarter or year (`ReportRelease`).
/// `?format=csv` too.
struct ReportController: Sendable {
    let reports: ReportService

    func register(_ routes: Routes) {
        routes.get("/v1/reports/cases") { request, context in try await cases(request, context) }
        routes.get("/v1/reports/referrals") { request, context in try await referrals(request, context) }
        routes.get("/v1/reports/turnaround") { request, context in try await turnaround(request, context) }
        routes.get("/v1/exports/cases.csv") { request, context in try await export(request, context) }
    }

    struct Query {
        var period: ReportService.Period
        var csv: Bool

        /// `from` and `to` (both days counted), or `period` (`2026`, `2026-Q4`, `2026-03`); malformed is a 400.
        /// Whether the period may be asked for is the release's to say (a 422 naming these fields).
        init(_ request: Request) throws {
            period = try Query.period(request)
            csv = try Query.csv(request)
        }

        static func period(_ request: Request) throws -> ReportService.Period {
            let query = request.uri.queryParameters
            func date(_ name: String) throws -> CalendarDate? {
                guard let text = query.get(name) else { return nil }
                guard let date = DateInput.day(text) else { throw APIError.badRequest(name, "must be a real date as YYYY-MM-DD in the years 1900–2200") }
                return date
            }
            let from = try date("from"), to = try date("to")
            if let text = query.get("period") {
                guard from == nil, to == nil else { throw APIError.badRequest("period", "is given by period or by from and to, not both") }
                guard let period = ReportPeriod(name: String(text)) else {
                    throw APIError.badRequest("period", "must be a year such as 2026, a quarter such as 2026-Q4 or a month such as 2026-03")
                }
                return ReportService.Period(period, fields: ["period"])
            }
            if from == nil, to == nil { return ReportService.Period(nil, fields: ["from", "to"]) }
            // One end alone leaves the other open.
            let first = from ?? CalendarDate(year: 1900, month: 1, day: 1)!, last = to ?? CalendarDate(year: 2200, month: 12, day: 31)!
            guard let period = ReportPeriod(first: first, last: last) else { throw APIError.badRequest("to", "must not be before from") }
            return ReportService.Period(period, fields: ["from", "to"])
        }

        static func csv(_ request: Request) throws -> Bool {
            switch request.uri.queryParameters.get("format").map({ String($0) }) {
            case nil, "json": return false
            case "csv": return true
            default: throw APIError.badRequest("format", "must be json or csv")
            }
        }
    }

    /// One to three dimensions (`Suppression.maximumDimensions`), comma-separated: an unknown
    /// name or an empty list is a 400; more than three is a 422.
    static func dimensions<T: ClosedSet>(_ request: Request, _ type: T.Type, default fallback: T) throws -> [T] {
        guard let text = request.uri.queryParameters.get("by") else { return [fallback] }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let values = try names.map { name in
            guard let value = T(rawValue: name) else { throw APIError.badRequest("by", "must name one, two or three of: \(T.allowedValues)") }
            return value
        }
        guard values.count <= Suppression.maximumDimensions else {
            throw APIError.invalid("by", "names \(values.count) dimensions; a report is broken down by at most \(Suppression.maximumDimensions)")
        }
        // The same dimension twice would put a suppressed cell's count in a margin.
        guard Set(names).count == names.count else { throw APIError.badRequest("by", "must name different dimensions") }
        return values
    }

    func cases(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, CaseDimension.self, default: .caseType)
        let report = try await reports.cases(by: dimensions, period: query.period, context: context.access)
        return try ReportController.render(report, dimensions: dimensions.map(\.rawValue), csv: query.csv, extra: [:])
    }

    func referrals(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, ReferralDimension.self, default: .status)
        let report = try await reports.referrals(by: dimensions, period: query.period, context: context.access)
        let times = report.times
        let suppressed = report.table
        let timing: [JSONValue] = times.map { group in
            // Unsuppressed, a missing time is one no referral reached.
            let missing: JSONValue = report.release.suppresses ? .string("<11") : .null
            func hours(_ median: Double?, _ p90: Double?) -> JSONValue {
                .object(["median": median.map { .double($0) } ?? missing, "p90": p90.map { .double($0) } ?? missing])
            }
            // A group's count is shown exactly as the table shows it: hidden there, hidden here.
            let shown = ReportController.publishedCount(of: group.key, in: suppressed)
            return .object([
                "group": .string(group.key),
                "referrals": ReportController.count(shown.count, small: shown.small),
                "hours_to_accepted": hours(group.toAcceptedMedian, group.toAcceptedP90),
                "hours_to_completed": hours(group.toCompletedMedian, group.toCompletedP90),
            ])
        }
        return try ReportController.render(report, dimensions: dimensions.map(\.rawValue), csv: query.csv, extra: ["times": .array(timing)])
    }

    /// How the table publishes the count of a first-dimension group (`all`: the total).
    static func publishedCount(of key: String, in table: Suppression.Table) -> (count: Int?, small: Bool) {
        if key == "all" { return (table.total, table.totalIsSmall) }
        guard let row = table.rowKeys.firstIndex(of: key) else { return (nil, true) }
        if table.columnKeys.isEmpty { return (table.cells[row][0], table.cellIsSmall(row: row, column: 0)) }
        return (table.rowTotals[row], table.rowTotalIsSmall(row))
    }

    static func release(_ release: ReportRelease) -> String { release == .operational ? "operational" : "published" }

    static func count(_ value: Int?, small: Bool) -> JSONValue { .string(Suppression.display(value, small: small)).intIfCount(value) }

    static func render(_ report: ReportService.Report, dimensions: [String], csv: Bool, extra: [String: JSONValue]) throws -> Response {
        if let cube = report.cube { return try render(cube, report, dimensions: dimensions, csv: csv, extra: extra) }
        let table = report.table
        let twoDimensional = dimensions.count == 2
        var cells: [JSONValue] = []
        var lines: [[String]] = [dimensions + ["count"]]
        for (r, rowKey) in table.rowKeys.enumerated() {
            let columns = twoDimensional ? table.columnKeys : [""]
            for (c, columnKey) in columns.enumerated() {
                let small = table.cellIsSmall(row: r, column: c)
                var object: [String: JSONValue] = [dimensions[0]: .string(rowKey), "count": count(table.cells[r][c], small: small)]
                if twoDimensional { object[dimensions[1]] = .string(columnKey) }
                cells.append(.object(object))
                lines.append((twoDimensional ? [rowKey, columnKey] : [rowKey]) + [Suppression.display(table.cells[r][c], small: small)])
            }
        }
        var body: [String: JSONValue] = [
            "scope": .string(report.scope == nil ? "national" : "organisation"), "k": .int(Suppression.k),
            "release": .string(release(report.release)), "period": report.period.map { .string($0.description) } ?? .null,
            "dimensions": .strings(dimensions), "cells": .array(cells), "total": count(table.total, small: table.totalIsSmall),
        ]
        if twoDimensional {
            body["row_totals"] = .array(table.rowKeys.indices.map { r in
                .object([dimensions[0]: .string(table.rowKeys[r]), "count": count(table.rowTotals[r], small: table.rowTotalIsSmall(r))])
            })
            body["column_totals"] = .array(table.columnKeys.indices.map { c in
                .object([dimensions[1]: .string(table.columnKeys[c]), "count": count(table.columnTotals[c], small: table.columnTotalIsSmall(c))])
            })
            for r in table.rowKeys.indices {
                lines.append([table.rowKeys[r], "(all)", Suppression.display(table.rowTotals[r], small: table.rowTotalIsSmall(r))])
            }
            for c in table.columnKeys.indices {
                lines.append(["(all)", table.columnKeys[c], Suppression.display(table.columnTotals[c], small: table.columnTotalIsSmall(c))])
            }
        }
        lines.append(Array(repeating: "(all)", count: dimensions.count) + [Suppression.display(table.total, small: table.totalIsSmall)])
        for (key, value) in extra { body[key] = value }
        if csv { return CSV.response(lines, filename: "report.csv") }
        let data = try JSONCoding.encoder.encode(JSONValue.object(body))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Three dimensions: `cells` names all three, `margins` every margin (the dimensions it
    /// is "all" over are left out), then the total; CSV writes `(all)` for them.
    static func render(_ cube: Suppression.Cube, _ report: ReportService.Report, dimensions: [String], csv: Bool, extra: [String: JSONValue]) throws -> Response {
        var cells: [JSONValue] = [], margins: [JSONValue] = []
        var lines: [[String]] = [dimensions + ["count"]]
        for (index, coordinates) in cube.coordinates.enumerated() {
            let small = cube.isSmall(at: index)
            lines.append(coordinates.enumerated().map { dimension, key in key.map { cube.keys[dimension][$0] } ?? "(all)" }
                + [Suppression.display(cube.counts[index], small: small)])
            guard coordinates.contains(where: { $0 != nil }) else { continue }
            var object: [String: JSONValue] = ["count": count(cube.counts[index], small: small)]
            for (dimension, key) in coordinates.enumerated() { if let key { object[dimensions[dimension]] = .string(cube.keys[dimension][key]) } }
            if coordinates.contains(nil) { margins.append(.object(object)) } else { cells.append(.object(object)) }
        }
        let total = cube.entry([Int?](repeating: nil, count: cube.dimensions))
        var body: [String: JSONValue] = [
            "scope": .string(report.scope == nil ? "national" : "organisation"), "k": .int(Suppression.k),
            "release": .string(release(report.release)), "period": report.period.map { .string($0.description) } ?? .null,
            "dimensions": .strings(dimensions), "cells": .array(cells), "margins": .array(margins), "total": count(total.count, small: total.small),
        ]
        for (key, value) in extra { body[key] = value }
        if csv { return CSV.response(lines, filename: "report.csv") }
        let data = try JSONCoding.encoder.encode(JSONValue.object(body))
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// One row per case, k-anonymous (`StatisticsExport`); audited.
    func export(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        CSV.response(try await reports.exportRows(context: context.access), filename: "cases.csv")
    }
}

extension JSONValue {
    /// A published count as a number; a hidden one keeps its marker text.
    func intIfCount(_ count: Int?) -> JSONValue { count.map { .int($0) } ?? self }
}

enum CSV {
    static func field(_ value: String) -> String {
        var value = value
        // A spreadsheet would run a leading =, +, - or @ as a formula.
        if let first = value.first, "=+-@".contains(first) { value = "'" + value }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    static func response(_ rows: [[String]], filename: String) -> Response {
        let text = rows.map { $0.map(field).joined(separator: ",") }.joined(separator: "\r\n") + "\r\n"
        return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
