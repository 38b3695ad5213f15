import Foundation
import HavenCore
import Postgres

/// What a case report may be broken down by. The SQL for each comes from this fixed list.
public enum CaseDimension: String, ClosedSet {
    case caseType = "case_type"
    case identificationStatus = "identification_status"
    case exploitationType = "exploitation_type"
    case sex
    case ageBand = "age_band"
    case citizenship
    case organisation
    case period
    /// The calendar quarter the case was identified in (`2026-Q1`).
    case quarter
    /// The owning organisation's region: a case records no region of its own, and where the
    /// organisation works is what a national reader compares (`unknown` when it names none).
    case region
    /// The owning organisation's type (ngo, shelter, …).
    case organisationType = "organisation_type"

    var sql: String {
        switch self {
        case .caseType: return "c.case_type"
        case .identificationStatus: return "c.identification_status"
        case .exploitationType: return "e.type"
        case .sex: return "c.sex"
        case .ageBand: return "coalesce(c.age_band, 'unknown')"
        case .citizenship: return "coalesce(c.citizenship, 'unknown')"
        case .organisation: return "c.organisation_id::text"
        case .period: return "to_char(c.identified_on, 'YYYY-MM')"
        case .quarter: return "to_char(c.identified_on, 'YYYY-\"Q\"Q')"
        case .region: return "coalesce(nullif(btrim(owning_org.region), ''), 'unknown')"
        case .organisationType: return "owning_org.type"
        }
    }

    /// Read from the owning organisation's row (joined as `owning_org`).
    var readsOwner: Bool { self == .region || self == .organisationType }
}

public enum ReferralDimension: String, ClosedSet {
    case status
    case serviceType = "service_type"
    case recipientType = "recipient_type"

    var sql: String {
        switch self {
        case .status: return "r.status"
        case .serviceType: return "r.service_type"
        case .recipientType: return "o.type"
        }
    }
}

/// Raw counts by one to three dimensions with every margin, before suppression: coordinates
/// index each dimension's keys, nil for a margin ("all").
public struct RawCube: Sendable {
    public var keys: [[String]] = []
    public var counts: [[Int?]: Int] = [:]

    public var dimensions: Int { keys.count }

    public var suppressed: Suppression.Cube { Suppression.cube(keys: keys, counts: counts) }

    /// Suppressed consistently with the cubes of the months it is made of.
    public func suppressed(within months: [Suppression.Cube]) -> Suppression.Cube { Suppression.cube(keys: keys, counts: counts, within: months) }

    /// As counted: an organisation's own figures for its own supervisors.
    public var exact: Suppression.Cube { Suppression.exactCube(keys: keys, counts: counts) }

    /// One or two dimensions laid out as a table with its margins.
    public var table: RawTable {
        var table = RawTable()
        table.rowKeys = keys.first ?? []
        let twoDimensional = dimensions > 1
        table.columnKeys = twoDimensional ? keys[1] : []
        let rest = [Int?](repeating: nil, count: max(0, dimensions - 2))
        func count(_ coordinates: [Int?]) -> Int { counts[coordinates] ?? 0 }
        if twoDimensional {
            table.counts = table.rowKeys.indices.map { r in table.columnKeys.indices.map { count([r, $0] + rest) } }
            table.rowTotals = table.rowKeys.indices.map { count([$0, nil] + rest) }
            table.columnTotals = table.columnKeys.indices.map { count([nil, $0] + rest) }
            table.total = count([nil, nil] + rest)
        } else {
            table.counts = table.rowKeys.indices.map { [count([$0])] }
            table.total = count([nil])
        }
        return table
    }
}

/// Raw counts for a one- or two-dimensional table, before suppression.
public struct RawTable: Sendable {
    public var rowKeys: [String] = []
    public var columnKeys: [String] = []
    public var counts: [[Int]] = []
    public var rowTotals: [Int] = []
    public var columnTotals: [Int] = []
    public var total = 0

    public var suppressed: Suppression.Table {
        Suppression.table(rowKeys: rowKeys, columnKeys: columnKeys, counts: counts, rowTotals: rowTotals, columnTotals: columnTotals, total: total)
    }

    /// Suppressed consistently with the tables of the months it is made of.
    public func suppressed(within months: [Suppression.Table]) -> Suppression.Table {
        Suppression.table(rowKeys: rowKeys, columnKeys: columnKeys, counts: counts, rowTotals: rowTotals, columnTotals: columnTotals, total: total,
                          within: months)
    }

    /// As counted: an organisation's own figures for its own supervisors.
    public var exact: Suppression.Table {
        Suppression.exact(rowKeys: rowKeys, columnKeys: columnKeys, counts: counts, rowTotals: rowTotals, columnTotals: columnTotals, total: total)
    }
}

/// Elapsed times of referrals in a group, in hours; nil where the group is too small to publish.
public struct ReferralTimes: Sendable, Equatable {
    public var key: String
    public var referrals: Int
    public var acceptedCount: Int
    public var toAcceptedMedian: Double?
    public var toAcceptedP90: Double?
    public var completedCount: Int
    public var toCompletedMedian: Double?
    public var toCompletedP90: Double?
}

/// Aggregate statistics that never identify anyone (S18): only cases whose consent allows
/// non-identifying statistics, small cells suppressed by the caller with `Suppression`.
public enum ReportStore {
    /// Counts of cases by one or two dimensions with margins, in one scan (GROUPING SETS).
    /// `organisation` nil is the national view.
    /// `frozen`: only cases registered by their identification month's publication day
    /// (`ReportRelease.freezes`).
    public static func cases(by dimensions: [CaseDimension], organisation: UUID?, from: CalendarDate?, to: CalendarDate?, frozen: Bool,
                             on connection: PGConnection) throws -> RawTable {
        try caseCounts(by: dimensions, organisation: organisation, from: from, to: to, frozen: frozen, on: connection).table
    }

    /// Counts of cases by one to three dimensions with every margin, in one scan (CUBE).
    public static func caseCounts(by dimensions: [CaseDimension], organisation: UUID?, from: CalendarDate?, to: CalendarDate?, frozen: Bool,
                                  on connection: PGConnection) throws -> RawCube {
        var filter = SQLFilter()
        filter.add("c.statistics_consent")
        if let organisation { filter.add("c.organisation_id = ?", organisation) }
        if frozen { filter.add("c.created_at < ((date_trunc('month', c.identified_on) + interval '1 month')::date + ?::int)", ReportRelease.graceDays) }
        if let from { filter.add("c.identified_on >= ?::date", from.description) }
        // `to` is the last day counted, included.
        if let to { filter.add("c.identified_on <= ?::date", to.description) }
        let multiValued = dimensions.contains(.exploitationType)
        var source = multiValued
            ? " FROM case_file c CROSS JOIN LATERAL unnest(CASE WHEN cardinality(c.exploitation_types) = 0 THEN ARRAY['none'] ELSE c.exploitation_types END) e(type)"
            : " FROM case_file c"
        if dimensions.contains(where: \.readsOwner) { source += " JOIN organisation owning_org ON owning_org.id = c.organisation_id" }
        // A case with two exploitation types is in two cells but counts once in a total.
        let count = multiValued ? "count(DISTINCT c.id)" : "count(*)"
        return try grouped(dimensions.map(\.sql), count: count, source: source, filter: filter, on: connection)
    }

    public static func referrals(by dimensions: [ReferralDimension], organisation: UUID?, from: CalendarDate?, to: CalendarDate?, on connection: PGConnection) throws -> RawTable {
        try referralCounts(by: dimensions, organisation: organisation, from: from, to: to, on: connection).table
    }

    /// Counts of referrals by one to three dimensions with every margin.
    public static func referralCounts(by dimensions: [ReferralDimension], organisation: UUID?, from: CalendarDate?, to: CalendarDate?,
                                      on connection: PGConnection) throws -> RawCube {
        var filter = referralFilter(organisation: organisation, from: from, to: to)
        filter.add("TRUE")
        return try grouped(dimensions.map(\.sql), count: "count(*)", source: referralSource, filter: filter, on: connection)
    }

    static let referralSource = " FROM referral r JOIN organisation o ON o.id = r.to_organisation_id JOIN case_file c ON c.id = r.case_id"

    static func referralFilter(organisation: UUID?, from: CalendarDate?, to: CalendarDate?) -> SQLFilter {
        var filter = SQLFilter()
        filter.add("c.statistics_consent")
        if let organisation { filter.add("(r.from_organisation_id = ? OR r.to_organisation_id = ?)", organisation, organisation) }
        if let from { filter.add("r.created_at >= ?::date", from.description) }
        if let to { filter.add("r.created_at < ?::date + 1", to.description) }
        return filter
    }

    /// Median and 90th percentile of the time from request to acceptance and to completion, by
    /// one dimension (or overall for nil).
    /// Times over fewer than `minimum` referrals are not published.
    public static func referralTimes(by dimension: ReferralDimension?, organisation: UUID?, from: CalendarDate?, to: CalendarDate?,
                                     minimum: Int = Suppression.k, on connection: PGConnection) throws -> [ReferralTimes] {
        let filter = referralFilter(organisation: organisation, from: from, to: to)
        let key = dimension?.sql ?? "'all'"
        let sql = """
            WITH moves AS (
                SELECT referral_id,
                       min(at) FILTER (WHERE to_status = 'accepted') AS accepted_at,
                       min(at) FILTER (WHERE to_status = 'completed') AS completed_at
                FROM referral_transition GROUP BY referral_id
            ), spans AS (
                SELECT
            """ + " " + key + """
             AS key,
                       extract(epoch FROM m.accepted_at - r.created_at) / 3600 AS to_accepted,
                       extract(epoch FROM m.completed_at - r.created_at) / 3600 AS to_completed
            """ + referralSource + " LEFT JOIN moves m ON m.referral_id = r.id" + filter.whereClause + """

            )
            SELECT key::text, count(*), count(to_accepted),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY to_accepted)::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY to_accepted)::float8,
                   count(to_completed),
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY to_completed)::float8,
                   percentile_cont(0.9) WITHIN GROUP (ORDER BY to_completed)::float8
            FROM spans GROUP BY key ORDER BY key
            """
        return try connection.query(sql, filter.parameters).rows.map { row in
            let accepted: Int = try row.decode(at: 2)
            let completed: Int = try row.decode(at: 5)
            // A time is published only for a group of at least `minimum` referrals that reached it.
            func publish(_ value: Double?, _ count: Int) -> Double? { count >= max(minimum, 1) ? value.map { ($0 * 10).rounded() / 10 } : nil }
            return ReferralTimes(
                key: try row.decode(String?.self, at: 0) ?? "unknown", referrals: try row.decode(at: 1),
                acceptedCount: accepted, toAcceptedMedian: publish(try row.decode(at: 3), accepted), toAcceptedP90: publish(try row.decode(at: 4), accepted),
                completedCount: completed, toCompletedMedian: publish(try row.decode(at: 6), completed), toCompletedP90: publish(try row.decode(at: 7), completed))
        }
    }

    /// Runs `SELECT d0[, d1[, d2]], count ... GROUP BY CUBE` and keys every entry, margins included.
    static func grouped(_ dimensions: [String], count: String, source: String, filter: SQLFilter, on connection: PGConnection) throws -> RawCube {
        // One to three different dimensions: the same one twice would show a suppressed cell's
        // count as a margin.
        guard (1...Suppression.maximumDimensions).contains(dimensions.count), Set(dimensions).count == dimensions.count else {
            throw StoreError.badQuery(FieldError("by", "must name one, two or three different dimensions"))
        }
        let names = dimensions.indices.map { "d" + String($0) }
        let inner = "SELECT c.id AS cid, " + dimensions.enumerated().map { "coalesce((" + $0.element + ")::text, 'unknown') AS d" + String($0.offset) }
            .joined(separator: ", ") + source + filter.whereClause
        let list = names.joined(separator: ", ")
        let outer = "SELECT " + list + ", " + count + ", GROUPING(" + list + ") FROM (" + inner + ") t GROUP BY CUBE (" + list + ")"
        let sql = outer.replacingOccurrences(of: "count(DISTINCT c.id)", with: "count(DISTINCT cid)")
        var rows: [(values: [String?], count: Int)] = []
        var keySets = [Set<String>](repeating: [], count: dimensions.count)
        for row in try connection.query(sql, filter.parameters).rows {
            let bits: Int = try row.decode(at: dimensions.count + 1)
            var values: [String?] = []
            for index in dimensions.indices {
                // GROUPING sets the highest bit for the first dimension.
                let aggregated = bits & (1 << (dimensions.count - 1 - index)) != 0
                let value = aggregated ? nil : (try row.decode(String?.self, at: index) ?? "unknown")
                if let value { keySets[index].insert(value) }
                values.append(value)
            }
            rows.append((values, try row.decode(at: dimensions.count)))
        }
        var cube = RawCube()
        cube.keys = keySets.map { $0.sorted() }
        let positions = cube.keys.map { Dictionary(uniqueKeysWithValues: $0.enumerated().map { ($0.element, $0.offset) }) }
        for row in rows {
            let coordinates = row.values.enumerated().map { index, value in value.flatMap { positions[index][$0] } }
            cube.counts[coordinates] = row.count
        }
        return cube
    }

    /// What the statistics export reads of each case with a statistics consent, in no useful
    /// order; `StatisticsExport` generalises and suppresses it. Only months published by
    /// `today`, and the cases registered by their month's publication day: the export is as
    /// frozen as the published reports.
    public static func exportCases(organisation: UUID?, today: CalendarDate, on connection: PGConnection) throws -> [StatisticsExport.Case] {
        var filter = SQLFilter()
        filter.add("c.statistics_consent")
        if let organisation { filter.add("c.organisation_id = ?", organisation) }
        // A month is published `graceDays` after it ends (`ReportPeriod.publishedOn`).
        filter.add("(date_trunc('month', c.identified_on) + interval '1 month')::date + ?::int <= ?::date", ReportRelease.graceDays, today.description)
        filter.add("c.created_at < ((date_trunc('month', c.identified_on) + interval '1 month')::date + ?::int)", ReportRelease.graceDays)
        let sql = """
            SELECT c.identified_on::text, c.case_type, c.sex, c.age_band, c.citizenship, c.country_of_exploitation, c.months_exploited,
                   c.means_of_control
            FROM case_file c
            """ + filter.whereClause
        return try connection.query(sql, filter.parameters).rows.compactMap { row in
            guard let day = CalendarDate(try row.decode(String.self, at: 0)) else { return nil }
            return StatisticsExport.Case(
                identifiedOn: day, caseType: try row.decode(at: 1), sex: try row.decode(at: 2), ageBand: try row.decode(at: 3),
                citizenship: try row.decode(at: 4), countryOfExploitation: try row.decode(at: 5), monthsExploited: try row.decode(at: 6),
                meansOfControl: try row.decodeArray(String.self, at: 7) ?? [])
        }
    }
}
