import Sealing
import Testing

@Suite struct TOTPTests {
    typealias V = SealingTestVectors

    struct Row: Sendable, CustomTestStringConvertible {
        var time: Int64
        var sha1: String
        var sha256: String
        var sha512: String
        var testDescription: String { "T=\(time)" }
    }

    /// RFC 6238 Appendix B (8 digits, 30-second steps).
    static let appendixB: [Row] = [
        Row(time: 59, sha1: "94287082", sha256: "46119246", sha512: "90693936"),
        Row(time: 1_111_111_109, sha1: "07081804", sha256: "68084774", sha512: "25091201"),
        Row(time: 1_111_111_111, sha1: "14050471", sha256: "67062674", sha512: "99943326"),
        Row(time: 1_234_567_890, sha1: "89005924", sha256: "91819424", sha512: "93441116"),
        Row(time: 2_000_000_000, sha1: "69279037", sha256: "90698825", sha512: "38618901"),
        Row(time: 20_000_000_000, sha1: "65353130", sha256: "77737706", sha512: "47863826"),
    ]

    static let sha1Secret = V.utf8("12345678901234567890")
    static let sha256Secret = V.utf8("12345678901234567890123456789012")
    static let sha512Secret = V.utf8("1234567890123456789012345678901234567890123456789012345678901234")

    @Test(arguments: appendixB)
    func rfc6238SHA1(_ row: Row) {
        let totp = TOTP(secret: Self.sha1Secret, digits: 8, algorithm: .sha1)
        #expect(totp.code(at: row.time) == row.sha1)
    }

    @Test(arguments: appendixB)
    func rfc6238SHA256(_ row: Row) {
        let totp = TOTP(secret: Self.sha256Secret, digits: 8, algorithm: .sha256)
        #expect(totp.code(at: row.time) == row.sha256)
    }

    @Test(arguments: appendixB)
    func rfc6238SHA512(_ row: Row) {
        let totp = TOTP(secret: Self.sha512Secret, digits: 8, algorithm: .sha512)
        #expect(totp.code(at: row.time) == row.sha512)
    }

    /// RFC 4226 Appendix D: HOTP values for counters 0-9, six digits (leading zeros kept).
    @Test func rfc4226HOTPValues() {
        let expected = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"]
        let totp = TOTP(secret: Self.sha1Secret)
        for (counter, code) in expected.enumerated() {
            #expect(totp.code(counter: UInt64(counter)) == code, "counter \(counter)")
        }
    }

    @Test func defaultsAreSixDigitsThirtySecondsSHA1() {
        let totp = TOTP(secret: Self.sha1Secret)
        #expect(totp.digits == 6)
        #expect(totp.period == 30)
        // Last six digits of the 8-digit RFC 6238 value at T=59.
        #expect(totp.code(at: 59) == "287082")
        // Same step, same code; the next step differs.
        #expect(totp.code(at: 30) == totp.code(at: 59))
        #expect(totp.code(at: 60) != totp.code(at: 59))
    }

    @Test func codesKeepLeadingZeros() {
        // RFC 6238: T=1111111109 with SHA1 is 07081804.
        let totp = TOTP(secret: Self.sha1Secret, digits: 8)
        let code = totp.code(at: 1_111_111_109)
        #expect(code.count == 8)
        #expect(code.hasPrefix("0"))
    }

    @Test func matchingStepAcceptsOneStepOfDriftEitherWay() {
        let totp = TOTP(secret: Self.sha256Secret, digits: 8, algorithm: .sha256)
        let now: Int64 = 1_234_567_890
        let step = now / 30
        #expect(totp.matchingStep(totp.code(counter: UInt64(step)), at: now) == step)
        #expect(totp.matchingStep(totp.code(counter: UInt64(step - 1)), at: now) == step - 1)
        #expect(totp.matchingStep(totp.code(counter: UInt64(step + 1)), at: now) == step + 1)
        // The RFC value for this time is accepted.
        #expect(totp.matchingStep("91819424", at: now) == step)
        // ... and from the neighbouring steps' point of view too.
        #expect(totp.matchingStep("91819424", at: now + 30) == step)
        #expect(totp.matchingStep("91819424", at: now - 30) == step)
    }

    @Test func matchingStepRejectsCodesTwoOrMoreStepsAway() {
        let totp = TOTP(secret: Self.sha256Secret, digits: 8, algorithm: .sha256)
        let now: Int64 = 1_234_567_890
        let step = now / 30
        for offset: Int64 in [-10, -3, -2, 2, 3, 10] {
            let code = totp.code(counter: UInt64(step + offset))
            // (Guard against the 1e-8 chance that a far code equals a near one.)
            let near = (-1...1).map { totp.code(counter: UInt64(step + Int64($0))) }
            if near.contains(code) { continue }
            #expect(totp.matchingStep(code, at: now) == nil, "offset \(offset)")
        }
        #expect(totp.matchingStep("91819424", at: now + 60) == nil)
        #expect(totp.matchingStep("91819424", at: now - 60) == nil)
    }

    @Test func matchingStepRejectsMalformedCodes() {
        let totp = TOTP(secret: Self.sha1Secret, digits: 8)
        let now: Int64 = 59
        #expect(totp.matchingStep("94287082", at: now) == 1)
        #expect(totp.matchingStep("", at: now) == nil)
        #expect(totp.matchingStep("9428708", at: now) == nil)
        #expect(totp.matchingStep("942870820", at: now) == nil)
        #expect(totp.matchingStep(" 94287082", at: now) == nil)
        #expect(totp.matchingStep("94287083", at: now) == nil)
    }

    @Test func matchingStepNearTimeZeroDoesNotGoNegative() {
        let totp = TOTP(secret: Self.sha1Secret)
        #expect(totp.matchingStep(totp.code(counter: 0), at: 0) == 0)
        #expect(totp.matchingStep(totp.code(counter: 1), at: 0) == 1)
    }

    @Test func wrongSecretDoesNotMatch() {
        let right = TOTP(secret: Self.sha1Secret, digits: 8)
        var otherSecret = Self.sha1Secret
        otherSecret[0] ^= 1
        let wrong = TOTP(secret: otherSecret, digits: 8)
        #expect(wrong.code(at: 59) != right.code(at: 59))
        #expect(right.matchingStep(wrong.code(at: 59), at: 59) == nil)
    }

    @Test func generatedSecretsAre160BitsAndDistinct() throws {
        let a = try TOTP.generateSecret()
        let b = try TOTP.generateSecret()
        #expect(a.count == 20)
        #expect(a != b)
    }

    @Test func provisioningURIEscapesAndCarriesParameters() {
        let totp = TOTP(secret: Self.sha1Secret, digits: 6, period: 30, algorithm: .sha1)
        let uri = totp.provisioningURI(issuer: "Haven Test", account: "ana.s@x")
        #expect(uri == "otpauth://totp/Haven%20Test:ana.s%40x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Haven%20Test&algorithm=SHA1&digits=6&period=30")
        let sha256 = TOTP(secret: [0xff], digits: 8, period: 60, algorithm: .sha256).provisioningURI(issuer: "H", account: "a")
        #expect(sha256.hasSuffix("&algorithm=SHA256&digits=8&period=60"))
        #expect(sha256.contains("secret=74&"))
    }
}
