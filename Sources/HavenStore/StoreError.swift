import HavenCore
import Postgres

/// What a store operation can fail with, in terms the API maps to HTTP answers.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// The record does not exist, or the actor may not know it exists (404).
    case notFound(String)
    /// The actor may see the record but not do this (403).
    case forbidden(String)
    /// The request conflicts with the current state (409), e.g. a duplicate or a transition
    /// the state machine does not allow. `detail` carries extra members for the answer.
    case conflict(String, field: String?, detail: [String: AuditDetail] = [:])
    /// The stored version is not the one the client read (412).
    case preconditionFailed(String)
    case invalid(ValidationFailure)
    /// A malformed query parameter (a cursor this list did not return): 400, not 422.
    case badQuery(FieldError)
    /// The database is unreachable or too busy (503).
    case unavailable(String)
    case configuration(String)
    /// Sealed data did not open: a missing or wrong key, or a ciphertext that was tampered
    /// with or moved to another record. Never answered with garbage.
    case undecryptable(String)
    /// The database refused a value the checks above it let through (422).
    case rejected
    /// Any other database failure (500), told by kind, SQLSTATE and statement, never by the
    /// server's message (which can quote a value).
    case database(String)

    public var description: String {
        switch self {
        case .notFound(let text), .forbidden(let text), .preconditionFailed(let text), .unavailable(let text), .configuration(let text),
             .undecryptable(let text), .database(let text):
            return text
        case .rejected: return "a value was rejected by the database"
        case .conflict(let text, _, _): return text
        case .invalid(let failure): return failure.errors.map { "\($0.field) \($0.reason)" }.joined(separator: "; ")
        case .badQuery(let error): return "\(error.field) \(error.reason)"
        }
    }
}
