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

    public init(exploitationTypes: [ExploitationType]? = nil, labourSector: String? = nil, meansOfControl: [MeansOfControl]? = nil,
                recruiterRelation: RecruiterRelation? = nil, countryOfExploitation: String? = nil, monthsExploited: Int? = nil) {
        self.exploitationTypes = exploitationTypes
        self.labourSector = labourSector
        self.meansOfControl = meansOfControl
        self.recruiterRelation = recruiterRelation
        self.countryOfExploitation = countryOfExploitation
        self.monthsExploited = monthsExploited
    }

    func validate(_ check: inout Validator) {
        check.text(labourSector, "trafficking.labour_sector", max: 100)
        check.countryCode(countryOfExploitation, "trafficking.country_of_exploitation")
        if let monthsExploited { check.check((0...600).contains(monthsExploited), "trafficking.months_exploited", "must be 0-600") }
    }
}

public struct ViolenceProfile: Codable, Sendable, Equatable {
    public var types: [ViolenceType]?
    public var perpetratorRelation: PerpetratorRelation?
    /// Coarse only: a region or district, never an address.
    public var location: String?

    public init(types: [ViolenceType]? = nil, perpetratorRelation: PerpetratorRelation? = nil, location: String? = nil) {
        self.types = types
        self.perpetratorRelation = perpetratorRelation
        self.location = location
    }

    func validate(_ check: inout Validator) {
        check.text(location, "violence.location", max: 100)
    }
}
