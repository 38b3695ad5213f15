import Foundation

/// The identifying part of a person: stored sealed (AES-256-GCM) and released only to whom the
/// case is open to, and to referral recipients only under a consent covering `identity` or
/// `contact`.
public struct PersonIdentity: Codable, Sendable, Equatable {
    public struct Contact: Codable, Sendable, Equatable {
        public var phone: String?
        public var email: String?
        public var other: String?

        public init(phone: String? = nil, email: String? = nil, other: String? = nil) {
            self.phone = phone
            self.email = email
            self.other = other
        }
    }

    public struct IdentityDocument: Codable, Sendable, Equatable {
        public var type: String
        public var number: String?
        public var issuingCountry: String?
        public var expiresOn: CalendarDate?

        public init(type: String, number: String? = nil, issuingCountry: String? = nil, expiresOn: CalendarDate? = nil) {
            self.type = type
            self.number = number
            self.issuingCountry = issuingCountry
            self.expiresOn = expiresOn
        }
    }

    public var givenName: String?
    public var familyName: String?
    public var aliases: [String]?
    public var dateOfBirth: CalendarDate?
    public var contact: Contact?
    public var address: String?
    public var identityDocuments: [IdentityDocument]?

    public init(givenName: String? = nil, familyName: String? = nil, aliases: [String]? = nil, dateOfBirth: CalendarDate? = nil,
                contact: Contact? = nil, address: String? = nil, identityDocuments: [IdentityDocument]? = nil) {
        self.givenName = givenName
        self.familyName = familyName
        self.aliases = aliases
        self.dateOfBirth = dateOfBirth
        self.contact = contact
        self.address = address
        self.identityDocuments = identityDocuments
    }

    /// Only what a consent for `categories` releases: names, aliases, birth date and documents
    /// under `identity`; contact details and address under `contact`.
    public func released(_ categories: Set<DataCategory>) -> PersonIdentity? {
        var released = PersonIdentity()
        if categories.contains(.identity) {
            released.givenName = givenName
            released.familyName = familyName
            released.aliases = aliases
            released.dateOfBirth = dateOfBirth
            released.identityDocuments = identityDocuments
        }
        if categories.contains(.contact) {
            released.contact = contact
            released.address = address
        }
        return released == PersonIdentity() ? nil : released
    }

    func validate(_ check: inout Validator, today: CalendarDate) {
        // Given, a name must say something: blanks would defeat the duplicate check.
        check.text(givenName, "person.identity.given_name", required: givenName != nil, max: 200)
        check.text(familyName, "person.identity.family_name", required: familyName != nil, max: 200)
        if let aliases {
            check.check(aliases.count <= 20, "person.identity.aliases", "must list at most 20 aliases")
            for (index, alias) in aliases.enumerated() { check.text(alias, "person.identity.aliases[\(index)]", required: true, max: 200) }
        }
        if let dateOfBirth {
            check.check(dateOfBirth <= today && dateOfBirth.year >= 1900, "person.identity.date_of_birth", "must be a date between 1900 and today")
        }
        check.text(contact?.phone, "person.identity.contact.phone", max: 50)
        check.text(contact?.email, "person.identity.contact.email", max: 200)
        check.text(contact?.other, "person.identity.contact.other", max: 500, multiline: true)
        check.text(address, "person.identity.address", max: 500, multiline: true)
        if let documents = identityDocuments {
            check.check(documents.count <= 10, "person.identity.identity_documents", "must list at most 10 documents")
            for (index, document) in documents.enumerated() {
                let field = "person.identity.identity_documents[\(index)]"
                check.text(document.type, "\(field).type", required: true, max: 50)
                check.text(document.number, "\(field).number", max: 100)
                check.countryCode(document.issuingCountry, "\(field).issuing_country")
            }
        }
    }
}

/// The non-identifying part of a person, kept in clear for casework and statistics.
public struct PersonProfile: Codable, Sendable, Equatable {
    public var sex: Sex
    public var birthYear: Int?
    public var ageBand: AgeBand?
    public var citizenship: String?
    public var languages: [String]?
    public var minor: Bool?
    public var disability: Bool?

    public init(sex: Sex = .unknown, birthYear: Int? = nil, ageBand: AgeBand? = nil, citizenship: String? = nil,
                languages: [String]? = nil, minor: Bool? = nil, disability: Bool? = nil) {
        self.sex = sex
        self.birthYear = birthYear
        self.ageBand = ageBand
        self.citizenship = citizenship
        self.languages = languages
        self.minor = minor
        self.disability = disability
    }

    func validate(_ check: inout Validator, today: CalendarDate, field: String = "person") {
        if let birthYear {
            check.check((1900...today.year).contains(birthYear), "\(field).birth_year", "must be a year from 1900 to \(today.year)")
            // Without the birthday the age is one of two: this year's difference, or one less.
            let ages = (today.year - birthYear - 1)...(today.year - birthYear)
            if let ageBand {
                check.check(ages.contains { AgeBand.of(age: $0) == ageBand }, "\(field).age_band", "does not fit birth_year \(birthYear)")
            }
            if let minor {
                check.check(minor ? ages.lowerBound < 18 : ages.upperBound >= 18, "\(field).minor",
                            minor ? "is true, but birth_year \(birthYear) makes an adult" : "is false, but birth_year \(birthYear) makes a child")
            }
        } else if let ageBand, let minor {
            check.check(ageBand.isMinor == minor, "\(field).minor", "does not fit age_band \(ageBand.rawValue)")
        }
        check.countryCode(citizenship, "\(field).citizenship")
        if let languages {
            check.check(languages.count <= 10, "\(field).languages", "must list at most 10 languages")
            for (index, language) in languages.enumerated() {
                let valid = (2...3).contains(language.count) && language.allSatisfy { $0.isASCII && $0.isLowercase }
                check.check(valid, "\(field).languages[\(index)]", "must be an ISO 639 code such as ro or ru")
            }
        }
    }

    /// Fills the age band and minor flag from the birth year when they were not given.
    public func completed(today: CalendarDate) -> PersonProfile {
        var profile = self
        if let birthYear {
            let band = AgeBand.of(age: today.year - birthYear)
            if profile.ageBand == nil { profile.ageBand = band }
            if profile.minor == nil { profile.minor = today.year - birthYear < 18 }
        } else if profile.minor == nil, let band = profile.ageBand {
            profile.minor = band.isMinor
        }
        return profile
    }
}

/// Person as given at intake: profile fields at the top, the identifying part under `identity`.
public struct PersonDraft: Codable, Sendable, Equatable {
    public var identity: PersonIdentity?
    public var sex: Sex?
    public var birthYear: Int?
    public var ageBand: AgeBand?
    public var citizenship: String?
    public var languages: [String]?
    public var minor: Bool?
    public var disability: Bool?

    public init(identity: PersonIdentity? = nil, sex: Sex? = nil, birthYear: Int? = nil, ageBand: AgeBand? = nil, citizenship: String? = nil,
                languages: [String]? = nil, minor: Bool? = nil, disability: Bool? = nil) {
        self.identity = identity
        self.sex = sex
        self.birthYear = birthYear
        self.ageBand = ageBand
        self.citizenship = citizenship
        self.languages = languages
        self.minor = minor
        self.disability = disability
    }

    public var profile: PersonProfile {
        PersonProfile(sex: sex ?? .unknown, birthYear: birthYear, ageBand: ageBand, citizenship: citizenship,
                      languages: languages, minor: minor, disability: disability)
    }
}

public struct TraffickingProfile: Codable, Sendable, Equatable {
    public var exploitationTypes: [ExploitationType]?
    public var labourSector: String?
    public var meansOfControl: [MeansOfControl]?
    public var recruiterRelation: RecruiterRelation?
    public var countryOfExploitation: String?
    public var monthsExploited: Int?
    public var recruitmentType: RecruitmentType?
    public var transitCountries: [String]?
    /// Countries of exploitation besides `countryOfExploitation` (CTDC records several).
    public var otherCountriesOfExploitation: [String]?
    public var yearsOfExploitation: [Int]?
    public var traffickedAsChild: Bool?

    public init(exploitationTypes: [ExploitationType]? = nil, labourSector: String? = nil, meansOfControl: [MeansOfControl]? = nil,
                recruiterRelation: RecruiterRelation? = nil, countryOfExploitation: String? = nil, monthsExploited: Int? = nil,
                recruitmentType: RecruitmentType? = nil, transitCountries: [String]? = nil, otherCountriesOfExploitation: [String]? = nil,
                yearsOfExploitation: [Int]? = nil, traffickedAsChild: Bool? = nil) {
        self.exploitationTypes = exploitationTypes
        self.labourSector = labourSector
        self.meansOfControl = meansOfControl
        self.recruiterRelation = recruiterRelation
        self.countryOfExploitation = countryOfExploitation
        self.monthsExploited = monthsExploited
        self.recruitmentType = recruitmentType
        self.transitCountries = transitCountries
        self.otherCountriesOfExploitation = otherCountriesOfExploitation
        self.yearsOfExploitation = yearsOfExploitation
        self.traffickedAsChild = traffickedAsChild
    }

    func validate(_ check: inout Validator, today: CalendarDate) {
        check.text(labourSector, "trafficking.labour_sector", max: 100)
        check.countryCode(countryOfExploitation, "trafficking.country_of_exploitation")
        if let monthsExploited { check.check((0...600).contains(monthsExploited), "trafficking.months_exploited", "must be 0-600") }
        Self.countries(&check, transitCountries, "trafficking.transit_countries")
        Self.countries(&check, otherCountriesOfExploitation, "trafficking.other_countries_of_exploitation")
        if let others = otherCountriesOfExploitation, let main = countryOfExploitation, others.contains(main) {
            check.add("trafficking.other_countries_of_exploitation", "must not repeat country_of_exploitation")
        }
        if let years = yearsOfExploitation {
            check.check(years.count <= 130 && years.allSatisfy { (1900...today.year).contains($0) }, "trafficking.years_of_exploitation",
                        "must be years between 1900 and \(today.year)")
            check.distinct(years, "trafficking.years_of_exploitation")
        }
    }

    private static func countries(_ check: inout Validator, _ codes: [String]?, _ field: String) {
        guard let codes else { return }
        if codes.count > 50 || !codes.allSatisfy(CountryCode.isValid) {
            check.add(field, "must be ISO 3166-1 alpha-2 codes such as MD")
        }
        check.distinct(codes, field)
    }
}

public struct ViolenceProfile: Codable, Sendable, Equatable {
    public var types: [ViolenceType]?
    public var perpetratorRelation: PerpetratorRelation?
    /// Coarse only: a region or district, never an address.
    public var location: String?
    public var incidentDate: CalendarDate?
    public var reportedOn: CalendarDate?
    public var perpetratorCount: Int?
    public var perpetratorSex: PerpetratorSex?
    public var perpetratorAgeGroup: PerpetratorAgeGroup?
    /// Derived, never given: days from the incident to the start of the case's first service
    /// episode (`elapsed(toFirstService:)`); not read from a request.
    public var daysToFirstService: Int? = nil

    enum CodingKeys: String, CodingKey {
        case types, perpetratorRelation, location, incidentDate, reportedOn, perpetratorCount, perpetratorSex, perpetratorAgeGroup
        case daysToFirstService
    }

    /// Reads everything but the derived days, so a request that sends them is refused by name.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            types: try container.decodeIfPresent([ViolenceType].self, forKey: .types),
            perpetratorRelation: try container.decodeIfPresent(PerpetratorRelation.self, forKey: .perpetratorRelation),
            location: try container.decodeIfPresent(String.self, forKey: .location),
            incidentDate: try container.decodeIfPresent(CalendarDate.self, forKey: .incidentDate),
            reportedOn: try container.decodeIfPresent(CalendarDate.self, forKey: .reportedOn),
            perpetratorCount: try container.decodeIfPresent(Int.self, forKey: .perpetratorCount),
            perpetratorSex: try container.decodeIfPresent(PerpetratorSex.self, forKey: .perpetratorSex),
            perpetratorAgeGroup: try container.decodeIfPresent(PerpetratorAgeGroup.self, forKey: .perpetratorAgeGroup))
    }

    public init(types: [ViolenceType]? = nil, perpetratorRelation: PerpetratorRelation? = nil, location: String? = nil,
                incidentDate: CalendarDate? = nil, reportedOn: CalendarDate? = nil, perpetratorCount: Int? = nil,
                perpetratorSex: PerpetratorSex? = nil, perpetratorAgeGroup: PerpetratorAgeGroup? = nil) {
        self.types = types
        self.perpetratorRelation = perpetratorRelation
        self.location = location
        self.incidentDate = incidentDate
        self.reportedOn = reportedOn
        self.perpetratorCount = perpetratorCount
        self.perpetratorSex = perpetratorSex
        self.perpetratorAgeGroup = perpetratorAgeGroup
    }

    func validate(_ check: inout Validator, today: CalendarDate) {
        check.text(location, "violence.location", max: 100)
        if let incidentDate {
            check.check(incidentDate <= today && incidentDate.year >= 1900, "violence.incident_date", "must be a date between 1900 and today")
            if let reportedOn, incidentDate > reportedOn {
                check.add("violence.incident_date", "must not be after reported_on")
            }
        }
        if let reportedOn {
            check.check(reportedOn <= today && reportedOn.year >= 1900, "violence.reported_on", "must be a date between 1900 and today")
        }
        if let perpetratorCount { check.check((1...99).contains(perpetratorCount), "violence.perpetrator_count", "must be 1-99") }
    }

    /// The days from the incident to the first service's start, when both are known and the
    /// service did not start before the incident.
    public static func elapsed(from incident: CalendarDate?, toFirstService start: CalendarDate?) -> Int? {
        guard let incident, let start, start >= incident else { return nil }
        return start.daysSince1970 - incident.daysSince1970
    }
}
