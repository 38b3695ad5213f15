import Foundation
import HavenCore
import HavenStore

extension ReportService {
    /// Referral turnaround by one dimension, as it may be published, and the scope it covers
    /// (nil: national).
    public struct TurnaroundReport: Sendable {
        public var dimension: TurnaroundDimension
        public var figures: Turnaround.Published
        public var scope: UUID?
        public var release: ReportRelease
        public var period: ReportPeriod?
    }

    /// The same scope, release and audit as the other reports: the policy decides organisation
    /// or national and exact or suppressed, and one `report.turnaround` event names the
    /// dimension, never a figure. A published quarter or year is also measured month by month
    /// so its counts are published consistently with its months.
    public func turnaround(by dimension: TurnaroundDimension, period: Period, context: AccessContext) async throws -> TurnaroundReport {
        let (scope, release, days) = try await authorize(context, period)
        typealias Measured = (groups: [Turnaround.Group], overall: Turnaround.Group)
        let (measured, months) = try await read(context) { transaction -> (Measured, [Measured]) in
            let whole = try ReportStore.turnaround(by: dimension, organisation: scope, from: days?.first, to: days?.last, on: transaction.connection)
            guard release.suppresses, let days, days.unit != .month else { return (whole, []) }
            let months = try days.months.map {
                try ReportStore.turnaround(by: dimension, organisation: scope, from: $0.first, to: $0.last, on: transaction.connection)
            }
            return (whole, months)
        }
        try await audit(context, .reportTurnaround, scope: scope, detail: detail([dimension.rawValue], release, days))
        let figures = Turnaround.publish(measured.groups, overall: measured.overall, release: release, within: months)
        return TurnaroundReport(dimension: dimension, figures: figures, scope: scope, release: release, period: days)
    }
}
