/// The kinds of problem the API answers, as RFC 9457 `type` `/problems/<kind>`, and the console
/// names in each language. A struct rather than an enum, as `HTTPResponse.Status` is: an error the
/// HTTP layer raises itself is answered with its status's own phrase as the kind.
public struct ProblemKind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    public static let badRequest = ProblemKind(rawValue: "bad-request")
    public static let bodyTooLarge = ProblemKind(rawValue: "body-too-large")
    public static let closureUndecided = ProblemKind(rawValue: "closure-undecided")
    public static let conflict = ProblemKind(rawValue: "conflict")
    public static let consentDoesNotCover = ProblemKind(rawValue: "consent-does-not-cover")
    public static let erased = ProblemKind(rawValue: "erased")
    public static let forbidden = ProblemKind(rawValue: "forbidden")
    public static let ifMatchRequired = ProblemKind(rawValue: "if-match-required")
    public static let `internal` = ProblemKind(rawValue: "internal")
    public static let invalidField = ProblemKind(rawValue: "invalid-field")
    public static let methodNotAllowed = ProblemKind(rawValue: "method-not-allowed")
    public static let notFound = ProblemKind(rawValue: "not-found")
    public static let outsideMandate = ProblemKind(rawValue: "outside-mandate")
    public static let passwordChangeRequired = ProblemKind(rawValue: "password-change-required")
    public static let populationNotServed = ProblemKind(rawValue: "population-not-served")
    public static let rateLimited = ProblemKind(rawValue: "rate-limited")
    public static let reauthenticationFailed = ProblemKind(rawValue: "reauthentication-failed")
    public static let reauthenticationRequired = ProblemKind(rawValue: "reauthentication-required")
    public static let secondFactorEnrolmentRequired = ProblemKind(rawValue: "second-factor-enrolment-required")
    public static let staleVersion = ProblemKind(rawValue: "stale-version")
    public static let transitionNotAllowed = ProblemKind(rawValue: "transition-not-allowed")
    public static let unauthorized = ProblemKind(rawValue: "unauthorized")
    public static let unavailable = ProblemKind(rawValue: "unavailable")
    public static let undecryptable = ProblemKind(rawValue: "undecryptable")
    public static let unsupportedMediaType = ProblemKind(rawValue: "unsupported-media-type")

    /// Every kind Haven names itself.
    public static let named: [ProblemKind] = [
        .badRequest,
        .bodyTooLarge,
        .closureUndecided,
        .conflict,
        .consentDoesNotCover,
        .erased,
        .forbidden,
        .ifMatchRequired,
        .internal,
        .invalidField,
        .methodNotAllowed,
        .notFound,
        .outsideMandate,
        .passwordChangeRequired,
        .populationNotServed,
        .rateLimited,
        .reauthenticationFailed,
        .reauthenticationRequired,
        .secondFactorEnrolmentRequired,
        .staleVersion,
        .transitionNotAllowed,
        .unauthorized,
        .unavailable,
        .undecryptable,
        .unsupportedMediaType,
    ]
}
