import HavenCore
import Postgres

/// Builds a WHERE clause from fixed fragments written in code, each `?` becoming the next bound
/// parameter. Only values travel as parameters; no input ever becomes SQL text (S20).
public struct SQLFilter {
    public private(set) var clauses: [String] = []
    public private(set) var parameters: [(any PGEncodable)?] = []

    public init() {}

    /// Adds a fragment such as `case_id = ?` with its values, in order.
    public mutating func add(_ fragment: StaticString, _ values: (any PGEncodable)?...) {
        var text = ""
        var remaining = values[...]
        for character in "\(fragment)" {
            if character == "?", let value = remaining.popFirst() {
                parameters.append(value)
                text += "$" + String(parameters.count)
            } else {
                text.append(character)
            }
        }
        clauses.append(text)
    }

    /// A parameter with no fragment (for LIMIT and the like); returns its placeholder.
    public mutating func bind(_ value: (any PGEncodable)?) -> String {
        parameters.append(value)
        return "$" + String(parameters.count)
    }

    public var whereClause: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }
}

extension SQLFilter {
    /// Limits a query to an access scope. `organisation` is a fragment with one `?` for the
    /// organisation, `ownCases` one with two `?` for the user (assigned to, created by); a scope
    /// of nothing matches no row.
    mutating func restrict(to scope: AccessScope, organisation: StaticString, ownCases: StaticString) {
        switch scope {
        case .national:
            break
        case .organisation(let id):
            add(organisation, id)
        case .ownCases(let id, let user):
            add(organisation, id)
            add(ownCases, user, user)
        case .nothing:
            add("false")
        }
    }
}
