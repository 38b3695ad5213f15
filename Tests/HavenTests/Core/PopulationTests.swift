import Foundation
import HavenCore
import Testing

/// Whom a person is, for a mandate, and whether a mandate serves them: age and sex are two
/// dimensions; one a mandate names nothing of serves everyone.
@Suite struct PopulationTests {
    static let today = CalendarDate(year: 2026, month: 6, day: 15)!

    @Test func aPersonIsAChildWhileTheyMayBeUnder18() {
        #expect(Population.of(PersonProfile(sex: .male, birthYear: 2011), today: Self.today) == [.child, .male])
        // Born in 2008: possibly still 17, so a child until the date says otherwise.
        #expect(Population.of(PersonProfile(sex: .female, birthYear: 2008), today: Self.today) == [.child, .female])
        #expect(Population.of(PersonProfile(sex: .female, birthYear: 2008), dateOfBirth: CalendarDate(year: 2008, month: 1, day: 1),
                              today: Self.today) == [.adult, .female])
        #expect(Population.of(PersonProfile(sex: .other, birthYear: 1990), today: Self.today) == [.adult])
        #expect(Population.of(PersonProfile(sex: .unknown), today: Self.today) == [])
        #expect(Population.of(PersonProfile(sex: .male, minor: true), today: Self.today) == [.child, .male])
        #expect(Population.of(PersonProfile(sex: .male, ageBand: .age30to38), today: Self.today) == [.adult, .male])
    }

    @Test func aWomensAdultShelterServesNeitherABoyNorAGirl() {
        let women = Mandate(serviceTypes: [.safeAccommodation], populations: [.female, .adult])
        #expect(!women.serves([.child, .male]))
        #expect(!women.serves([.child, .female]))
        #expect(!women.serves([.adult, .male]))
        #expect(women.serves([.adult, .female]))
        #expect(women.serves([]), "nothing known of the person: the mandate cannot refuse them")
    }

    @Test func aDimensionTheMandateNamesNothingOfServesEveryoneInIt() {
        let womenOfAnyAge = Mandate(serviceTypes: [.safeAccommodation], populations: [.female])
        #expect(womenOfAnyAge.serves([.child, .female]))
        #expect(!womenOfAnyAge.serves([.child, .male]))
        let children = Mandate(serviceTypes: [.safeAccommodation], populations: [.child])
        #expect(children.serves([.child, .male]) && children.serves([.child, .female]))
        #expect(!children.serves([.adult, .female]))
        #expect(Mandate(serviceTypes: [.medical]).serves([.child, .male]), "no populations: everyone")
        #expect(!womenOfAnyAge.covers(serviceType: .safeAccommodation, region: nil, population: [.adult, .male]))
    }
}
