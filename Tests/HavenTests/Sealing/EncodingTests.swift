import Sealing
import Testing

@Suite struct EncodingTests {
    typealias V = SealingTestVectors

    /// RFC 4648 §10 test vectors: (input, BASE32 without padding, BASE32 with padding, BASE16).
    static let rfc4648: [(String, String, String, String)] = [
        ("", "", "", ""),
        ("f", "MY", "MY======", "66"),
        ("fo", "MZXQ", "MZXQ====", "666F"),
        ("foo", "MZXW6", "MZXW6===", "666F6F"),
        ("foob", "MZXW6YQ", "MZXW6YQ=", "666F6F62"),
        ("fooba", "MZXW6YTB", "MZXW6YTB", "666F6F6261"),
        ("foobar", "MZXW6YTBOI", "MZXW6YTBOI======", "666F6F626172"),
    ]

    @Test func base32EncodesRFC4648VectorsUnpadded() {
        for (input, unpadded, _, _) in Self.rfc4648 {
            #expect(Base32.encode(V.utf8(input)) == unpadded, "\(input)")
        }
    }

    @Test func base32DecodesPaddedUnpaddedAndLowerCase() {
        for (input, unpadded, padded, _) in Self.rfc4648 {
            #expect(Base32.decode(unpadded) == V.utf8(input), "\(unpadded)")
            #expect(Base32.decode(padded) == V.utf8(input), "\(padded)")
            #expect(Base32.decode(padded.lowercased()) == V.utf8(input), "\(padded.lowercased())")
        }
        // Authenticator apps show secrets in groups of four.
        #expect(Base32.decode("MZXW 6YTB OI") == V.utf8("foobar"))
    }

    @Test func base32RejectsCharactersOutsideTheAlphabet() {
        for text in ["MZXW1", "MZXW0", "MZXW8", "MZXW9", "MZ-XW", "MZXW6!", "É"] {
            #expect(Base32.decode(text) == nil, "\(text)")
        }
    }

    @Test func base32RoundTripsEveryLength() throws {
        for length in 0...41 {
            let bytes = try SecureRandom.bytes(length)
            let text = Base32.encode(bytes)
            #expect(text.utf8.count == (length * 8 + 4) / 5)
            #expect(Base32.decode(text) == bytes, "length \(length)")
        }
        let all = (0...255).map { UInt8($0) }
        #expect(Base32.decode(Base32.encode(all)) == all)
    }

    @Test func hexEncodesLowerCaseAndDecodesEitherCase() {
        for (input, _, _, base16) in Self.rfc4648 {
            #expect(Hex.encode(V.utf8(input)) == base16.lowercased())
            #expect(Hex.decode(base16) == V.utf8(input))
            #expect(Hex.decode(base16.lowercased()) == V.utf8(input))
        }
        #expect(Hex.encode([0x00, 0x0f, 0xf0, 0xff]) == "000ff0ff")
        #expect(Hex.decode("aBcD") == [0xab, 0xcd])
    }

    @Test func hexRoundTripsAllByteValues() {
        let all = (0...255).map { UInt8($0) }
        let text = Hex.encode(all)
        #expect(text.utf8.count == 512)
        #expect(Hex.decode(text) == all)
    }

    @Test func hexRejectsOddLengthAndNonHexDigits() {
        for text in ["a", "abc", "0g", "zz", " 0", "0x00", "é1"] {
            #expect(Hex.decode(text) == nil, "\(text)")
        }
        #expect(Hex.decode("") == [])
    }

    @Test func base64URLIsUnpaddedAndURLSafe() {
        #expect(Base64URL.encode(V.utf8("foobar")) == "Zm9vYmFy")
        #expect(Base64URL.encode(V.utf8("f")) == "Zg")
        #expect(Base64URL.encode(V.utf8("fo")) == "Zm8")
        #expect(Base64URL.encode([0xfb, 0xff, 0xfe]) == "-__-")
        #expect(Base64URL.decode("-__-") == [0xfb, 0xff, 0xfe])
        #expect(Base64URL.decode("Zg") == V.utf8("f"))
        #expect(Base64URL.decode("Zm8") == V.utf8("fo"))
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zm9v!") == nil)
        #expect(Base64URL.decode("Zm9v=") == nil)
        #expect(Base64URL.decode("Zm+v") == nil)
        #expect(Base64URL.decode("Zm9v Zg") == nil)
        #expect(Base64URL.decode("Zh") == nil, "bits after the last byte must be zero")
        #expect(Base64URL.decode("Zm9") == nil, "bits after the last byte must be zero")
        #expect(Base64URL.decode("") == [])
        // The RFC 4648 §10 vectors, in the URL-safe alphabet without padding.
        for (plain, encoded) in [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")] {
            #expect(Base64URL.encode(V.utf8(plain)) == encoded)
            #expect(Base64URL.decode(encoded) == V.utf8(plain))
        }
    }

    @Test func base64URLRoundTrips() throws {
        for length in 0...40 {
            let bytes = try SecureRandom.bytes(length)
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("="))
            #expect(!text.contains("+"))
            #expect(!text.contains("/"))
            #expect(Base64URL.decode(text) == bytes, "length \(length)")
        }
    }
}
