import Foundation
import HavenCore
import HavenServices
import HavenStore

/// The case list's filters, order, page and search terms read from named text values (a query
/// string, a search body's members, a console form), keeping every field it cannot read so the
/// answer names them all at once rather than the first.
struct CaseListInput {
    var filter = CaseFilter()
    var terms = CaseService.SearchTerms()
    var page = PageRequest(cursor: nil, limit: 50)

    static let maxLimit = 200
    /// Every field a search body may carry.
    static let fields: Set<String> = [
        "status", "case_type", "risk_level", "assignee", "identification_status", "updated_since", "sort", "reference", "name", "birth_year",
        "identified_from", "identified_to", "limit", "cursor",
    ]

    /// `value` answers a field's text, or nil when absent. `updatedSinceIsDay` reads
    /// `updated_since` as a date (from the start of that day, UTC), as the console's date input sends it.
    init(_ value: (String) -> String?, unreadable: [FieldError] = [], updatedSinceIsDay: Bool = false) {
        var errors = unreadable
        func closed<T: ClosedSet>(_ name: String, _ type: T.Type) -> T? {
            guard let text = value(name) else { return nil }
            guard let code = T(rawValue: text) else {
                errors.append(FieldError(name, "must be one of: \(T.allowedValues)"))
                return nil
            }
            return code
        }
        func day(_ name: String) -> CalendarDate? {
            guard let text = value(name) else { return nil }
            guard let date = DateInput.day(text) else {
                errors.append(FieldError(name, "must be a real date as YYYY-MM-DD in the years 1900–2200"))
                return nil
            }
            return date
        }
        filter.status = closed("status", CaseStatus.self)
        filter.caseType = closed("case_type", CaseType.self)
        filter.riskLevel = closed("risk_level", RiskLevel.self)
        filter.identificationStatus = closed("identification_status", IdentificationStatus.self)
        filter.sort = closed("sort", CaseSort.self) ?? .updatedDesc
        if let text = value("assignee") {
            filter.assignee = UUID(text: text)
            if filter.assignee == nil { errors.append(FieldError("assignee", "must be a UUID")) }
        }
        if updatedSinceIsDay {
            filter.updatedSince = day("updated_since").map(ConsoleController.start(of:))
        } else if let text = value("updated_since") {
            filter.updatedSince = Timestamps.parse(text)
            if filter.updatedSince == nil { errors.append(FieldError("updated_since", Timestamps.expected)) }
        }
        if let text = value("limit") {
            if let limit = Int(text), (1...Self.maxLimit).contains(limit) {
                page.limit = limit
            } else {
                errors.append(FieldError("limit", "must be a whole number from 1 to \(Self.maxLimit)"))
            }
        }
        page.cursor = value("cursor")
        terms.reference = value("reference")
        terms.name = value("name")
        if let text = value("birth_year") {
            terms.birthYear = Int(text)
            if terms.birthYear == nil { errors.append(FieldError("birth_year", "must be a year such as 1990")) }
        }
        terms.identifiedFrom = day("identified_from")
        terms.identifiedTo = day("identified_to")
        terms.unreadable = errors
    }

    /// A search body's members as text: `birth_year` and `limit` must be JSON integers, every
    /// other field a string; a member that is no search field is refused, so a client never
    /// believes it searched by something Haven ignored.
    static func members(_ body: [String: JSONValue]) -> (values: [String: String], unreadable: [FieldError]) {
        var values: [String: String] = [:]
        var unreadable: [FieldError] = []
        for (name, member) in body.sorted(by: { $0.key < $1.key }) {
            guard fields.contains(name) else {
                unreadable.append(FieldError(name, "is not a search field"))
                continue
            }
            switch (member, name == "birth_year" || name == "limit") {
            case (.null, _): continue
            case (.int(let number), true): values[name] = String(number)
            case (.string(let text), false): values[name] = text
            case (_, true): unreadable.append(FieldError(name, "must be an integer"))
            case (_, false): unreadable.append(FieldError(name, "must be a string"))
            }
        }
        return (values, unreadable)
    }
}
