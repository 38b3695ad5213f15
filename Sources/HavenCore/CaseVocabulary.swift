import Foundation

// The closed vocabularies of a case, aligned with CTDC/HTCDS (trafficking) and GBVIMS
// (violence) so national figures can be compared.

public enum CaseType: String, ClosedSet {
    case trafficking
    case domesticViolence = "domestic_violence"
    case both
}

public enum IdentificationStatus: String, ClosedSet {
    case potential, presumed, identified
}

public enum IdentifiedBy: String, ClosedSet {
    case police, ngo, hotline, consulate
    case selfReferred = "self"
    case other
}

public enum RiskLevel: String, ClosedSet {
    case high, medium, low
}

public enum CaseStatus: String, ClosedSet {
    case open, closed
}

public enum Sex: String, ClosedSet {
    case female, male, other, unknown
}

/// CTDC's published age bands.
public enum AgeBand: String, ClosedSet {
    case age0to8 = "0-8", age9to17 = "9-17", age18to20 = "18-20", age21to23 = "21-23", age24to26 = "24-26"
    case age27to29 = "27-29", age30to38 = "30-38", age39to47 = "39-47", age48plus = "48+"

    public static func of(age: Int) -> AgeBand {
        switch age {
        case ..<9: return .age0to8
        case 9...17: return .age9to17
        case 18...20: return .age18to20
        case 21...23: return .age21to23
        case 24...26: return .age24to26
        case 27...29: return .age27to29
        case 30...38: return .age30to38
        case 39...47: return .age39to47
        default: return .age48plus
        }
    }

    public var isMinor: Bool { self == .age0to8 || self == .age9to17 }
}

public enum ExploitationType: String, ClosedSet {
    case sexual
    case forcedLabour = "forced_labour"
    case forcedMarriage = "forced_marriage"
    case forcedCriminality = "forced_criminality"
    case begging
    case organRemoval = "organ_removal"
    case other
}

public enum MeansOfControl: String, ClosedSet {
    case debtBondage = "debt_bondage"
    case withheldDocuments = "withheld_documents"
    case withheldWages = "withheld_wages"
    case threats
    case physicalViolence = "physical_violence"
    case sexualViolence = "sexual_violence"
    case psychologicalAbuse = "psychological_abuse"
    case restrictedMovement = "restricted_movement"
    case substances
    case other
}

public enum RecruiterRelation: String, ClosedSet {
    case intimatePartner = "intimate_partner"
    case family, friend, other, unknown
}

public enum ViolenceType: String, ClosedSet {
    case rape
    case sexualAssault = "sexual_assault"
    case physicalAssault = "physical_assault"
    case forcedMarriage = "forced_marriage"
    case denialOfResources = "denial_of_resources"
    case psychologicalAbuse = "psychological_abuse"
}

public enum PerpetratorRelation: String, ClosedSet {
    case intimatePartner = "intimate_partner"
    case formerPartner = "former_partner"
    case family, acquaintance, stranger, other, unknown
}

/// UNDP's human-security domains, for needs.
public enum SecurityDomain: String, ClosedSet {
    case economic, food, health, environmental, personal, community, political
}

public enum NeedPriority: String, ClosedSet {
    case emergency, urgent, normal

    /// Emergency within 24 hours, urgent within 72, normal within 14 days.
    public var responseTime: TimeInterval {
        switch self {
        case .emergency: return 24 * 3600
        case .urgent: return 72 * 3600
        case .normal: return 14 * 24 * 3600
        }
    }
}

public enum ServiceStatus: String, ClosedSet {
    case planned
    case inProgress = "in_progress"
    case completed, cancelled

    public var isFinished: Bool { self == .completed || self == .cancelled }

    /// Forward only: planned → in progress → completed, cancelled from either.
    public func canMove(to next: ServiceStatus) -> Bool {
        switch (self, next) {
        case (.planned, .inProgress), (.planned, .completed), (.planned, .cancelled), (.inProgress, .completed), (.inProgress, .cancelled):
            return true
        default:
            return false
        }
    }
}

/// What a consent can release to another organisation.
public enum DataCategory: String, ClosedSet, Comparable {
    case contact, identity, profile, needs, services, notes

    public static func < (a: DataCategory, b: DataCategory) -> Bool {
        allCases.firstIndex(of: a) ?? 0 < allCases.firstIndex(of: b) ?? 0
    }
}

public enum ConsentGrantor: String, ClosedSet {
    case selfGranted = "self"
    case guardian
}

public enum ConsentMethod: String, ClosedSet {
    case written, verbal
}

public enum ConsentStatus: String, ClosedSet {
    /// `superseded`: amended by a later version, which is the one that releases data now.
    case active, expired, withdrawn, superseded
}

/// Calendar dates as `YYYY-MM-DD`, with no time zone to get wrong.
public struct CalendarDate: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month), day >= 1, day <= CalendarDate.days(in: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    public init?(_ text: String) {
        var text = text
        guard let date = text.withUTF8({ CalendarDate(utf8: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = date
    }

    /// `YYYY-MM-DD` exactly, from its bytes.
    public init?(utf8 bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for index in range {
                let digit = Int(bytes[index]) - Int(UInt8(ascii: "0"))
                guard (0...9).contains(digit) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
        self.init(year: year, month: month, day: day)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        if decoder.userInfo[DateInput.userInfoKey] as? Bool == true {
            guard let date = DateInput.day(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a real date as YYYY-MM-DD in the years 1900–2200")
            }
            self = date
            return
        }
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be a date as YYYY-MM-DD")
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
        }
        return pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
    }

    public static func < (a: CalendarDate, b: CalendarDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    /// The UTC calendar date of an instant.
    public static func of(_ date: Date) -> CalendarDate {
        CalendarDate(daysSince1970: Int((date.timeIntervalSince1970 / 86_400).rounded(.down)))
            ?? CalendarDate(year: 1970, month: 1, day: 1)!
    }

    /// The date `days` after 1970-01-01 (before it when negative); nil outside years 1–9999.
    public init?(daysSince1970 days: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        self.init(year: year, month: month, day: day)
    }

    /// The date `days` later (earlier when negative); nil outside years 1–9999.
    public func adding(days: Int) -> CalendarDate? {
        CalendarDate(daysSince1970: daysSince1970 + days)
    }

    static func days(in month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// How the person was recruited (HTCDS "type of recruitment").
public enum RecruitmentType: String, ClosedSet {
    case jobOffer = "job_offer"
    case romanticRelationship = "romantic_relationship"
    case abduction
    case soldByFamily = "sold_by_family"
    case online
    case other, unknown
}

/// The alleged perpetrators' sex, as GBVIMS records it ("both" when there were several).
public enum PerpetratorSex: String, ClosedSet {
    case female, male, both, unknown
}

/// The alleged perpetrators' age group, GBVIMS's bands.
public enum PerpetratorAgeGroup: String, ClosedSet {
    case age0to11 = "0-11", age12to17 = "12-17", age18to25 = "18-25", age26to40 = "26-40", age41to60 = "41-60"
    case age61plus = "61+"
    case unknown
}
