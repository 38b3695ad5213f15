import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird
import NIOCore

/// `GET /v1/reports/turnaround`: how long recipients take to answer and to complete referrals,
/// median and p90 per group, each with the count behind it, and the share of first answers given
/// by the priority's deadline (`in_time_percent`); a time or share over fewer than 11 referrals
/// and a small count are shown `<11` when the report leaves the organisation (S18).
/// `?period=2026-03`, `2026-Q4` or `2026` (else all time for a supervisor, the current year for an auditor),
/// `?by=` one `TurnaroundDimension`, `?format=csv`.
extension ReportController {
    struct TurnaroundQuery {
        var dimension: TurnaroundDimension
        var period: ReportService.Period
        var csv: Bool

        init(_ request: Request) throws {
            let query = request.uri.queryParameters
            switch query.get("by").map({ String($0) }) {
            case nil: dimension = .serviceType
            case let name?:
                guard let value = TurnaroundDimension(rawValue: name) else {
                    throw APIError.badRequest("by", "must name one of: \(TurnaroundDimension.allowedValues)")
                }
                dimension = value
            }
            period = try ReportController.Query.period(request)
            switch query.get("format").map({ String($0) }) {
            case nil, "json": csv = false
            case "csv": csv = true
            default: throw APIError.badRequest("format", "must be json or csv")
            }
        }
    }

    func turnaround(_ request: Request, _ context: HavenRequestContext) async throws -> Response {
        let query = try TurnaroundQuery(request)
        let report = try await reports.turnaround(by: query.dimension, period: query.period, context: context.access)
        return try ReportController.renderTurnaround(report, csv: query.csv)
    }

    static func renderTurnaround(_ report: ReportService.TurnaroundReport, csv: Bool) throws -> Response {
        let figures = report.figures
        if csv { return CSV.response(turnaroundLines(report), filename: "turnaround.csv") }
        // Unsuppressed, a missing time is one nothing was measured for.
        func time(_ value: Double?) -> JSONValue { value.map { .double($0) } ?? (report.release.suppresses ? .string("<11") : .null) }
        func group(_ entry: Turnaround.PublishedGroup) -> JSONValue {
            .object([
                "group": .string(entry.key),
                "first_answer": .object([
                    "referrals": count(entry.firstAnswer.count, small: entry.firstAnswer.countIsSmall),
                    "median_hours": time(entry.firstAnswer.median), "p90_hours": time(entry.firstAnswer.p90),
                    "in_time_percent": entry.firstAnswer.inTimePercent.map { .int($0) } ?? (report.release.suppresses ? .string("<11") : .null),
                ]),
                "completion": .object([
                    "referrals": count(entry.completion.count, small: entry.completion.countIsSmall),
                    "median_days": time(entry.completion.median), "p90_days": time(entry.completion.p90),
                ]),
            ])
        }
        let body: JSONValue = .object([
            "scope": .string(report.scope == nil ? "national" : "organisation"), "k": .int(Suppression.k),
            "release": .string(release(report.release)), "period": report.period.map { .string($0.description) } ?? .null,
            "dimension": .string(report.dimension.rawValue),
            "groups": .array(figures.groups.map(group)), "overall": group(figures.overall),
        ])
        let data = try JSONCoding.encoder.encode(body)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A header row, one row per group, then `(all)`: hidden figures as `<11` or `suppressed`.
    static func turnaroundLines(_ report: ReportService.TurnaroundReport) -> [[String]] {
        let header = [report.dimension.rawValue, "first_answer_referrals", "first_answer_median_hours", "first_answer_p90_hours",
                      "first_answer_in_time_percent", "completion_referrals", "completion_median_days", "completion_p90_days"]
        func time(_ value: Double?) -> String { value == nil && !report.release.suppresses ? "" : Turnaround.Figure.shown(value) }
        func percent(_ value: Int?) -> String { value.map(String.init) ?? (report.release.suppresses ? "<11" : "") }
        func line(_ key: String, _ entry: Turnaround.PublishedGroup) -> [String] {
            [key, entry.firstAnswer.shownCount, time(entry.firstAnswer.median), time(entry.firstAnswer.p90),
             percent(entry.firstAnswer.inTimePercent), entry.completion.shownCount, time(entry.completion.median), time(entry.completion.p90)]
        }
        return [header] + report.figures.groups.map { line($0.key, $0) } + [line("(all)", report.figures.overall)]
    }
}
