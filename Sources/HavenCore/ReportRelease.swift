import Foundation

/// How a report's figures may be released to the reader: the one place that decides whether
/// counts are suppressed and which periods may be asked for.
///
/// - `operational`: an organisation's own figures for its own supervisors, who may open every
///   record behind them. Exact counts, any span of days, up to today: suppressing them hides
///   nothing the reader cannot already see, and only gets in the way of running the organisation.
/// - `published`: anything that leaves the organisation (national figures, the auditors' view,
///   the row-level statistics export). Small counts suppressed (`Suppression`); a period is
///   exactly one calendar month, quarter or year, made consistent with its months, so no
///   combination of reports differences down to a person (`Suppression.table(…within:)`); and
///   a month's figures are frozen: released only once `graceDays` have passed after it ended,
///   counting the cases registered by then (`ReportPeriod.publishedOn`). Asking the same period
///   on two days gives the same answer, so the day a late registration arrived cannot be
///   isolated by comparing them either.
public enum ReportRelease: Sendable, Equatable {
    case operational
    case published

    /// Days after a month ends in which cases identified in it may still be registered and
    /// counted in its published figures; after them the month is published and stays as it is.
    public static let graceDays = 30

    public var suppresses: Bool { self == .published }

    /// Published figures count only the cases registered by their identification month's
    /// publication day (`ReportPeriod.publishedOn`).
    public var freezes: Bool { self == .published }

    /// The period a release may cover: any span for an operational release; for a published
    /// one, exactly one calendar month, quarter or year already published (`publishedOn` not
    /// after `today`), else a failure naming `fields` (the query parameters the period came
    /// from). No period at all is every day for an operational release and the latest
    /// published quarter for a published one.
    public func period(_ asked: ReportPeriod?, fields: [String], today: CalendarDate) throws -> ReportPeriod? {
        guard self == .published else { return asked }
        guard let asked else { return ReportPeriod.latestPublished(.quarter, today: today) }
        guard asked.unit != nil else {
            let reason = "must cover exactly one calendar month, quarter or year (to is the last day, included), e.g. from=2026-01-01&to=2026-03-31"
            throw ValidationFailure(fields.map { FieldError($0, reason) })
        }
        guard asked.publishedOn <= today else {
            let reason = "is not published yet: the figures for \(asked) are published from \(asked.publishedOn), "
                + "\(ReportRelease.graceDays) days after it ends, and do not change after"
            throw ValidationFailure(fields.map { FieldError($0, reason) })
        }
        return asked
    }
}

extension ReportPeriod {
    /// The first day a published release may show this period: `ReportRelease.graceDays`
    /// after the day following its last. A case identified in a month and registered before
    /// that month's publication day counts in published figures; one registered later counts
    /// only in its organisation's operational figures.
    public var publishedOn: CalendarDate {
        last.adding(days: 1 + ReportRelease.graceDays) ?? last
    }

    /// The newest calendar `unit` already published on `today`.
    public static func latestPublished(_ unit: Unit, today: CalendarDate) -> ReportPeriod? {
        var period = containing(today, unit)
        while let candidate = period, candidate.publishedOn > today {
            period = candidate.first.adding(days: -1).flatMap { containing($0, unit) }
        }
        return period
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
