import Foundation

/// Who may consent for a person under 18 (child-protection guidelines): a guardian always; the
/// young person alone only from 15, and only with a supervisor's recorded assessment of their
/// capacity; under 15, or a child whose age is not known, only through a guardian.
public enum ConsentCapacity {
    /// The youngest the person can be today, in whole years, from what Haven records: with only a
    /// birth year the birthday may still be ahead, so the year's difference less one. Nil when
    /// nothing gives an age.
    public static func youngestAge(birthYear: Int?, dateOfBirth: CalendarDate? = nil, today: CalendarDate) -> Int? {
        if let born = dateOfBirth {
            let hadBirthday = (today.month, today.day) >= (born.month, born.day)
            return today.year - born.year - (hadBirthday ? 0 : 1)
        }
        return birthYear.map { today.year - $0 - 1 }
    }

    /// Whether the person may be a child: by age when known, else as the case records it
    /// (the minor flag or a child's age band).
    public static func mayBeChild(age: Int?, minor: Bool?, ageBand: AgeBand?) -> Bool {
        if let age { return age < 18 }
        return minor == true || ageBand?.isMinor == true
    }

    /// Nil when the consent may be recorded; otherwise why not, for the `grantor` field.
    public static func refusal(grantor: ConsentGrantor, age: Int?, minor: Bool?, ageBand: AgeBand? = nil, capacityAssessed: Bool) -> String? {
        guard grantor == .selfGranted, mayBeChild(age: age, minor: minor, ageBand: ageBand) else { return nil }
        guard let age, age >= 15 else {
            return "must be guardian: a person under 15, or a child whose age is not known, cannot consent alone"
        }
        return capacityAssessed ? nil
            : "must be guardian, or a supervisor must record capacity_assessed: a person under 18 cannot consent alone"
    }
}
