import Foundation

/// The text a blind index is computed over: a person's name reduced to what survives spelling
/// variants (case, accents, punctuation, spacing, order of names) plus the birth year.
public enum BlindIndexInput {
    public static func make(identity: PersonIdentity?, birthYear: Int?) -> String? {
        guard let identity else { return nil }
        let names = [identity.givenName, identity.familyName].compactMap { $0 }.map(normalise).filter { !$0.isEmpty }
        guard !names.isEmpty else { return nil }
        return names.sorted().joined(separator: " ") + "|" + (birthYear.map(String.init) ?? "")
    }

    public static func normalise(_ name: String) -> String {
        let folded = name.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: Locale(identifier: "en_US_POSIX"))
        let words = folded.lowercased().split { !$0.isLetter }.map(String.init)
        return words.joined(separator: " ")
    }
}

/// What intake tells about a possible duplicate: references only for the caller's own
/// organisation; for another, only that one exists (ask its supervisor), and that only to a
/// caller the access policy lets ask (`AccessPolicy.duplicateHintReach`). Anyone else is told to
/// ask their supervisor, whether or not there is anything to find.
public struct DuplicateHint: Codable, Sendable, Equatable {
    public var sameOrganisation: [String]
    /// Absent for a caller who may not learn it.
    public var otherOrganisation: Bool?
    /// Set for a caller who may not learn about other organisations: their supervisor may.
    public var askSupervisor: Bool?

    public init(sameOrganisation: [String], otherOrganisation: Bool?, askSupervisor: Bool? = nil) {
        self.sameOrganisation = sameOrganisation
        self.otherOrganisation = otherOrganisation
        self.askSupervisor = askSupervisor
    }

    /// Nothing to say: no match the caller may know of, and nothing to ask.
    public var isEmpty: Bool { !found && askSupervisor != true }

    /// A match the caller may know of.
    public var found: Bool { !sameOrganisation.isEmpty || otherOrganisation == true }

    public var message: String? {
        var parts: [String] = []
        if !sameOrganisation.isEmpty { parts.append("possible duplicate in your organisation: \(sameOrganisation.joined(separator: ", "))") }
        if otherOrganisation == true { parts.append("possible duplicate in another organisation — ask its supervisor") }
        if askSupervisor == true { parts.append("whether the person is registered in another organisation only your supervisor can check") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// How many cross-organisation duplicate hints one user gets in an hour: enough for a
/// supervisor's intakes, too few to sweep names and birth years through.
public enum DuplicateHintLimit {
    public static let perHour = 20
    public static let window: TimeInterval = 3600

    /// Seconds until the oldest hint in the window leaves it, at least one.
    public static func retryAfter(oldest: Date, now: Date) -> Int {
        max(1, Int((oldest.addingTimeInterval(window).timeIntervalSince(now)).rounded(.up)))
    }
}

/// Why identifying data is erased before its retention date.
public enum ErasureReason: String, ClosedSet {
    case subjectRequest = "subject-request"
    case legalOrder = "legal-order"
    case enteredInError = "entered-in-error"
    case other
}
