import Foundation
import HavenCore
@testable import HavenAPI
import Testing

/// The handwritten JSON of the case summary says exactly what its `Encodable` conformance says,
/// and writes every stored property (a property added to a DTO and not to its writer fails here).
@Suite("Handwritten JSON writers")
struct JSONWritableTests {
    static let day = CalendarDate.of(Date(timeIntervalSince1970: 1_773_000_000))
    static let instant = Date(timeIntervalSince1970: 1_795_000_000.125)

    static func file(full: Bool) -> CaseFile {
        CaseFile(
            id: UUID(), organisationID: UUID(), reference: "SY-2026-000042", caseType: .both, identificationStatus: .presumed,
            identifiedBy: .selfReferred, identifiedOn: day, riskLevel: .high, status: full ? .closed : .open,
            assignee: full ? UUID() : nil, createdBy: UUID(), closureRequestedAt: full ? instant : nil, closureRequestedBy: full ? UUID() : nil,
            closureReason: full ? "moved \"abroad\"\n" : nil, closedAt: full ? instant : nil, closedBy: full ? UUID() : nil, reopenedCount: 2,
            retentionDue: full ? day : nil, anonymisedAt: full ? instant : nil,
            profile: full ? PersonProfile(sex: .female, birthYear: 1999, ageBand: .age24to26, citizenship: "SY", languages: ["ro", "ru"],
                                          minor: false, disability: true) : PersonProfile(),
            identity: full ? identity : nil,
            trafficking: full ? TraffickingProfile(exploitationTypes: [.forcedLabour, .begging], labourSector: "farming",
                                                   meansOfControl: [.debtBondage], recruiterRelation: .other, countryOfExploitation: "XX",
                                                   monthsExploited: 7, recruitmentType: .jobOffer, transitCountries: ["UA"],
                                                   otherCountriesOfExploitation: ["DE", "PL"], yearsOfExploitation: [2024, 2025],
                                                   traffickedAsChild: false) : nil,
            violence: full ? Self.violence : nil,
            note: full ? "a synthetic note" : nil, createdAt: instant, updatedAt: instant.addingTimeInterval(60), version: 3)
    }

    static var violence: ViolenceProfile {
        var profile = ViolenceProfile(types: [.rape], perpetratorRelation: .intimatePartner, location: "district 3",
                                      incidentDate: CalendarDate(year: 2026, month: 1, day: 3), reportedOn: CalendarDate(year: 2026, month: 1, day: 5),
                                      perpetratorCount: 2, perpetratorSex: .both, perpetratorAgeGroup: .age18to25)
        profile.daysToFirstService = 4
        return profile
    }

    static let identity = PersonIdentity(
        givenName: "Synthetic", familyName: "Person \u{1F600}", aliases: ["Alias \"one\"", "two"], dateOfBirth: day,
        contact: .init(phone: "+000 0000", email: "synthetic@example.invalid", other: "line\nbreak"), address: "1 Test Street",
        identityDocuments: [.init(type: "passport", number: "X0000000", issuingCountry: "XX", expiresOn: day), .init(type: "other")])

    static func dto(full: Bool) -> CaseDTO {
        var dto = CaseDTO(file(full: full))
        if full { dto.duplicates = DuplicateHint(sameOrganisation: ["SY-2026-000001"], otherOrganisation: true) }
        return dto
    }

    static func bytes(_ value: some Encodable, handwritten: Bool) throws -> [UInt8] {
        let writer = JSONStreamWriter(useHandwritten: handwritten)
        try writer.encodeValue(value)
        return try writer.finish { [UInt8]($0) }
    }

    @Test("the same bytes as the Encodable conformance, with every optional set and with none")
    func sameBytes() throws {
        for full in [true, false] {
            let page = ListResponse(items: [Self.dto(full: full), Self.dto(full: full)], nextCursor: full ? "abc" : nil)
            let handwritten = try Self.bytes(page, handwritten: true)
            let generic = try Self.bytes(page, handwritten: false)
            #expect(String(decoding: handwritten, as: UTF8.self) == String(decoding: generic, as: UTF8.self))
        }
    }

    @Test("every stored property is written when set", arguments: ["case", "person", "identity", "contact", "document", "closure", "trafficking", "violence"])
    func everyProperty(_ kind: String) throws {
        let dto = Self.dto(full: true)
        let value: any Encodable = switch kind {
        case "case": dto
        case "person": dto.person
        case "identity": Self.identity
        case "contact": try #require(Self.identity.contact)
        case "document": try #require(Self.identity.identityDocuments?.first)
        case "closure": try #require(dto.closure)
        case "trafficking": try #require(dto.trafficking)
        default: try #require(dto.violence)
        }
        let written = try #require(try JSONSerialization.jsonObject(with: Data(try Self.bytes(value, handwritten: true))) as? [String: Any])
        let properties = Mirror(reflecting: value).children.compactMap(\.label).map(SnakeCaseKey.name)
        #expect(Set(written.keys) == Set(properties), "\(kind)")
    }
}
