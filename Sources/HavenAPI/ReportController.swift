import Foundation
import HavenCore
import HavenStore
import Hummingbird
import Logging
import NIOCore

/// Reports and exports that never identify anyone (S18): counts with every cell of 1–10 shown
/// as `<11` and complementary suppression, only for cases whose consent allows statistics.
/// Supervisors see their organisation; auditors the national view. `?format=csv` too.
struct ReportController: Sendable {
    let store: Store
    let reader: ReportReader

    func register(_ routes: Routes) {
        routes.get("/v1/reports/cases") { request, context in try await cases(request, context) }
        routes.get("/v1/reports/referrals") { request, context in try await referrals(request, context) }
        routes.get("/v1/exports/cases.csv") { request, context in try await export(request, context) }
    }

    struct Query {
        var from: CalendarDate?
        var to: CalendarDate?
        var csv: Bool

        init(_ request: Request) throws {
            func date(_ name: String) throws -> CalendarDate? {
                guard let text = request.uri.queryParameters.get(name) else { return nil }
                guard let date = CalendarDate(String(text)) else { throw APIError.badRequest(name, "must be a date as YYYY-MM-DD") }
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

    /// The organisation a reader is limited to (nil: national), as the policy decides.
    static func scope(_ actor: Actor) throws -> UUID? { try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .readReports)) }

    func cases(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, CaseDimension.self, default: .caseType)
        let actor = try context.requireActor()
        try await reader.authorize(context.access)
        let scope = try ReportController.scope(actor)
        let table = try await reader.read(context.access) { transaction in
            try ReportStore.cases(by: dimensions, organisation: scope, from: query.from, to: query.to, on: transaction.connection)
        }
        try await reader.audit(context.access, "report.cases", scope: scope, detail: ["by": .strings(dimensions.map(\.rawValue))])
        return try ReportController.render(table.suppressed, dimensions: dimensions.map(\.rawValue), scope: scope, csv: query.csv, extra: [:])
    }

    func referrals(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try Query(request)
        let dimensions = try ReportController.dimensions(request, ReferralDimension.self, default: .status)
        let actor = try context.requireActor()
        try await reader.authorize(context.access)
        let scope = try ReportController.scope(actor)
        let (table, times) = try await reader.read(context.access) { transaction in
            let table = try ReportStore.referrals(by: dimensions, organisation: scope, from: query.from, to: query.to, on: transaction.connection)
            let overall = try ReportStore.referralTimes(by: nil, organisation: scope, from: query.from, to: query.to, on: transaction.connection)
            let byFirst = try ReportStore.referralTimes(by: dimensions[0], organisation: scope, from: query.from, to: query.to, on: transaction.connection)
            return (table, overall + byFirst)
        }
        try await reader.audit(context.access, "report.referrals", scope: scope, detail: ["by": .strings(dimensions.map(\.rawValue))])
        let suppressed = table.suppressed
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
        return try ReportController.render(suppressed, dimensions: dimensions.map(\.rawValue), scope: scope, csv: query.csv,
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
        let actor = try context.requireActor()
        try await reader.authorize(context.access)
        let scope = try ReportController.scope(actor)
        let rows = try await reader.read(context.access) { transaction in
            try ReportStore.exportRows(organisation: scope, on: transaction.connection)
        }
        try await reader.audit(context.access, "export", action: .execute, scope: scope, detail: ["kind": "statistics-csv", "rows": .int(rows.count)])
        return CSV.response([ReportStore.exportHeader] + rows, filename: "cases.csv")
    }
}

/// Where reports read: the replica when there is one and it answers, else the primary. The
/// policy is asked and the audit event written on the primary (a replica takes no writes);
/// the data is released only once its audit event is written.
struct ReportReader: Sendable {
    let primary: Store
    let replica: Store?

    func authorize(_ context: AccessContext) async throws {
        try await primary.transaction(context) { try $0.authorize(.readReports, .collection, entityKind: "report") }
    }

    /// Reads as Haven itself: aggregates span organisations (an auditor's national view) that no
    /// user's row-level scope covers. The scope the policy allowed is applied by the report's own
    /// organisation filter, and nothing read here identifies anyone.
    func read<T: Sendable>(_ context: AccessContext, _ body: @escaping @Sendable (StoreTransaction) throws -> T) async throws -> T {
        let aggregate = AccessContext(principal: .system, requestID: context.requestID, clientAddress: context.clientAddress)
        if let replica {
            do {
                return try await replica.readOnly(aggregate, body)
            } catch StoreError.unavailable {
                primary.logger.warning("the read replica is unavailable; reading the report from the primary")
            }
        }
        return try await primary.readOnly(aggregate, body)
    }

    func audit(_ context: AccessContext, _ subtype: String, action: AuditEvent.Action = .read, scope: UUID?, detail: [String: AuditDetail]) async throws {
        try await primary.transaction(context) { transaction in
            try transaction.audit(action, subtype, entityKind: "report", subjectOrganisation: scope, purpose: .statistics, detail: detail)
        }
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
