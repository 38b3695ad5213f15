import Foundation

/// The row-level statistics export (`cases.csv`), k-anonymous with k = 11 (S18).
///
/// Every column is treated as a quasi-identifier: someone who knows a few facts about a person
/// (when they were identified, their age, where they come from, where and how long they were
/// exploited) must not find a row that only that person can be. Each case is generalised
/// (quarter, wide age group, region, bands), rows whose class (rows equal in every column)
/// holds fewer than k are generalised once more (year, and every other column but case type
/// and sex to `*`), and rows still in a class under k are left out. Every published row is
/// then identical to at least k − 1 others.
public enum StatisticsExport {
    /// What the export reads of one case, before generalising.
    public struct Case: Sendable, Equatable {
        public var identifiedOn: CalendarDate
        public var caseType: String
        public var sex: String
        public var ageBand: String?
        public var citizenship: String?
        public var countryOfExploitation: String?
        public var monthsExploited: Int?
        public var meansOfControl: [String]

        public init(identifiedOn: CalendarDate, caseType: String, sex: String, ageBand: String?, citizenship: String?,
                    countryOfExploitation: String?, monthsExploited: Int?, meansOfControl: [String]) {
            (self.identifiedOn, self.caseType, self.sex, self.ageBand, self.citizenship) = (identifiedOn, caseType, sex, ageBand, citizenship)
            (self.countryOfExploitation, self.monthsExploited, self.meansOfControl) = (countryOfExploitation, monthsExploited, meansOfControl)
        }
    }

    public static let header = [
        "identified_period", "case_type", "sex", "age_group", "citizenship_region", "exploitation_region", "months_exploited", "means_of_control",
    ]

    /// The published rows and how many cases were left out.
    public struct Release: Sendable, Equatable {
        public var rows: [[String]]
        public var leftOut: Int
    }

    public static func release(_ cases: [Case], k: Int = Suppression.k) -> Release {
        var rows: [[String]] = []
        var pending: [Case] = []
        let first = Dictionary(grouping: cases, by: generalised)
        for (row, members) in first {
            if members.count >= k { rows += Array(repeating: row, count: members.count) } else { pending += members }
        }
        var leftOut = 0
        for (row, members) in Dictionary(grouping: pending, by: coarse) {
            if members.count >= k { rows += Array(repeating: row, count: members.count) } else { leftOut += members.count }
        }
        // Sorted: the order rows were stored in says nothing to anyone.
        return Release(rows: rows.sorted { $0.lexicographicallyPrecedes($1) }, leftOut: leftOut)
    }

    /// The first generalisation: quarter, age group, regions, bands.
    public static func generalised(_ c: Case) -> [String] {
        ["\(c.identifiedOn.year)-Q\((c.identifiedOn.month - 1) / 3 + 1)", c.caseType, c.sex, ageGroup(c.ageBand), Region.of(c.citizenship),
         Region.of(c.countryOfExploitation), monthsBand(c.monthsExploited), meansBand(c.meansOfControl)]
    }

    /// The second: the year, case type and sex; everything else `*`.
    public static func coarse(_ c: Case) -> [String] {
        [String(c.identifiedOn.year), c.caseType, c.sex, "*", "*", "*", "*", "*"]
    }

    public static func ageGroup(_ band: String?) -> String {
        switch band {
        case "0-8", "9-17": return "0-17"
        case "18-20", "21-23", "24-26", "27-29": return "18-29"
        case "30-38", "39-47", "48+": return "30+"
        default: return "unknown"
        }
    }

    public static func monthsBand(_ months: Int?) -> String {
        guard let months else { return "unknown" }
        switch months {
        case ..<6: return "0-5"
        case 6..<12: return "6-11"
        default: return "12+"
        }
    }

    /// How many means of control, not which: a rare combination would name its case.
    public static func meansBand(_ means: [String]) -> String {
        switch means.count {
        case 0: return "none"
        case 1: return "one"
        default: return "several"
        }
    }
}

/// World regions for countries (after UN M49, with Eastern Europe, Western and Central Asia kept
/// apart as the region most cases come from and go to).
public enum Region {
    static let members: [(String, String)] = [
        ("eastern_europe", "BG BY CZ HU MD PL RO RU SK UA"),
        ("rest_of_europe", "AD AL AT AX BA BE CH DE DK EE ES FI FO FR GB GG GI GR HR IE IM IS IT JE LI LT LU LV MC ME MK MT NL NO PT RS SE SI SJ SM VA XK"),
        ("western_asia", "AE AM AZ BH CY GE IL IQ JO KW LB OM PS QA SA SY TR YE"),
        ("central_asia", "KG KZ TJ TM UZ"),
        ("rest_of_asia", "AF BD BN BT CC CN CX HK ID IN IO IR JP KH KP KR LA LK MM MN MO MV MY NP PH PK SG TH TL TW VN"),
        ("africa", """
            AO BF BI BJ BW CD CF CG CI CM CV DJ DZ EG EH ER ET GA GH GM GN GQ GW KE KM LR LS LY MA MG ML MR MU MW MZ NA NE NG RE RW SC SD \
            SH SL SN SO SS ST SZ TD TF TG TN TZ UG YT ZA ZM ZW
            """),
        ("americas", """
            AG AI AR AW BB BL BM BO BQ BR BS BZ CA CL CO CR CU CW DM DO EC FK GD GF GL GP GS GT GY HN HT JM KN KY LC MF MQ MS MX NI PA PE \
            PM PR PY SR SV SX TC TT UM US UY VC VE VG VI
            """),
        ("oceania", "AS AU CK FJ FM GU KI MH MP NC NF NR NU NZ PF PG PN PW SB TK TO TV VU WF WS"),
    ]

    static let byCountry: [String: String] = {
        var map: [String: String] = [:]
        for (region, codes) in members { for code in codes.split(separator: " ") { map[String(code)] = region } }
        return map
    }()

    /// The region of an ISO 3166-1 alpha-2 code; `unknown` for none, `other` for one in no region.
    public static func of(_ country: String?) -> String {
        guard let country, !country.isEmpty else { return "unknown" }
        return byCountry[country] ?? "other"
    }
}
