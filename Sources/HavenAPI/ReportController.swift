import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird
import Logging
import NIOCore

/// Reports and exports that never identify anyone (S18): counts with every cell of 1–10 shown
/// as `<11` and complementary suppression, only for cases whose consent allows statistics.
/// Supervisors see their organisation; auditors the national view. `?format=csv` too.
struct ReportController: Sendable {
    let reports: ReportService

    func register(_ routes: Routes) {
        routes.get("/v1/reports/cases") { request, context in try await cases(request, context) }
        routes.get("/v1/reports/referrals") { request, context in try await referrals(request, context) }
        routes.get("/v1/reports/turnaround") { request, context in try await turnaround(request, context) }
        routes.get("/v1/exports/cases.csv") { request, context in try await export(request, context) }
    }

    struct Query {
        var from: CalendarDate?
        var to: CalendarDate?
        var csv: Bool
        var period: ReportService.Period { ReportService.Period(from: from, to: to) }

        init(_ request: Request) throws {
            func date(_ name: String) throws -> CalendarDate? {
                guard let text = request.uri.queryParameters.get(name) else { return nil }
                guard let date = DateInput.day(text) else { throw APIError.badRequest(name, "must be a real date as YYYY-MM-DD in the years 1900–2200") }
                return date
            }
            from = try date("from")
            to = try date("to")
            if let from, let to, to < from { throw APIError.badRequest("to", "must not be before from") }
            switch request.uri.queryParameters.get("format").map({ String($0) }) {
            case nil, "json": csv = false
            case "csv": csv = true
            default: throw APIError.badRequest("format", "must be json or csv")
            }
        }
    }

    static func dimensions<T: ClosedSet>(_ request: Request, _ type: T.Type, default fallback: T) throws -> [T] {
        guard let text = request.uri.queryParameters.get("by") else { return [fallback] }
        let names = text.split(separator: ",").map(String.init)
        guard (1...2).contains(names.count) else { throw APIError.badRequest("by", "must name one or two of: \(T.allowedValues)") }
        let values = try names.map { name in
            guard let value = T(rawValue: name) else { throw APIError.badRequest("by", "must name one or two of: \(T.allowedValues)") }
            return value
        }
        // The same dimension twice would put a suppressed cell's count in a margin.
        guard Set(names).count == names.count else { throw APIError.badRequest("by", "must name two different dimensions") }
        return values
    }

    func cases(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, CaseDimension.self, default: .caseType)
        let report = try await reports.cases(by: dimensions, period: query.period, context: context.access)
        return try ReportController.render(report.table, dimensions: dimensions.map(\.rawValue), scope: report.scope, csv: query.csv, extra: [:])
    }

    func referrals(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, ReferralDimension.self, default: .status)
        let report = try await reports.referrals(by: dimensions, period: query.period, context: context.access)
        let times = report.times
        let suppressed = report.table
        let timing: [JSONValue] = times.map { group in
            func hours(_ median: Double?, _ p90: Double?) -> JSONValue {
                .object(["median": median.map { .double($0) } ?? .string("<11"), "p90": p90.map { .double($0) } ?? .string("<11")])
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
        return try ReportController.render(suppressed, dimensions: dimensions.map(\.rawValue), scope: report.scope, csv: query.csv,
                                           extra: ["times": .array(timing)])
    }

    /// How the table publishes the count of a first-dimension group (`all`: the total).
    static func publishedCount(of key: String, in table: Suppression.Table) -> (count: Int?, small: Bool) {
        if key == "all" { return (table.total, table.totalIsSmall) }
        guard let row = table.rowKeys.firstIndex(of: key) else { return (nil, true) }
        if table.columnKeys.isEmpty { return (table.cells[row][0], table.cellIsSmall(row: row, column: 0)) }
        return (table.rowTotals[row], table.rowTotalIsSmall(row))
    }

    static func count(_ value: Int?, small: Bool) -> JSONValue { .string(Suppression.display(value, small: small)).intIfCount(value) }

    static func render(_ table: Suppression.Table, dimensions: [String], scope: UUID?, csv: Bool, extra: [String: JSONValue]) throws -> Response {
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
            "scope": .string(scope == nil ? "national" : "organisation"), "k": .int(Suppression.k),
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

    /// One row per case, no identifying field, ages in bands, dates to the month; audited.
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
