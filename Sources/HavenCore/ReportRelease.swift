import Foundation

/// How a report's figures may be released to the reader: the one place that decides whether
/// counts are suppressed and which periods may be asked for.
///
/// - `operational`: an organisation's own figures for its own supervisors, who may open every
///   record behind them. Exact counts, any span of days: suppressing them hides nothing the
///   reader cannot already see, and only gets in the way of running the organisation.
/// - `published`: anything that leaves the organisation (national figures, the auditors' view,
///   the row-level statistics export). Small counts suppressed (`Suppression`), and a period
///   is exactly one calendar month, quarter or year, made consistent with its months, so no
///   combination of reports differences down to a person (`Suppression.table(…within:)`).
public enum ReportRelease: Sendable, Equatable {
    case operational
    case published

    public var suppresses: Bool { self == .published }

    /// The period a release may cover: any span for an operational release; for a published
    /// one, exactly one calendar month, quarter or year, else a failure naming `fields` (the
    /// query parameters the period came from). No period at all is every day for an
    /// operational release and the current year (`today`'s) for a published one.
    public func period(_ asked: ReportPeriod?, fields: [String], today: CalendarDate) throws -> ReportPeriod? {
        guard self == .published else { return asked }
        guard let asked else { return ReportPeriod.containing(today, .year) }
        guard asked.unit != nil else {
            let reason = "must cover exactly one calendar month, quarter or year (to is the last day, included), e.g. from=2026-01-01&to=2026-03-31"
            throw ValidationFailure(fields.map { FieldError($0, reason) })
        }
        return asked
    }
}

extension AccessPolicy {
    /// How a report reaches this actor (`ReportRelease`). `rowLevel` is the statistics export,
    /// one row per case, which always leaves the organisation.
    public static func release(_ actor: Actor, rowLevel: Bool = false) -> ReportRelease {
        guard !rowLevel, actor.role == .supervisor, scope(actor, .readReports) == .organisation(actor.organisationID) else { return .published }
        return .operational
    }
}
