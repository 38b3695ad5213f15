import Sealing
import Testing

@Suite struct DigestTests {
    typealias V = SealingTestVectors

    // FIPS 180-2 appendix B examples.
    @Test func sha256OfABC() {
        #expect(V.hex(Digest.sha256("abc")) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Digest.sha256(V.utf8("abc")) == Digest.sha256("abc"))
    }

    @Test func sha256OfEmptyInput() {
        #expect(V.hex(Digest.sha256("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(V.hex(Digest.sha256([UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func sha256OfTwoBlockMessage() {
        let message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        #expect(V.hex(Digest.sha256(message)) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    // RFC 4231 §4.2: test case 1.
    @Test func hmacSHA256RFC4231Case1() {
        let mac = HMAC.sha256(V.utf8("Hi There"), key: [UInt8](repeating: 0x0b, count: 20))
        #expect(V.hex(mac) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    // RFC 4231 §4.3: test case 2, a key shorter than the output.
    @Test func hmacSHA256RFC4231Case2() {
        let mac = HMAC.sha256(V.utf8("what do ya want for nothing?"), key: V.utf8("Jefe"))
        #expect(V.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    // RFC 4231 §4.4: test case 3, 50 bytes of 0xdd.
    @Test func hmacSHA256RFC4231Case3() {
        let mac = HMAC.sha256([UInt8](repeating: 0xdd, count: 50), key: [UInt8](repeating: 0xaa, count: 20))
        #expect(V.hex(mac) == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe")
    }

    // The reusable keyed context gives the RFC 4231 answers, message after message.
    @Test func reusableHMACSHA256() throws {
        let jefe = try #require(HMACSHA256(key: V.utf8("Jefe")))
        for _ in 0..<3 {
            #expect(V.hex(try #require(jefe.authenticate(V.utf8("what do ya want for nothing?"))))
                    == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        }
        let long = try #require(HMACSHA256(key: [UInt8](repeating: 0xaa, count: 131)))
        #expect(V.hex(try #require(long.authenticate(V.utf8("Test Using Larger Than Block-Size Key - Hash Key First"))))
                == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
        #expect(V.hex(try #require(jefe.authenticate([]))) == V.hex(HMAC.sha256([], key: V.utf8("Jefe"))))
    }

    // HMAC.sha256 keeps a keyed context per key and MACs on copies of it: the same key again,
    // from many threads at once, and more keys than it keeps, all still give the one-shot answer.
    @Test func cachedHMACSHA256MatchesOneShot() async {
        let keys = (0..<80).map { index in [UInt8](repeating: UInt8(index), count: 32) }
        let message = V.utf8("haven audit event")
        let expected = keys.map { HMAC.authenticate(message, key: $0, algorithm: .sha256) }
        await withTaskGroup(of: Bool.self) { group in
            for round in 0..<4 {
                group.addTask {
                    keys.indices.allSatisfy { index in
                        let key = keys[(index + round * 7) % keys.count]
                        return HMAC.sha256(message, key: key) == expected[(index + round * 7) % keys.count]
                    }
                }
            }
            for await matched in group { #expect(matched) }
        }
        #expect(V.hex(HMAC.sha256(V.utf8("what do ya want for nothing?"), key: V.utf8("Jefe")))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    // RFC 4231 §4.7: test case 6, a key longer than the block size is hashed first.
    @Test func hmacSHA256RFC4231Case6() {
        let mac = HMAC.sha256(V.utf8("Test Using Larger Than Block-Size Key - Hash Key First"), key: [UInt8](repeating: 0xaa, count: 131))
        #expect(V.hex(mac) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    // RFC 4231 §4.8: test case 7, key and data longer than the block size.
    @Test func hmacSHA256RFC4231Case7() {
        let data = "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."
        let mac = HMAC.sha256(V.utf8(data), key: [UInt8](repeating: 0xaa, count: 131))
        #expect(V.hex(mac) == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    }

    // RFC 2202 test case 1 (HMAC-SHA1) and RFC 4231 test case 1 (HMAC-SHA512), used by TOTP.
    @Test func hmacOtherAlgorithms() {
        let key = [UInt8](repeating: 0x0b, count: 20)
        #expect(V.hex(HMAC.authenticate(V.utf8("Hi There"), key: key, algorithm: .sha1)) == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(V.hex(HMAC.authenticate(V.utf8("Hi There"), key: key, algorithm: .sha512))
            == "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854")
        #expect(HMAC.authenticate(V.utf8("Hi There"), key: key) == HMAC.sha256(V.utf8("Hi There"), key: key))
    }

    /// An empty key and an empty message still give a full-length MAC (a NULL key pointer must
    /// not make libcrypto fail silently and return nothing).
    @Test func hmacWithEmptyKeyAndMessage() {
        #expect(V.hex(HMAC.sha256([], key: [])) == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad")
    }

    @Test func constantTimeEquality() {
        #expect(ConstantTime.equals([], []))
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([0, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(!ConstantTime.equals([], [0]))
    }

    @Test func secureRandomBytes() throws {
        #expect(try SecureRandom.bytes(0) == [])
        let a = try SecureRandom.bytes(32)
        let b = try SecureRandom.bytes(32)
        #expect(a.count == 32)
        #expect(b.count == 32)
        // 2^-256 chance of a false failure.
        #expect(a != b)
        #expect(try SecureRandom.bytes(1000).count == 1000)
    }
}
