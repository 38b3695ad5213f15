/// Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), HMAC through libcrypto.
public struct TOTP: Sendable {
    public var secret: [UInt8]
    public var digits: Int
    public var period: Int64
    public var algorithm: DigestAlgorithm

    public init(secret: [UInt8], digits: Int = 6, period: Int64 = 30, algorithm: DigestAlgorithm = .sha1) {
        self.secret = secret
        self.digits = digits
        self.period = period
        self.algorithm = algorithm
    }

    /// A new 160-bit secret, the size RFC 4226 recommends for HMAC-SHA1.
    public static func generateSecret() throws -> [UInt8] { try SecureRandom.bytes(20) }

    public func code(at unixTime: Int64) -> String {
        code(counter: UInt64(max(0, unixTime) / period))
    }

    public func code(counter: UInt64) -> String {
        var message = [UInt8](repeating: 0, count: 8)
        for index in 0..<8 { message[index] = UInt8((counter >> UInt64(56 - 8 * index)) & 0xFF) }
        let mac = HMAC.authenticate(message, key: secret, algorithm: algorithm)
        let offset = Int(mac[mac.count - 1] & 0x0F)
        let binary = (UInt32(mac[offset] & 0x7F) << 24) | (UInt32(mac[offset + 1]) << 16)
            | (UInt32(mac[offset + 2]) << 8) | UInt32(mac[offset + 3])
        var modulus: UInt32 = 1
        for _ in 0..<digits { modulus *= 10 }
        let value = String(binary % modulus)
        return String(repeating: "0", count: max(0, digits - value.count)) + value
    }

    /// The time step a code belongs to, accepting one step of clock drift either way; nil when
    /// the code is wrong. Callers refuse a step at or before the last one used (no replay).
    public func matchingStep(_ code: String, at unixTime: Int64) -> Int64? {
        let step = max(0, unixTime) / period
        for candidate in [step, step - 1, step + 1] where candidate >= 0 {
            if ConstantTime.equals(Array(self.code(counter: UInt64(candidate)).utf8), Array(code.utf8)) { return candidate }
        }
        return nil
    }

    /// The provisioning URI authenticator apps read (usually from a QR code).
    public func provisioningURI(issuer: String, account: String) -> String {
        func escape(_ text: String) -> String {
            text.addingPercentEncodingForURI()
        }
        let algorithmName: String
        switch algorithm {
        case .sha1: algorithmName = "SHA1"
        case .sha256: algorithmName = "SHA256"
        case .sha512: algorithmName = "SHA512"
        }
        return "otpauth://totp/\(escape(issuer)):\(escape(account))?secret=\(Base32.encode(secret))&issuer=\(escape(issuer))&algorithm=\(algorithmName)&digits=\(digits)&period=\(period)"
    }
}

extension String {
    /// Percent-encodes everything outside RFC 3986's unreserved set.
    func addingPercentEncodingForURI() -> String {
        var output = ""
        for byte in self.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                 UInt8(ascii: "_"), UInt8(ascii: "~"):
                output.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                output += "%" + Hex.encode([byte]).uppercased()
            }
        }
        return output
    }
}
