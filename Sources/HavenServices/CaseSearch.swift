import Foundation
import HavenCore
import HavenStore

/// Searching the cases the actor may list: by reference, by a person's exact name and birth
/// year (through the blind index), by identification dates, on top of the list's filters.
extension CaseService {
    /// The search terms as the caller typed them, with the fields it could not read at all
    /// (an unknown status, a birth year that is not a number), so one answer names every bad field.
    public struct SearchTerms: Sendable {
        public var reference: String?
        public var name: String?
        public var birthYear: Int?
        public var identifiedFrom: CalendarDate?
        public var identifiedTo: CalendarDate?
        public var unreadable: [FieldError]

        public init(reference: String? = nil, name: String? = nil, birthYear: Int? = nil, identifiedFrom: CalendarDate? = nil,
                    identifiedTo: CalendarDate? = nil, unreadable: [FieldError] = []) {
            self.reference = reference
            self.name = name
            self.birthYear = birthYear
            self.identifiedFrom = identifiedFrom
            self.identifiedTo = identifiedTo
            self.unreadable = unreadable
        }
    }

    /// Checks the terms (every bad field at once, as `ValidationFailure`), then lists like `list`:
    /// the same policy and row-level security, so a search finds only cases the actor may list,
    /// and the same `case.list` event naming the filters used, never their values (S10, S7).
    public func search(_ terms: SearchTerms, filter: CaseFilter, page: PageRequest, context: AccessContext) async throws -> Page<CaseFile> {
        var filter = filter
        filter.search = try CaseSearch.make(reference: terms.reference, name: terms.name, birthYear: terms.birthYear,
                                            identifiedFrom: terms.identifiedFrom, identifiedTo: terms.identifiedTo,
                                            today: CalendarDate.of(Date()), errors: terms.unreadable)
        return try await list(filter, page: page, context: context)
    }
}
