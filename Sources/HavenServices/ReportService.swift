import Foundation
import HavenCore
import HavenStore
import Logging

/// Reports and the statistics export, which never identify anyone (S18): the policy decides
/// the scope (an organisation, or national), cells under 11 are suppressed, and the data is
/// released only once the read's audit event is written.
public struct ReportService: Sendable {
    let primary: Store
    /// A streaming replica reports may read from; nil reads them from the primary.
    let replica: Store?

    public init(primary: Store, replica: Store? = nil) {
        self.primary = primary
        self.replica = replica
    }

    /// The period asked for (nil: none) and the query parameters it came from, which a refusal names.
    public struct Period: Sendable, Equatable {
        public var asked: ReportPeriod?
        public var fields: [String]

        public init(_ asked: ReportPeriod?, fields: [String]) {
            (self.asked, self.fields) = (asked, fields)
        }
    }

    /// A report's table as it may be released, the scope it covers (nil: national), how it is
    /// released and the period it covers (nil: every day).
    public struct Report: Sendable {
        public var table: Suppression.Table
        /// Three dimensions: every cell and margin (`table` is then its first two dimensions).
        public var cube: Suppression.Cube?
        public var scope: UUID?
        public var release: ReportRelease = .published
        public var period: ReportPeriod?
        /// Referral reports only: time to acceptance and to completion, overall then by the first dimension.
        public var times: [ReferralTimes] = []
    }

    public func cases(by dimensions: [CaseDimension], period: Period, context: AccessContext) async throws -> Report {
        let (scope, release, days) = try await authorize(context, period)
        let (table, cube) = try await read(context) { transaction in
            try ReportService.table(release, days) { from, to in
                try ReportStore.caseCounts(by: dimensions, organisation: scope, from: from, to: to, frozen: release.freezes, on: transaction.connection)
            }
        }
        try await audit(context, .reportCases, scope: scope, detail: detail(dimensions.map(\.rawValue), release, days))
        return Report(table: table, cube: cube, scope: scope, release: release, period: days)
    }

    public func referrals(by dimensions: [ReferralDimension], period: Period, context: AccessContext) async throws -> Report {
        let (scope, release, days) = try await authorize(context, period)
        let minimum = release.suppresses ? Suppression.k : 1
        let ((table, cube), times) = try await read(context) { transaction in
            let table = try ReportService.table(release, days) { from, to in
                try ReportStore.referralCounts(by: dimensions, organisation: scope, from: from, to: to, on: transaction.connection)
            }
            let overall = try ReportStore.referralTimes(by: nil, organisation: scope, from: days?.first, to: days?.last, minimum: minimum,
                                                        on: transaction.connection)
            let byFirst = try ReportStore.referralTimes(by: dimensions.first, organisation: scope, from: days?.first, to: days?.last,
                                                        minimum: minimum, on: transaction.connection)
            return (table, overall + byFirst)
        }
        try await audit(context, .reportReferrals, scope: scope, detail: detail(dimensions.map(\.rawValue), release, days))
        return Report(table: table, cube: cube, scope: scope, release: release, period: days, times: times)
    }

    /// The table of `period` as `release` allows: exact, or suppressed; a published quarter or
    /// year is also counted month by month and published consistently with its months. Three
    /// dimensions give their cube too, suppressed along every line (`Suppression.cube`), and
    /// its first two dimensions as the table.
    static func table(_ release: ReportRelease, _ period: ReportPeriod?,
                      _ count: (CalendarDate?, CalendarDate?) throws -> RawCube) throws -> (Suppression.Table, Suppression.Cube?) {
        let whole = try count(period?.first, period?.last)
        let monthly = release.suppresses && period.map { $0.unit != .month && $0.unit != nil } == true
        let months = try monthly ? (period?.months ?? []).map { try count($0.first, $0.last) } : []
        if whole.dimensions > 2 {
            let cube = !release.suppresses ? whole.exact
                : monthly ? whole.suppressed(within: months.map(\.suppressed)) : whole.suppressed
            return (cube.firstTwo, cube)
        }
        let table = !release.suppresses ? whole.table.exact
            : monthly ? whole.table.suppressed(within: months.map(\.table.suppressed)) : whole.table.suppressed
        return (table, nil)
    }

    func detail(_ dimensions: [String], _ release: ReportRelease, _ period: ReportPeriod?) -> [String: AuditDetail] {
        var detail: [String: AuditDetail] = ["by": .strings(dimensions), "release": .string(release == .operational ? "operational" : "published")]
        if let period { detail["period"] = .string(period.description) }
        return detail
    }

    /// The statistics export: row-level, so it always leaves the organisation and is
    /// k-anonymous (`StatisticsExport`); audited as an export with how many rows it holds and
    /// how many cases it left out.
    public func exportRows(context: AccessContext) async throws -> [[String]] {
        let (scope, _, _) = try await authorize(context, Period(nil, fields: []), rowLevel: true)
        let cases = try await read(context) { transaction in try ReportStore.exportCases(organisation: scope, today: CalendarDate.of(Date()), on: transaction.connection) }
        let release = StatisticsExport.release(cases)
        try await audit(context, .export, action: .execute, scope: scope,
                        detail: ["kind": "statistics-csv", "rows": .int(release.rows.count), "left_out": .int(release.leftOut)])
        return [StatisticsExport.header] + release.rows
    }

    /// Asks the policy (recording a refusal) and answers the organisation the reader is limited
    /// to, how the figures may be released to them (`AccessPolicy.release`) and the period that
    /// release allows (a refusal names the period's parameters, 422).
    func authorize(_ context: AccessContext, _ period: Period, rowLevel: Bool = false) async throws -> (UUID?, ReportRelease, ReportPeriod?) {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        try await primary.transaction(context) { try $0.authorize(.readReports, .collection, entityKind: .report) }
        let scope = try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .readReports))
        let release = AccessPolicy.release(actor, rowLevel: rowLevel)
        do {
            return (scope, release, try release.period(period.asked, fields: period.fields, today: CalendarDate.of(Date())))
        } catch let failure as ValidationFailure {
            throw StoreError.invalid(failure)
        }
    }

    /// Reads as Haven itself: aggregates span organisations (an auditor's national view) that no
    /// user's row-level scope covers. The scope the policy allowed is applied by the report's own
    /// organisation filter, and nothing read here identifies anyone. The replica when there is
    /// one and it answers, else the primary.
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

    /// On the primary: a replica takes no writes.
    func audit(_ context: AccessContext, _ subtype: AuditSubtype, action: AuditEvent.Action = .read, scope: UUID?, detail: [String: AuditDetail]) async throws {
        try await primary.transaction(context) { transaction in
            try transaction.audit(action, subtype, entityKind: .report, subjectOrganisation: scope, purpose: .statistics, detail: detail)
        }
    }
}
