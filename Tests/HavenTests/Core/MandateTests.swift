import Foundation
import HavenCore
import Testing

@Suite struct MandateTests {
    static let shelter = Mandate(
        serviceTypes: [.safeAccommodation, .counselling], regions: ["Chisinau", "Balti"], populations: [.female, .adult],
        acceptsReferrals: true, capacityNote: "12 beds")

    @Test func coversAServiceItProvidesInARegionItCoversForAPopulationItServes() {
        #expect(Self.shelter.covers(serviceType: .safeAccommodation, region: "Chisinau", population: [.female, .adult]))
        #expect(Self.shelter.covers(serviceType: .counselling, region: "Balti", population: [.female]))
    }

    @Test func doesNotCoverAServiceItDoesNotProvide() {
        #expect(!Self.shelter.covers(serviceType: .legalAid, region: "Chisinau", population: [.female]))
        #expect(!Mandate().covers(serviceType: .other, region: nil))
    }

    @Test func doesNotCoverWhenNotAcceptingReferrals() {
        var full = Self.shelter
        full.acceptsReferrals = false
        #expect(!full.covers(serviceType: .safeAccommodation, region: "Chisinau", population: [.female]))
    }

    @Test func regionsMatchIgnoringCase() {
        #expect(Self.shelter.covers(serviceType: .counselling, region: "chisinau"))
        #expect(Self.shelter.covers(serviceType: .counselling, region: "BALTI"))
        #expect(!Self.shelter.covers(serviceType: .counselling, region: "Cahul"))
        #expect(!Self.shelter.covers(serviceType: .counselling, region: "Chisinau Nord"))
    }

    @Test func emptyRegionListMeansNationwideAndNoRegionMeansAnywhere() {
        let nationwide = Mandate(serviceTypes: [.legalAid])
        #expect(nationwide.covers(serviceType: .legalAid, region: "Cahul"))
        #expect(nationwide.covers(serviceType: .legalAid, region: nil))
        #expect(Self.shelter.covers(serviceType: .counselling, region: nil))
    }

    @Test func everyPopulationOfThePersonMustBeServed() {
        #expect(!Self.shelter.covers(serviceType: .counselling, region: nil, population: [.male]))
        #expect(!Self.shelter.covers(serviceType: .counselling, region: nil, population: [.female, .child]))
        #expect(Self.shelter.covers(serviceType: .counselling, region: nil, population: []))
        let everyone = Mandate(serviceTypes: [.medical], populations: [])
        #expect(everyone.covers(serviceType: .medical, region: nil, population: [.male, .child]))
    }

    @Test func decodingFillsDefaults() throws {
        let decoded = try JSONDecoder().decode(Mandate.self, from: Data(#"{"serviceTypes":["medical"]}"#.utf8))
        #expect(decoded.serviceTypes == [.medical])
        #expect(decoded.regions == [])
        #expect(decoded.populations == [])
        #expect(decoded.acceptsReferrals)
        #expect(decoded.capacityNote == nil)
        let empty = try JSONDecoder().decode(Mandate.self, from: Data("{}".utf8))
        #expect(empty == Mandate())
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Mandate.self, from: Data(#"{"serviceTypes":["teleportation"]}"#.utf8))
        }
    }

    @Test func encodingRoundTrips() throws {
        let data = try JSONEncoder().encode(Self.shelter)
        #expect(try JSONDecoder().decode(Mandate.self, from: data) == Self.shelter)
    }

    @Test func validationNamesTheField() {
        var check = Validator()
        let bad = Mandate(serviceTypes: [.medical], regions: ["", String(repeating: "r", count: 101)], capacityNote: "bell\u{7}")
        bad.validate(&check)
        let fields = Set(check.errors.map(\.field))
        #expect(fields.contains("mandate.regions[0]"))
        #expect(fields.contains("mandate.regions[1]"))
        #expect(fields.contains("mandate.capacity_note"))
        var ok = Validator()
        Self.shelter.validate(&ok)
        #expect(ok.errors.isEmpty)
    }
}
