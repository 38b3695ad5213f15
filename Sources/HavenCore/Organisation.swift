import Foundation

public enum OrganisationType: String, ClosedSet {
    case ngo, government
    case lawEnforcement = "law_enforcement"
    case health, legal, shelter
    case unAgency = "un_agency"
    case internationalOrg = "international_org"
}

/// Services in the National Referral System; referrals and mandates speak of these.
public enum ServiceType: String, ClosedSet {
    case repatriation
    case safeAccommodation = "safe_accommodation"
    case medical, counselling
    case legalAid = "legal_aid"
    case reintegration
    case familyTracing = "family_tracing"
    case documents, other
}

/// Who an organisation serves.
public enum Population: String, ClosedSet {
    case adult, child, female, male

    /// What Haven knows of a person's populations: a child while they may be under 18 (the
    /// youngest age their birth year or date allows, else the minor flag or age band), an adult
    /// when they are surely 18; female or male from the recorded sex. Unknown facts add nothing.
    public static func of(_ profile: PersonProfile, dateOfBirth: CalendarDate? = nil, today: CalendarDate) -> [Population] {
        var found: [Population] = []
        let age = ConsentCapacity.youngestAge(birthYear: profile.birthYear, dateOfBirth: dateOfBirth, today: today)
        if ConsentCapacity.mayBeChild(age: age, minor: profile.minor, ageBand: profile.ageBand) {
            found.append(.child)
        } else if age != nil || profile.minor == false || profile.ageBand != nil {
            found.append(.adult)
        }
        switch profile.sex {
        case .female: found.append(.female)
        case .male: found.append(.male)
        default: break
        }
        return found
    }

    static let ages: Set<Population> = [.adult, .child]
}

/// What an organisation does, where, for whom, and whether it takes referrals now.
public struct Mandate: Codable, Sendable, Equatable {
    public var serviceTypes: [ServiceType]
    public var regions: [String]
    public var populations: [Population]
    public var acceptsReferrals: Bool
    public var capacityNote: String?

    enum CodingKeys: String, CodingKey {
        case serviceTypes, regions, populations, acceptsReferrals, capacityNote
    }

    /// Absent members take their defaults: no services, everywhere, everyone, accepting.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        serviceTypes = try container.decodeIfPresent([ServiceType].self, forKey: .serviceTypes) ?? []
        regions = try container.decodeIfPresent([String].self, forKey: .regions) ?? []
        populations = try container.decodeIfPresent([Population].self, forKey: .populations) ?? []
        acceptsReferrals = try container.decodeIfPresent(Bool.self, forKey: .acceptsReferrals) ?? true
        capacityNote = try container.decodeIfPresent(String.self, forKey: .capacityNote)
    }

    public func validate(_ check: inout Validator, field: String = "mandate") {
        check.check(regions.count <= 100, "\(field).regions", "must list at most 100 regions")
        for (index, region) in regions.enumerated() { check.text(region, "\(field).regions[\(index)]", required: true, max: 100) }
        check.distinct(serviceTypes, "\(field).service_types")
        check.distinct(populations, "\(field).populations")
        check.distinct(regions.map { $0.lowercased() }, "\(field).regions")
        check.text(capacityNote, "\(field).capacity_note", max: 1000, multiline: true)
    }

    public init(serviceTypes: [ServiceType] = [], regions: [String] = [], populations: [Population] = [], acceptsReferrals: Bool = true, capacityNote: String? = nil) {
        self.serviceTypes = serviceTypes
        self.regions = regions
        self.populations = populations
        self.acceptsReferrals = acceptsReferrals
        self.capacityNote = capacityNote
    }

    /// An organisation covers a need when it provides the service, takes referrals, and covers
    /// the region (an empty region list means nationwide) and the population (empty means all).
    public func covers(serviceType: ServiceType, region: String?, population: [Population] = []) -> Bool {
        guard acceptsReferrals, serviceTypes.contains(serviceType) else { return false }
        if let region, !regions.isEmpty, !regions.contains(where: { $0.equalsIgnoringCase(region) }) { return false }
        return serves(population)
    }

    /// Age and sex are two dimensions: one the mandate names nothing of serves everyone in it
    /// (a women's shelter listing only `female` takes girls and women); one it names must
    /// include what is known of the person.
    public func serves(_ population: [Population]) -> Bool {
        for dimension in [Population.ages, [.female, .male]] {
            let served = populations.filter(dimension.contains)
            if !served.isEmpty, !population.filter(dimension.contains).allSatisfy(served.contains) { return false }
        }
        return true
    }
}

extension String {
    func equalsIgnoringCase(_ other: String) -> Bool { lowercased() == other.lowercased() }
}
