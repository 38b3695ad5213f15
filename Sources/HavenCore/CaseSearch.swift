import Foundation

/// What a caseworker searches their organisation's cases by, beyond the list's filters: a case
/// reference, a person's exact name and birth year, and a range of identification dates. Only
/// the rule lives here; the name is matched through the keyed blind index alone (nothing
/// fuzzy that would let a search guess at names), and it never travels in a URL (S12).
public struct CaseSearch: Sendable, Equatable {
    public var reference: String?
    public var person: PersonSearch?
    public var identifiedFrom: CalendarDate?
    public var identifiedTo: CalendarDate?

    public init(reference: String? = nil, person: PersonSearch? = nil, identifiedFrom: CalendarDate? = nil, identifiedTo: CalendarDate? = nil) {
        self.reference = reference
        self.person = person
        self.identifiedFrom = identifiedFrom
        self.identifiedTo = identifiedTo
    }

    public static let maxNameLength = 200
    /// More words than a person's given and family names plausibly hold; also bounds the
    /// index inputs one search computes.
    public static let maxNameWords = 8

    /// Checks the typed search terms together, naming every field at fault. `name` and
    /// `birthYear` come as typed (either may be missing); `today` bounds the birth year.
    public static func make(reference: String?, name: String?, birthYear: Int?, identifiedFrom: CalendarDate?, identifiedTo: CalendarDate?,
                            today: CalendarDate, errors: [FieldError] = []) throws -> CaseSearch {
        var check = Validator()
        for error in errors { check.add(error.field, error.reason) }
        var search = CaseSearch(identifiedFrom: identifiedFrom, identifiedTo: identifiedTo)
        if let reference {
            let normalised = reference.trimmingCharacters(in: .whitespaces).uppercased()
            if CaseReference.isWellFormed(normalised) {
                search.reference = normalised
            } else {
                check.add("reference", "must be a case reference such as MD-\(today.year)-000123")
            }
        }
        let named = name.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.flatMap { $0.isEmpty ? nil : $0 }
        if let named {
            check.text(named, "name", max: maxNameLength)
            let words = BlindIndexInput.normalise(named).split(separator: " ")
            check.check(!words.isEmpty, "name", "must contain letters")
            check.check(words.count <= maxNameWords, "name", "must be at most \(maxNameWords) words")
            if birthYear == nil && !errors.contains(where: { $0.field == "birth_year" }) {
                check.add("birth_year", "is required with name: a name is searched only together with the year of birth")
            }
        }
        if let birthYear {
            check.check((1900...today.year).contains(birthYear), "birth_year", "must be a year from 1900 to \(today.year)")
            if named == nil && name != nil {
                check.add("name", "must not be empty")
            } else if named == nil {
                check.add("name", "is required with birth_year")
            }
        }
        if let identifiedFrom, let identifiedTo, identifiedTo < identifiedFrom {
            check.add("identified_to", "must not be before identified_from")
        }
        try check.finish()
        if let named, let birthYear { search.person = PersonSearch(name: named, birthYear: birthYear) }
        return search
    }

    /// The fields a search uses, by name (what its audit event records; never their values).
    public var names: [String] {
        let used: [(String, Bool)] = [
            ("reference", reference != nil), ("name", person != nil), ("birth_year", person != nil),
            ("identified_from", identifiedFrom != nil), ("identified_to", identifiedTo != nil),
        ]
        return used.filter(\.1).map(\.0)
    }
}

/// A person's exact name and birth year, as typed. Intake indexes a person by their given and
/// family names, each normalised, in alphabetical order, with the birth year
/// (`BlindIndexInput.make`); a searcher types the whole name in one field, in either order.
public struct PersonSearch: Sendable, Equatable {
    public let name: String
    public let birthYear: Int

    public init(name: String, birthYear: Int) {
        self.name = name
        self.birthYear = birthYear
    }

    /// Every blind-index input the typed name could have been registered as: all its words as one
    /// name, or split once into two names (the given and the family name, whichever comes first).
    /// Exact words only: no prefix, no spelling variant, so a search reveals nothing a
    /// searcher did not already know.
    public var indexInputs: [String] {
        let words = BlindIndexInput.normalise(name).split(separator: " ").map(String.init)
        guard !words.isEmpty else { return [] }
        let year = "|" + String(birthYear)
        var inputs = [words.joined(separator: " ") + year]
        for split in 1..<max(words.count, 1) {
            let parts = [words[..<split].joined(separator: " "), words[split...].joined(separator: " ")].sorted()
            inputs.append(parts.joined(separator: " ") + year)
        }
        var seen = Set<String>()
        return inputs.filter { seen.insert($0).inserted }
    }
}

extension CaseReference {
    /// `CC-YYYY-NNNNNN` as `make` writes it (more digits once a country passes a million cases).
    public static func isWellFormed(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3 else { return false }
        let letters = parts[0].unicodeScalars.allSatisfy { ("A"..."Z").contains($0) }
        let digits = { (part: Substring) in part.unicodeScalars.allSatisfy { ("0"..."9").contains($0) } }
        return parts[0].count == 2 && letters && parts[1].count == 4 && digits(parts[1]) && (6...9).contains(parts[2].count) && digits(parts[2])
    }
}
