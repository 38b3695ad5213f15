import Foundation
import HavenCore

/// A type that writes its own JSON: the document its `Encodable` conformance gives, byte for byte
/// (`JSONWritableTests` holds the two together, and fails when a property is not written), without
/// the coding machinery. For what a page of a list writes fifty times.
protocol JSONWritable: Encodable {
    func writeJSON(to writer: JSONStreamWriter) throws
}

/// One handwritten object: members in the order the type declares them, nil members left out
/// (as synthesised conformances leave them out).
struct JSONObjectWriter {
    let writer: JSONStreamWriter
    private var first = true

    init(_ writer: JSONStreamWriter) {
        self.writer = writer
        writer.writeByte(UInt8(ascii: "{"))
    }

    func end() { writer.writeByte(UInt8(ascii: "}")) }

    private mutating func key(_ name: StaticString) {
        if !first { writer.writeByte(UInt8(ascii: ",")) }
        first = false
        writer.writeKey(name)
    }

    mutating func string(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        key(name)
        writer.writeString(value)
    }

    mutating func uuid(_ name: StaticString, _ value: UUID?) {
        guard let value else { return }
        key(name)
        writer.writeUUID(value)
    }

    mutating func date(_ name: StaticString, _ value: Date?) {
        guard let value else { return }
        key(name)
        writer.writeDate(value)
    }

    mutating func day(_ name: StaticString, _ value: CalendarDate?) {
        guard let value else { return }
        key(name)
        writer.writeDay(value)
    }

    mutating func int(_ name: StaticString, _ value: Int?) {
        guard let value else { return }
        key(name)
        writer.writeInteger(value)
    }

    mutating func bool(_ name: StaticString, _ value: Bool?) {
        guard let value else { return }
        key(name)
        writer.writeBool(value)
    }

    mutating func word<Word: RawRepresentable<String>>(_ name: StaticString, _ value: Word?) {
        guard let value else { return }
        key(name)
        writer.writeString(value.rawValue)
    }

    mutating func words<Word: RawRepresentable<String>>(_ name: StaticString, _ values: [Word]?) {
        guard let values else { return }
        key(name)
        writer.writeArray(values) { writer.writeString($0.rawValue) }
    }

    mutating func strings(_ name: StaticString, _ values: [String]?) {
        guard let values else { return }
        key(name)
        writer.writeArray(values, writer.writeString)
    }

    mutating func ints(_ name: StaticString, _ values: [Int]?) {
        guard let values else { return }
        key(name)
        writer.writeArray(values) { writer.writeInteger($0) }
    }

    mutating func objects<Element: JSONWritable>(_ name: StaticString, _ values: [Element]?) throws {
        guard let values else { return }
        key(name)
        try writer.writeArray(values) { try $0.writeJSON(to: writer) }
    }

    /// Anything else, through the writer (handwritten again if the value is `JSONWritable`).
    mutating func value<T: Encodable>(_ name: StaticString, _ value: T?) throws {
        guard let value else { return }
        key(name)
        try writer.encodeValue(value)
    }
}

extension CaseDTO: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.uuid("id", id)
        object.string("reference", reference)
        object.uuid("organisation_id", organisationId)
        object.word("case_type", caseType)
        object.word("identification_status", identificationStatus)
        object.word("identified_by", identifiedBy)
        object.day("identified_on", identifiedOn)
        object.word("risk_level", riskLevel)
        object.word("status", status)
        object.uuid("assignee", assignee)
        object.uuid("created_by", createdBy)
        try object.value("closure", closure)
        object.int("reopened_count", reopenedCount)
        object.day("retention_due", retentionDue)
        object.bool("anonymised", anonymised)
        try object.value("person", person)
        try object.value("trafficking", trafficking)
        try object.value("violence", violence)
        object.string("note", note)
        object.date("created_at", createdAt)
        object.date("updated_at", updatedAt)
        object.int("version", version)
        try object.value("duplicates", duplicates)
        object.end()
    }
}

extension PersonDTO: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        try object.value("identity", identity)
        object.word("sex", sex)
        object.int("birth_year", birthYear)
        object.word("age_band", ageBand)
        object.string("citizenship", citizenship)
        object.strings("languages", languages)
        object.bool("minor", minor)
        object.bool("disability", disability)
        object.end()
    }
}

extension ClosureDTO: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.date("requested_at", requestedAt)
        object.uuid("requested_by", requestedBy)
        object.string("reason", reason)
        object.date("closed_at", closedAt)
        object.uuid("closed_by", closedBy)
        object.end()
    }
}

extension TraffickingProfile: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.words("exploitation_types", exploitationTypes)
        object.string("labour_sector", labourSector)
        object.words("means_of_control", meansOfControl)
        object.word("recruiter_relation", recruiterRelation)
        object.string("country_of_exploitation", countryOfExploitation)
        object.int("months_exploited", monthsExploited)
        object.word("recruitment_type", recruitmentType)
        object.strings("transit_countries", transitCountries)
        object.strings("other_countries_of_exploitation", otherCountriesOfExploitation)
        object.ints("years_of_exploitation", yearsOfExploitation)
        object.bool("trafficked_as_child", traffickedAsChild)
        object.end()
    }
}

extension ViolenceProfile: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.words("types", types)
        object.word("perpetrator_relation", perpetratorRelation)
        object.string("location", location)
        object.day("incident_date", incidentDate)
        object.day("reported_on", reportedOn)
        object.int("perpetrator_count", perpetratorCount)
        object.word("perpetrator_sex", perpetratorSex)
        object.word("perpetrator_age_group", perpetratorAgeGroup)
        object.int("days_to_first_service", daysToFirstService)
        object.end()
    }
}

extension PersonIdentity: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.string("given_name", givenName)
        object.string("family_name", familyName)
        object.strings("aliases", aliases)
        object.day("date_of_birth", dateOfBirth)
        try object.value("contact", contact)
        object.string("address", address)
        try object.objects("identity_documents", identityDocuments)
        object.end()
    }
}

extension PersonIdentity.Contact: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.string("phone", phone)
        object.string("email", email)
        object.string("other", other)
        object.end()
    }
}

extension PersonIdentity.IdentityDocument: JSONWritable {
    func writeJSON(to writer: JSONStreamWriter) throws {
        var object = JSONObjectWriter(writer)
        object.string("type", type)
        object.string("number", number)
        object.string("issuing_country", issuingCountry)
        object.day("expires_on", expiresOn)
        object.end()
    }
}
