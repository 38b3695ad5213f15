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
    }

    /// The same scope and audit as the other reports: the policy decides organisation or
    /// national, and one `report.turnaround` event names the dimension, never a figure.
    public func turnaround(by dimension: TurnaroundDimension, period: Period, context: AccessContext) async throws -> TurnaroundReport {
        let scope = try await authorize(context)
        let measured = try await read(context) { transaction in
            try ReportStore.turnaround(by: dimension, organisation: scope, from: period.from, to: period.to, on: transaction.connection)
        }
        try await audit(context, "report.turnaround", scope: scope, detail: ["by": .strings([dimension.rawValue])])
        return TurnaroundReport(dimension: dimension, figures: Turnaround.publish(measured.groups, overall: measured.overall), scope: scope)
    }
}
