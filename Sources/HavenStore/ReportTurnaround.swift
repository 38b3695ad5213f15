import Foundation
import HavenCore
import Postgres

/// What a turnaround report may be grouped by. The SQL for each comes from this fixed list (S20).
public enum TurnaroundDimension: String, ClosedSet {
    case serviceType = "service_type"
    case priority
    case recipientType = "recipient_type"

    var sql: String {
        switch self {
        case .serviceType: return "r.service_type"
        case .priority: return "r.priority"
        case .recipientType: return "o.type"
        }
    }
}

extension ReportStore {
    /// Turnaround of the referrals created in the period (`Turnaround` says what is measured,
    /// the first answer against the deadline `due_at` the priority set),
    /// by one dimension, then over the whole scope, in one scan (GROUPING SETS). Only referrals
    /// of cases that consent to statistics, in the scope the referral report uses: sent by or
    /// addressed to `organisation`, or national for nil.
    public static func turnaround(by dimension: TurnaroundDimension, organisation: UUID?, from: CalendarDate?, to: CalendarDate?,
                                  on connection: PGConnection) throws -> (groups: [Turnaround.Group], overall: Turnaround.Group) {
        let filter = referralFilter(organisation: organisation, from: from, to: to)
        // The first answer and completion of each referral from its own transitions (the
        // per-referral index), not a pass over every referral's history.
        let sql = """
            WITH spans AS (
                SELECT coalesce((\(dimension.sql))::text, 'unknown') AS key,
                       extract(epoch FROM t.answered_at - r.created_at) / 3600 AS answer_hours,
                       extract(epoch FROM t.completed_at - r.created_at) / 86400 AS completion_days,
                       t.answered_at IS NOT NULL OR r.due_at < now() AS due,
                       t.answered_at <= r.due_at AS in_time
            """ + referralSource + """
             LEFT JOIN LATERAL (
                    SELECT min(x.at) FILTER (WHERE x.to_status IN ('accepted', 'rejected')) AS answered_at,
                           min(x.at) FILTER (WHERE x.to_status = 'completed') AS completed_at
                    FROM referral_transition x WHERE x.referral_id = r.id
                ) t ON TRUE
            """ + filter.whereClause + """

            )
            SELECT key, GROUPING(key),
                   count(answer_hours),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY answer_hours)::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY answer_hours)::float8,
                   count(completion_days),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY completion_days)::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY completion_days)::float8,
                   count(*) FILTER (WHERE due), count(*) FILTER (WHERE in_time)
            FROM spans GROUP BY GROUPING SETS ((key), ()) ORDER BY GROUPING(key), key
            """
        var groups: [Turnaround.Group] = []
        var overall = Turnaround.Group(key: "all", firstAnswer: .init(count: 0, median: nil, p90: nil), completion: .init(count: 0, median: nil, p90: nil))
        for row in try connection.query(sql, filter.parameters).rows {
            let group = Turnaround.Group(
                key: try row.decode(String?.self, at: 0) ?? "unknown",
                firstAnswer: .init(count: try row.decode(at: 2), median: try row.decode(at: 3), p90: try row.decode(at: 4),
                                   due: try row.decode(at: 8), inTime: try row.decode(at: 9)),
                completion: .init(count: try row.decode(at: 5), median: try row.decode(at: 6), p90: try row.decode(at: 7)))
            let grouping: Int = try row.decode(at: 1)
            if grouping == 0 { groups.append(group) } else { overall = Turnaround.Group(key: "all", firstAnswer: group.firstAnswer, completion: group.completion) }
        }
        return (groups, overall)
    }
}
