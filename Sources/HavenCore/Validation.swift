import Foundation

/// A rule a request broke, naming the field (a JSON pointer-like path such as `person.birth_year`).
public struct FieldError: Error, Sendable, Equatable, Codable {
    public var field: String
    public var reason: String

    public init(_ field: String, _ reason: String) {
        self.field = field
        self.reason = reason
    }
}

/// One or more broken rules; the API answers 422 naming each field.
public struct ValidationFailure: Error, Sendable, Equatable {
    public var errors: [FieldError]
    public init(_ errors: [FieldError]) { self.errors = errors }
    public init(_ field: String, _ reason: String) { self.errors = [FieldError(field, reason)] }
}

/// Collects field errors while checking a request, then throws them together.
public struct Validator {
    public private(set) var errors: [FieldError] = []

    public init() {}

    public mutating func add(_ field: String, _ reason: String) {
        errors.append(FieldError(field, reason))
    }

    public mutating func check(_ condition: Bool, _ field: String, _ reason: String) {
        if !condition { add(field, reason) }
    }

    /// Plain text: length within bounds, no control characters other than newlines and tabs.
    public mutating func text(_ value: String?, _ field: String, required: Bool = false, max: Int = 200, multiline: Bool = false) {
        guard let value else {
            if required { add(field, "is required") }
            return
        }
        let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
        if required && trimmed.isEmpty { add(field, "must not be empty") }
        if value.count > max { add(field, "must be at most \(max) characters") }
        let forbidden = value.unicodeScalars.contains { scalar in
            (scalar.value < 0x20 && !(multiline && (scalar == "\n" || scalar == "\t" || scalar == "\r"))) || scalar.value == 0x7F
        }
        if forbidden { add(field, "must not contain control characters") }
    }

    /// A list that is a set: each value once.
    public mutating func distinct<T: Hashable>(_ values: [T]?, _ field: String) {
        guard let values else { return }
        if Set(values).count != values.count { add(field, "must not name a value twice") }
    }

    public mutating func countryCode(_ value: String?, _ field: String, required: Bool = false) {
        guard let value else {
            if required { add(field, "is required") }
            return
        }
        if !CountryCode.isValid(value) { add(field, "must be an ISO 3166-1 alpha-2 code such as MD") }
    }

    public func finish() throws {
        if !errors.isEmpty { throw ValidationFailure(errors) }
    }
}

public enum CountryCode {
    /// ISO 3166-1 alpha-2 codes, assigned ones only.
    public static let all: Set<String> = Set("""
        AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
        CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
        GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO \
        JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR \
        MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO \
        RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV \
        TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW
        """.split(separator: " ").map { String($0) })

    public static func isValid(_ code: String) -> Bool { all.contains(code) }
}

/// S3's companion: what a password must be before it is hashed.
public enum PasswordPolicy {
    public static let minimumLength = 12
    public static let maximumLength = 256

    /// A short list of passwords long enough to pass the length rule yet among the first an
    /// attacker tries.
    static let common: Set<String> = [
        "password1234", "password12345", "password123456", "123456789012", "1234567890123",
        "12345678901234", "qwertyuiopas", "qwerty123456", "qwertyuiop123", "passwordpassword",
        "iloveyou1234", "administrator", "welcome12345", "changeme1234", "letmein12345",
        "abcdefghijkl", "abc123456789", "111111111111", "000000000000", "aaaaaaaaaaaa",
        "trustno1trustno1", "p@ssw0rd1234", "passw0rd1234", "superman1234", "football1234",
        "baseball1234", "monkey123456", "dragon123456", "sunshine1234", "princess1234",
        "1q2w3e4r5t6y", "1qaz2wsx3edc", "zaq12wsxcde3", "qazwsxedcrfv", "asdfghjkl123",
        "haven1234567", "havenhaven12", "changeme12345", "welcome123456", "adminadmin12",
    ]

    /// nil when acceptable; otherwise the broken rule, for a 422 naming `password`.
    public static func violation(_ password: String, username: String) -> String? {
        if password.count < minimumLength { return "must be at least \(minimumLength) characters" }
        if password.count > maximumLength { return "must be at most \(maximumLength) characters" }
        let lowered = password.lowercased()
        if lowered == username.lowercased() || lowered.contains(username.lowercased()) && username.count >= 4 {
            return "must not contain the username"
        }
        if common.contains(lowered) { return "is too common" }
        if Set(password).count < 4 { return "must use more than three different characters" }
        return nil
    }
}

/// An enumeration whose JSON form is one of a fixed set of strings; an unknown value is
/// refused with the allowed ones named.
public protocol ClosedSet: RawRepresentable, CaseIterable, Codable, Sendable where RawValue == String {}

extension ClosedSet {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(String.self)
        guard let value = Self(rawValue: raw) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "must be one of: " + Self.allCases.map(\.rawValue).joined(separator: ", "))
        }
        self = value
    }

    public static var allowedValues: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// What a login attempt must look like before any credential is checked, for the API's and the
/// console's login alike.
public enum LoginInput {
    public static func check(username: String, password: String, totp: String?, recoveryCode: String? = nil) throws {
        var check = Validator()
        check.text(username, "username", required: true, max: 64)
        check.check(!password.isEmpty && password.count <= PasswordPolicy.maximumLength, "password", "must be 1-\(PasswordPolicy.maximumLength) characters")
        check.check(!password.unicodeScalars.contains("\u{0}"), "password", "must not contain a NUL character")
        check.check(totp.map { $0.count <= 10 } ?? true, "totp", "must be at most 10 digits")
        check.check(recoveryCode.map { $0.count <= 40 } ?? true, "recovery_code", "must be at most 40 characters")
        check.check(totp == nil || recoveryCode == nil, "recovery_code", "give either a TOTP code or a recovery code, not both")
        try check.finish()
    }
}
