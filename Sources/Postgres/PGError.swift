/// An error from libpq or the server, with what PostgreSQL said about it. `description` names
/// the kind and place only; what the server said is in `debugDescription`.
public struct PGError: Error, CustomStringConvertible, CustomDebugStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case uniqueViolation
        case foreignKeyViolation
        case checkViolation
        case notNullViolation
        case serializationFailure
        case deadlock
        case queryCancelled
        case lockNotAvailable
        case insufficientPrivilege
        case invalidTextRepresentation
        /// The connection broke (server restart, network) or could not be made.
        case connectionLost
        /// A decoded column does not hold the requested Swift type.
        case typeMismatch
        /// The pool had no connection to give within its acquire timeout.
        case poolTimeout
        /// The pool is shut down.
        case poolClosed
        case other
    }

    public var kind: Kind
    /// Five-character SQLSTATE when the server sent one.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var constraint: String?
    /// The table a constraint belongs to, when the error is about one.
    public var table: String?
    /// The statement's name or a short prefix of its text, for the log. Never parameter values.
    public var statement: String?

    public init(
        kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil,
        constraint: String? = nil, table: String? = nil, statement: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
        self.statement = statement
    }

    /// True for failures that a new transaction attempt may not meet again.
    public var isTransient: Bool {
        kind == .serializationFailure || kind == .deadlock
    }

    /// What kind of error and where: kind, SQLSTATE, constraint, table and statement name.
    /// PostgreSQL's message and detail can quote a value ("Key (email)=(...) already exists",
    /// "invalid input syntax for type integer: ..."), and a description travels into logs,
    /// error reports and HTTP problem bodies by accident, so it never carries them.
    public var description: String {
        var text = "PGError.\(kind)"
        if let sqlState { text += " [\(sqlState)]" }
        var names: [String] = []
        if let constraint { names.append("constraint \(constraint)") }
        if let table { names.append("table \(table)") }
        if !names.isEmpty { text += " (\(names.joined(separator: ", ")))" }
        if let statement { text += " in \(statement)" }
        return text
    }

    /// An error as a log line may show it: a `PGError` by its description; other errors are the
    /// project's own words.
    public static func loggable(_ error: any Error) -> String {
        String(describing: error)
    }

    /// Everything, the server's message and detail included, for a developer at a debugger or a
    /// test failure (`String(reflecting:)`); never for a log or a response.
    public var debugDescription: String {
        var text = description + ": \(message)"
        if let detail { text += " — \(detail)" }
        return text
    }

    static func kind(forSQLState state: String) -> Kind {
        switch state {
        case "23505": return .uniqueViolation
        case "23503": return .foreignKeyViolation
        case "23514": return .checkViolation
        case "23502": return .notNullViolation
        case "40001": return .serializationFailure
        case "40P01": return .deadlock
        case "57014": return .queryCancelled
        case "55P03": return .lockNotAvailable
        case "42501": return .insufficientPrivilege
        case "22P02": return .invalidTextRepresentation
        // admin_shutdown, crash_shutdown, cannot_connect_now and class 08: the session is gone.
        case "57P01", "57P02", "57P03": return .connectionLost
        default: return state.hasPrefix("08") ? .connectionLost : .other
        }
    }
}
