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
/// organisation; for another, only that one exists (ask its supervisor).
public struct DuplicateHint: Codable, Sendable, Equatable {
    public var sameOrganisation: [String]
    public var otherOrganisation: Bool

    public init(sameOrganisation: [String], otherOrganisation: Bool) {
        self.sameOrganisation = sameOrganisation
        self.otherOrganisation = otherOrganisation
    }

    public var isEmpty: Bool { sameOrganisation.isEmpty && !otherOrganisation }

    public var message: String? {
        var parts: [String] = []
        if !sameOrganisation.isEmpty { parts.append("possible duplicate in your organisation: \(sameOrganisation.joined(separator: ", "))") }
        if otherOrganisation { parts.append("possible duplicate in another organisation — ask its supervisor") }
        return parts.isEmpty ? nil : parts.joined(separator: "; ")
    }
}

/// Why identifying data is erased before its retention date.
public enum ErasureReason: String, ClosedSet {
    case subjectRequest = "subject-request"
    case legalOrder = "legal-order"
    case enteredInError = "entered-in-error"
    case other
}
