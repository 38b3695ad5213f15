import Foundation
import HavenCore
import Testing

/// A person under 18 cannot consent alone: a guardian's consent, or from 15 a supervisor's
/// recorded assessment of the young person's capacity.
@Suite struct ConsentCapacityTests {
    static let today = CalendarDate(year: 2026, month: 6, day: 15)!

    static func refused(_ grantor: ConsentGrantor, age: Int?, minor: Bool? = nil, assessed: Bool = false) -> Bool {
        ConsentCapacity.refusal(grantor: grantor, age: age, minor: minor, capacityAssessed: assessed) != nil
    }

    @Test func at14OnlyAGuardianConsentsEvenWithAnAssessment() {
        #expect(Self.refused(.selfGranted, age: 14))
        #expect(Self.refused(.selfGranted, age: 14, assessed: true))
        #expect(!Self.refused(.guardian, age: 14))
    }

    @Test func from15AloneOnlyWithASupervisorsAssessment() {
        for age in [15, 17] {
            #expect(Self.refused(.selfGranted, age: age), "age \(age) without assessment")
            #expect(!Self.refused(.selfGranted, age: age, assessed: true), "age \(age) assessed")
            #expect(!Self.refused(.guardian, age: age))
        }
    }

    @Test func at18ThePersonConsentsAlone() {
        #expect(!Self.refused(.selfGranted, age: 18))
        #expect(!Self.refused(.selfGranted, age: 40))
    }

    @Test func unknownAgeConsentsAloneUnlessRecordedAsAChild() {
        #expect(!Self.refused(.selfGranted, age: nil))
        #expect(Self.refused(.selfGranted, age: nil, minor: true))
        #expect(Self.refused(.selfGranted, age: nil, minor: true, assessed: true), "from 15 cannot be shown without an age")
        #expect(!Self.refused(.guardian, age: nil, minor: true))
        #expect(ConsentCapacity.refusal(grantor: .selfGranted, age: nil, minor: nil, ageBand: .age9to17, capacityAssessed: false) != nil)
    }

    @Test func theAgeIsTheYoungestWhatHavenRecordsAllows() {
        // Born in 2008: 18 after the birthday, 17 before it; only the year known, 17 to be safe.
        #expect(ConsentCapacity.youngestAge(birthYear: 2008, today: Self.today) == 17)
        #expect(ConsentCapacity.youngestAge(birthYear: 2008, dateOfBirth: CalendarDate(year: 2008, month: 6, day: 15), today: Self.today) == 18)
        #expect(ConsentCapacity.youngestAge(birthYear: 2008, dateOfBirth: CalendarDate(year: 2008, month: 6, day: 16), today: Self.today) == 17)
        #expect(ConsentCapacity.youngestAge(birthYear: nil, today: Self.today) == nil)
    }
}
