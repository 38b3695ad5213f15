import Sealing
import Testing

/// AES-256-GCM against the test cases of McGrew & Viega, "The Galois/Counter Mode of Operation"
/// (the NIST GCM submission), cases 13-16 (256-bit keys).
@Suite struct AESGCMTests {
    typealias V = SealingTestVectors

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String
        var nonce: String
        var plaintext: String
        var associatedData: String
        var ciphertext: String
        var tag: String
        var testDescription: String { name }
    }

    static let key15 = "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308"
    static let nonce15 = "cafebabefacedbaddecaf888"

    static let vectors: [Vector] = [
        Vector(
            name: "test case 13", key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
            plaintext: "", associatedData: "", ciphertext: "", tag: "530f8afbc74536b9a963b4f1c4cb738b"),
        Vector(
            name: "test case 14", key: String(repeating: "00", count: 32), nonce: String(repeating: "00", count: 12),
            plaintext: String(repeating: "00", count: 16), associatedData: "",
            ciphertext: "cea7403d4d606b6e074ec5d3baf39d18", tag: "d0d1c8a799996bf0265b98b5d48ab919"),
        Vector(
            name: "test case 15", key: key15, nonce: nonce15,
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
            associatedData: "",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
            tag: "b094dac5d93471bdec1a502270e3cc6c"),
        Vector(
            name: "test case 16", key: key15, nonce: nonce15,
            plaintext: "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
            associatedData: "feedfacedeadbeeffeedfacedeadbeefabaddad2",
            ciphertext: "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
            tag: "76fc6ece0f4e1768cddf8853bb2d551b"),
    ]

    @Test(arguments: vectors)
    func sealMatchesKnownAnswer(_ vector: Vector) throws {
        let (ciphertext, tag) = try AESGCM.seal(
            V.bytes(vector.plaintext), key: V.bytes(vector.key), nonce: V.bytes(vector.nonce), associatedData: V.bytes(vector.associatedData))
        #expect(V.hex(ciphertext) == vector.ciphertext)
        #expect(V.hex(tag) == vector.tag)
    }

    @Test(arguments: vectors)
    func openMatchesKnownAnswer(_ vector: Vector) throws {
        let plaintext = try AESGCM.open(
            V.bytes(vector.ciphertext), tag: V.bytes(vector.tag), key: V.bytes(vector.key), nonce: V.bytes(vector.nonce),
            associatedData: V.bytes(vector.associatedData))
        #expect(V.hex(plaintext) == vector.plaintext)
    }

    static func expectAuthenticationFailure(_ body: () throws -> [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let opened = try body()
            Issue.record("opened a tampered value: \(opened.count) bytes", sourceLocation: sourceLocation)
        } catch let error as SealingError {
            #expect(error.kind == .authenticationFailed, sourceLocation: sourceLocation)
        } catch {
            Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
        }
    }

    static let case16 = vectors[3]

    @Test(arguments: [0, 7, 31, 59])
    func openFailsOnAFlippedCiphertextBit(_ byte: Int) {
        let v = Self.case16
        var ciphertext = V.bytes(v.ciphertext)
        ciphertext[byte] ^= 0x01
        Self.expectAuthenticationFailure {
            try AESGCM.open(ciphertext, tag: V.bytes(v.tag), key: V.bytes(v.key), nonce: V.bytes(v.nonce), associatedData: V.bytes(v.associatedData))
        }
    }

    @Test(arguments: [0, 8, 15])
    func openFailsOnAFlippedTagBit(_ byte: Int) {
        let v = Self.case16
        var tag = V.bytes(v.tag)
        tag[byte] ^= 0x80
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v.ciphertext), tag: tag, key: V.bytes(v.key), nonce: V.bytes(v.nonce), associatedData: V.bytes(v.associatedData))
        }
    }

    @Test func openFailsWithWrongAssociatedData() {
        let v = Self.case16
        var associatedData = V.bytes(v.associatedData)
        associatedData[associatedData.count - 1] ^= 0x01
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v.ciphertext), tag: V.bytes(v.tag), key: V.bytes(v.key), nonce: V.bytes(v.nonce), associatedData: associatedData)
        }
        // Dropping the associated data altogether fails too.
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v.ciphertext), tag: V.bytes(v.tag), key: V.bytes(v.key), nonce: V.bytes(v.nonce))
        }
        // And adding some where there was none (test case 15).
        let v15 = Self.vectors[2]
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v15.ciphertext), tag: V.bytes(v15.tag), key: V.bytes(v15.key), nonce: V.bytes(v15.nonce), associatedData: [0])
        }
    }

    @Test func openFailsWithWrongKeyOrNonceOrTruncatedCiphertext() {
        let v = Self.case16
        var key = V.bytes(v.key)
        key[0] ^= 0x01
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v.ciphertext), tag: V.bytes(v.tag), key: key, nonce: V.bytes(v.nonce), associatedData: V.bytes(v.associatedData))
        }
        var nonce = V.bytes(v.nonce)
        nonce[11] ^= 0x01
        Self.expectAuthenticationFailure {
            try AESGCM.open(V.bytes(v.ciphertext), tag: V.bytes(v.tag), key: V.bytes(v.key), nonce: nonce, associatedData: V.bytes(v.associatedData))
        }
        Self.expectAuthenticationFailure {
            try AESGCM.open(Array(V.bytes(v.ciphertext).dropLast()), tag: V.bytes(v.tag), key: V.bytes(v.key), nonce: V.bytes(v.nonce), associatedData: V.bytes(v.associatedData))
        }
    }

    @Test func rejectsWrongKeyNonceAndTagLengths() {
        let key = [UInt8](repeating: 1, count: 32)
        let nonce = [UInt8](repeating: 2, count: 12)
        for (badKey, badNonce) in [([UInt8](repeating: 1, count: 16), nonce), (key, [UInt8](repeating: 2, count: 16)), ([], nonce)] {
            let error = #expect(throws: SealingError.self) {
                try AESGCM.seal([1, 2, 3], key: badKey, nonce: badNonce)
            }
            #expect(error?.kind == .malformed)
        }
        let error = #expect(throws: SealingError.self) {
            try AESGCM.open([1, 2, 3], tag: [UInt8](repeating: 0, count: 12), key: key, nonce: nonce)
        }
        #expect(error?.kind == .malformed)
    }

    @Test func roundTripsAssortedLengths() throws {
        let key = try SecureRandom.bytes(32)
        for length in [0, 1, 15, 16, 17, 255, 4096] {
            let plaintext = try SecureRandom.bytes(length)
            let nonce = try SecureRandom.bytes(12)
            let (ciphertext, tag) = try AESGCM.seal(plaintext, key: key, nonce: nonce, associatedData: [9, 9])
            #expect(ciphertext.count == length)
            #expect(tag.count == 16)
            #expect(try AESGCM.open(ciphertext, tag: tag, key: key, nonce: nonce, associatedData: [9, 9]) == plaintext)
        }
    }

    /// Decryption contexts are kept per key and reused with each new nonce: every vector, opened
    /// again and again in turn from several tasks, with failed openings (wrong tag, wrong
    /// associated data) between them, still gives its known answer.
    @Test func reusedContextsStillGiveKnownAnswers() async throws {
        let vectors = Self.vectors
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<4 {
                group.addTask {
                    for round in 0..<50 {
                        let vector = vectors[(round + task) % vectors.count]
                        let key = V.bytes(vector.key), nonce = V.bytes(vector.nonce), ciphertext = V.bytes(vector.ciphertext)
                        var wrongTag = V.bytes(vector.tag)
                        wrongTag[round % 16] ^= 1
                        #expect(throws: SealingError.self) {
                            try AESGCM.open(ciphertext, tag: wrongTag, key: key, nonce: nonce, associatedData: V.bytes(vector.associatedData))
                        }
                        #expect(throws: SealingError.self) {
                            try AESGCM.open(ciphertext, tag: V.bytes(vector.tag), key: key, nonce: nonce, associatedData: [UInt8(round)])
                        }
                        let plaintext = try AESGCM.open(
                            ciphertext, tag: V.bytes(vector.tag), key: key, nonce: nonce, associatedData: V.bytes(vector.associatedData))
                        #expect(V.hex(plaintext) == vector.plaintext)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
