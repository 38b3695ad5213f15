import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// The reports page's turnaround: time to the recipient's first answer (hours) and to completion
/// (days), median and p90 per group, as two charts and one table. A time over fewer than 11
/// referrals is "<11" and gets no bar (S18).
extension ConsoleController {
    func runTurnaround(_ query: ReportQuery, _ visit: ConsoleVisit) async throws -> ReportService.TurnaroundReport {
        try await ReportService(primary: store).turnaround(by: TurnaroundDimension(rawValue: query.dimension) ?? .serviceType,
                                                           period: query.servicePeriod, context: visit.access)
    }

    /// The model the reports template reads for a turnaround report.
    func turnaroundModel(_ report: ReportService.TurnaroundReport, _ visit: ConsoleVisit) -> [String: Any] {
        let language = visit.language
        let prefix = ConsoleController.labelPrefix[report.dimension.rawValue]
        func label(_ key: String) -> String { prefix.map { catalogue.label($0, key, language) } ?? key }
        let missing = report.release.suppresses ? "<11" : "–"
        func time(_ value: Double?) -> String { value.map { ConsoleController.decimal($0, language) } ?? missing }
        func count(_ figure: Turnaround.Figure) -> String {
            figure.count == nil && !figure.countIsSmall ? catalogue.text("reports.hidden", language) : figure.shownCount
        }
        func row(_ label: String, _ entry: Turnaround.PublishedGroup) -> [String: Any] {
            ["label": label, "answered": count(entry.firstAnswer), "answer_median": time(entry.firstAnswer.median),
             "answer_p90": time(entry.firstAnswer.p90),
             "in_time": entry.firstAnswer.inTimePercent.map { catalogue.text("turnaround.percent", language, ["value": String($0)]) } ?? missing,
             "completed": count(entry.completion),
             "completion_median": time(entry.completion.median), "completion_p90": time(entry.completion.p90)]
        }
        func bars(_ figure: Turnaround.Figure, unit: String) -> [ReportChart.Bar] {
            [(figure.median, "turnaround.median"), (figure.p90, "turnaround.p90")].map { value, key in
                // "<11" stands alone: a unit after it would read as a measured time.
                let shown = value.map { time($0) + " " + catalogue.text(unit, language) } ?? missing
                return ReportChart.Bar(value: value, text: catalogue.text(key, language, ["value": shown]))
            }
        }
        let groups = report.figures.groups
        return [
            "is_turnaround": true,
            "answer_chart": ReportChart.pairs(groups.map { (label($0.key), $0.key, bars($0.firstAnswer, unit: "turnaround.hours")) },
                                              id: "turnaround-answer-chart", title: catalogue.text("turnaround.answer_chart", language)),
            "completion_chart": ReportChart.pairs(groups.map { (label($0.key), $0.key, bars($0.completion, unit: "turnaround.days")) },
                                                  id: "turnaround-completion-chart", title: catalogue.text("turnaround.completion_chart", language)),
            "turnaround_rows": groups.map { row(label($0.key), $0) },
            "turnaround_total": row(catalogue.text("reports.total", language), report.figures.overall),
            "national": report.scope == nil,
            "suppressed": report.release.suppresses,
        ]
    }

    /// A time to a tenth, with the language's decimal separator.
    static func decimal(_ value: Double, _ language: Language) -> String {
        let text = String(format: "%.1f", value)
        return language == .en ? text : text.replacingOccurrences(of: ".", with: ",")
    }
}
