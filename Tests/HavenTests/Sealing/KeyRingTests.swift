import Sealing
import Testing

@Suite struct KeyRingTests {
    typealias V = SealingTestVectors

    static let keyA = String(repeating: "a1", count: 32)
    static let keyB = String(repeating: "b2", count: 32)
    static let keyC = String(repeating: "c3", count: 32)

    static func ring(_ text: String) throws -> KeyRing { try KeyRing(text: text) }

    static func expectKind(_ kind: SealingError.Kind, sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("expected SealingError.\(kind), nothing was thrown", sourceLocation: sourceLocation)
        } catch let error as SealingError {
            #expect(error.kind == kind, "\(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("expected SealingError.\(kind), got \(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func sealThenOpenRoundTrips() throws {
        let ring = try Self.ring("k1 \(Self.keyA)\n")
        for plaintext in [[], V.utf8("Ana Popescu, born 1990-01-01"), [UInt8](repeating: 0, count: 1000)] {
            let sealed = try ring.seal(plaintext, associatedData: V.utf8("case-1"))
            #expect(try ring.open(sealed, associatedData: V.utf8("case-1")) == plaintext)
        }
    }

    @Test func sealedFormCarriesVersionAndKeyID() throws {
        let ring = try Self.ring("k1 \(Self.keyA)\nnewest-key_2 \(Self.keyB)\n")
        #expect(ring.currentKeyID == "newest-key_2")
        let plaintext = V.utf8("hello")
        let sealed = try ring.seal(plaintext, associatedData: [])
        let id = V.utf8("newest-key_2")
        #expect(sealed[0] == 0x01)
        #expect(Int(sealed[1]) == id.count)
        #expect(Array(sealed[2..<(2 + id.count)]) == id)
        #expect(sealed.count == 2 + id.count + 12 + plaintext.count + 16)
        #expect(try KeyRing.keyID(of: sealed) == "newest-key_2")
        // The plaintext does not appear in the clear.
        #expect(!V.hex(sealed).contains(V.hex(plaintext)))
    }

    @Test func sealingTwiceGivesDifferentCiphertexts() throws {
        let ring = try Self.ring("k1 \(Self.keyA)")
        let a = try ring.seal(V.utf8("same"), associatedData: [1])
        let b = try ring.seal(V.utf8("same"), associatedData: [1])
        #expect(a != b)
        #expect(try ring.open(a, associatedData: [1]) == ring.open(b, associatedData: [1]))
    }

    @Test func oldKeyStillOpensAfterRotation() throws {
        let old = try Self.ring("k1 \(Self.keyA)\n")
        let sealedWithOld = try old.seal(V.utf8("secret"), associatedData: V.utf8("r1"))
        #expect(try KeyRing.keyID(of: sealedWithOld) == "k1")

        let rotated = try Self.ring("k1 \(Self.keyA)\nk2 \(Self.keyB)\n")
        #expect(rotated.currentKeyID == "k2")
        #expect(try rotated.open(sealedWithOld, associatedData: V.utf8("r1")) == V.utf8("secret"))

        let sealedWithNew = try rotated.seal(V.utf8("secret"), associatedData: V.utf8("r1"))
        #expect(try KeyRing.keyID(of: sealedWithNew) == "k2")
        // The old ring does not hold k2.
        Self.expectKind(.unknownKey) { _ = try old.open(sealedWithNew, associatedData: V.utf8("r1")) }
    }

    @Test func wrongAssociatedDataFails() throws {
        let ring = try Self.ring("k1 \(Self.keyA)")
        let sealed = try ring.seal(V.utf8("secret"), associatedData: V.utf8("record-1"))
        Self.expectKind(.authenticationFailed) { _ = try ring.open(sealed, associatedData: V.utf8("record-2")) }
        Self.expectKind(.authenticationFailed) { _ = try ring.open(sealed, associatedData: []) }
    }

    @Test func sameIDWithDifferentMaterialFails() throws {
        let sealed = try Self.ring("k1 \(Self.keyA)").seal(V.utf8("secret"), associatedData: [])
        let impostor = try Self.ring("k1 \(Self.keyB)")
        Self.expectKind(.authenticationFailed) { _ = try impostor.open(sealed, associatedData: []) }
    }

    @Test func unknownKeyIDFails() throws {
        let sealed = try Self.ring("gone \(Self.keyA)").seal(V.utf8("secret"), associatedData: [])
        let ring = try Self.ring("k1 \(Self.keyB)\nk2 \(Self.keyC)")
        Self.expectKind(.unknownKey) { _ = try ring.open(sealed, associatedData: []) }
    }

    @Test func tamperedSealedValuesFail() throws {
        let ring = try Self.ring("k1 \(Self.keyA)")
        let sealed = try ring.seal(V.utf8("some secret text"), associatedData: [7])
        // Flip one bit anywhere after the key id: nonce, ciphertext or tag.
        for position in 4..<sealed.count {
            var tampered = sealed
            tampered[position] ^= 0x04
            Self.expectKind(.authenticationFailed) { _ = try ring.open(tampered, associatedData: [7]) }
        }
    }

    @Test func malformedSealedValuesAreRejected() throws {
        let ring = try Self.ring("k1 \(Self.keyA)")
        let sealed = try ring.seal(V.utf8("x"), associatedData: [])
        Self.expectKind(.malformed) { _ = try ring.open([], associatedData: []) }
        Self.expectKind(.malformed) { _ = try ring.open([0x01], associatedData: []) }
        var wrongVersion = sealed
        wrongVersion[0] = 0x02
        Self.expectKind(.malformed) { _ = try ring.open(wrongVersion, associatedData: []) }
        // Shorter than id + nonce + tag.
        Self.expectKind(.malformed) { _ = try ring.open(Array(sealed.prefix(2 + 2 + 12 + 15)), associatedData: []) }
        // An id length pointing past the end.
        var longID = sealed
        longID[1] = 0xFF
        Self.expectKind(.malformed) { _ = try ring.open(longID, associatedData: []) }
        Self.expectKind(.malformed) { _ = try KeyRing.keyID(of: [0x07, 0x00]) }
    }

    @Test func keyFileAcceptsCommentsBlankLinesAndTabs() throws {
        let text = "# Haven key file\n\n  k1 \(Self.keyA)   # first\n\tk2\t\(Self.keyB.uppercased())\n# trailing comment\n"
        let ring = try KeyRing(text: text)
        #expect(ring.keys.map(\.id) == ["k1", "k2"])
        #expect(ring.currentKeyID == "k2")
    }

    /// A key file saved with Windows line endings. In Swift "\r\n" is one Character, so
    /// `split(separator: "\n")` does not split it: the file reads as one line. With a comment on
    /// the first line every later key silently disappears (the newest key is not used, and
    /// values sealed with it no longer open); without one the file is rejected.
    @Test func keyFileWithCRLFLineEndingsKeepsEveryKey() throws {
        let commented = try KeyRing(text: "k1 \(Self.keyA) # first\r\nk2 \(Self.keyB)\r\n")
        #expect(commented.keys.map(\.id) == ["k1", "k2"])
        #expect(commented.currentKeyID == "k2")
        let plain = try KeyRing(text: "k1 \(Self.keyA)\r\nk2 \(Self.keyB)\r\n")
        #expect(plain.keys.map(\.id) == ["k1", "k2"])
    }

    @Test(arguments: [
        "",  // no key at all
        "# only a comment\n",
        "k1\n",  // no material
        "k1 \(String(repeating: "a1", count: 32)) extra\n",  // three fields
        "k1 \(String(repeating: "a1", count: 31))\n",  // 31 bytes
        "k1 \(String(repeating: "a1", count: 33))\n",  // 33 bytes
        "k1 \(String(repeating: "a1", count: 31))a\n",  // odd number of hex digits
        "k1 \(String(repeating: "zz", count: 32))\n",  // not hex
        "k! \(String(repeating: "a1", count: 32))\n",  // bad id character
        "k.1 \(String(repeating: "a1", count: 32))\n",  // bad id character
        "seventeen-chars-x \(String(repeating: "a1", count: 32))\n",  // id too long
        "k1 \(String(repeating: "a1", count: 32))\nk1 \(String(repeating: "b2", count: 32))\n",  // duplicate id
        "k1 \(String(repeating: "a1", count: 32))\nbroken line\n",
    ])
    func malformedKeyFilesAreRejected(_ text: String) {
        Self.expectKind(.malformed) { _ = try KeyRing(text: text) }
    }

    @Test func programmaticKeysAreValidatedToo() {
        Self.expectKind(.malformed) { _ = try KeyRing(keys: []) }
        Self.expectKind(.malformed) { _ = try KeyRing(keys: [(id: "k1", material: [UInt8](repeating: 1, count: 16))]) }
        Self.expectKind(.malformed) { _ = try KeyRing(keys: [(id: "", material: [UInt8](repeating: 1, count: 32))]) }
        Self.expectKind(.malformed) { _ = try KeyRing(keys: [(id: "ключ", material: [UInt8](repeating: 1, count: 32))]) }
    }

    @Test func sixteenCharacterIDIsAccepted() throws {
        let ring = try KeyRing(text: "abcdefghijklmnop \(Self.keyA)")
        let sealed = try ring.seal([1], associatedData: [])
        #expect(try ring.open(sealed, associatedData: []) == [1])
    }

    @Test func generatedKeyLinesParse() throws {
        let line1 = try KeyRing.generateKeyLine(id: "g1")
        let line2 = try KeyRing.generateKeyLine(id: "g2")
        #expect(line1.hasPrefix("g1 "))
        #expect(line1.utf8.count == 3 + 64)
        #expect(line1.dropFirst(3) != line2.dropFirst(3))
        let ring = try KeyRing(text: line1 + "\n" + line2 + "\n")
        #expect(ring.currentKeyID == "g2")
        #expect(try ring.open(try ring.seal([42], associatedData: []), associatedData: []) == [42])
    }

    @Test func derivedKeysDifferPerPurposeAndKey() throws {
        let ring = try Self.ring("k1 \(Self.keyA)\nk2 \(Self.keyB)")
        let audit = try ring.derivedKey(purpose: "audit")
        let index = try ring.derivedKey(purpose: "blind-index")
        #expect(audit.id == "k2")
        #expect(audit.key.count == 32)
        #expect(audit.key != index.key)
        // Deterministic.
        #expect(try ring.derivedKey(purpose: "audit").key == audit.key)
        // Per key.
        let auditOld = try ring.derivedKey(purpose: "audit", keyID: "k1")
        #expect(auditOld.id == "k1")
        #expect(auditOld.key != audit.key)
        // Never the raw key material itself.
        #expect(audit.key != V.bytes(Self.keyB))
        // HMAC-SHA256(key, "haven/<purpose>"), so other implementations (a verifier) can derive it.
        #expect(audit.key == HMAC.sha256(V.utf8("haven/audit"), key: V.bytes(Self.keyB)))
        Self.expectKind(.unknownKey) { _ = try ring.derivedKey(purpose: "audit", keyID: "k3") }
    }
}
