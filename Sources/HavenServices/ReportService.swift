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

    public struct Period: Sendable, Equatable {
        public var from: CalendarDate?
        public var to: CalendarDate?

        public init(from: CalendarDate?, to: CalendarDate?) {
            (self.from, self.to) = (from, to)
        }
    }

    /// A report's table, suppressed, and the scope it covers (nil: national).
    public struct Report: Sendable {
        public var table: Suppression.Table
        public var scope: UUID?
        /// Referral reports only: time to acceptance and to completion, overall then by the first dimension.
        public var times: [ReferralTimes] = []
    }

    public func cases(by dimensions: [CaseDimension], period: Period, context: AccessContext) async throws -> Report {
        let scope = try await authorize(context)
        let table = try await read(context) { transaction in
            try ReportStore.cases(by: dimensions, organisation: scope, from: period.from, to: period.to, on: transaction.connection)
        }
        try await audit(context, "report.cases", scope: scope, detail: ["by": .strings(dimensions.map(\.rawValue))])
        return Report(table: table.suppressed, scope: scope)
    }

    public func referrals(by dimensions: [ReferralDimension], period: Period, context: AccessContext) async throws -> Report {
        let scope = try await authorize(context)
        let (table, times) = try await read(context) { transaction in
            let table = try ReportStore.referrals(by: dimensions, organisation: scope, from: period.from, to: period.to, on: transaction.connection)
            let overall = try ReportStore.referralTimes(by: nil, organisation: scope, from: period.from, to: period.to, on: transaction.connection)
            let byFirst = try ReportStore.referralTimes(by: dimensions.first, organisation: scope, from: period.from, to: period.to,
                                                        on: transaction.connection)
            return (table, overall + byFirst)
        }
        try await audit(context, "report.referrals", scope: scope, detail: ["by": .strings(dimensions.map(\.rawValue))])
        return Report(table: table.suppressed, scope: scope, times: times)
    }

    /// One row per case, no identifying field, ages in bands, dates to the month; audited as an export.
    public func exportRows(context: AccessContext) async throws -> [[String]] {
        let scope = try await authorize(context)
        let rows = try await read(context) { transaction in try ReportStore.exportRows(organisation: scope, on: transaction.connection) }
        try await audit(context, "export", action: .execute, scope: scope, detail: ["kind": "statistics-csv", "rows": .int(rows.count)])
        return [ReportStore.exportHeader] + rows
    }

    /// Asks the policy (recording a refusal) and answers the organisation the reader is limited to.
    func authorize(_ context: AccessContext) async throws -> UUID? {
        guard let actor = context.actor else { throw StoreError.forbidden("log in first") }
        try await primary.transaction(context) { try $0.authorize(.readReports, .collection, entityKind: "report") }
        return try AccessScope.nationalOrOrganisation(AccessPolicy.scope(actor, .readReports))
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
    func audit(_ context: AccessContext, _ subtype: String, action: AuditEvent.Action = .read, scope: UUID?, detail: [String: AuditDetail]) async throws {
        try await primary.transaction(context) { transaction in
            try transaction.audit(action, subtype, entityKind: "report", subjectOrganisation: scope, purpose: .statistics, detail: detail)
        }
    }
}
