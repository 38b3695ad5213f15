import Sealing
import Testing

@Suite struct KeyDerivationTests {
    typealias V = SealingTestVectors

    // RFC 7914 §11, first vector.
    @Test func pbkdf2SHA256PasswdSaltOneIteration() throws {
        let key = try KeyDerivation.pbkdf2SHA256(password: V.utf8("passwd"), salt: V.utf8("salt"), iterations: 1, length: 64)
        #expect(key == V.bytes("""
            55 ac 04 6e 56 e3 08 9f ec 16 91 c2 25 44 b6 05 f9 41 85 21 6d de 04 65 e6 8b 9d 57 c2 0d ac bc
            49 ca 9c cc f1 79 b6 45 99 16 64 b3 9d 77 ef 31 7c 71 b8 45 b1 e3 0b d5 09 11 20 41 d3 a1 97 83
            """))
    }

    // RFC 7914 §11, second vector (80 000 iterations: the slowest test here, still well under a second).
    @Test func pbkdf2SHA256PasswordNaCl80000Iterations() throws {
        let key = try KeyDerivation.pbkdf2SHA256(password: V.utf8("Password"), salt: V.utf8("NaCl"), iterations: 80000, length: 64)
        #expect(key == V.bytes("""
            4d dc d8 f6 0b 98 be 21 83 0c ee 5e f2 27 01 f9 64 1a 44 18 d0 4c 04 14 ae ff 08 87 6b 34 ab 56
            a1 d4 25 a1 22 58 33 54 9a db 84 1b 51 c9 b3 17 6a 27 2b de bb a1 d0 78 47 8f 62 b3 97 f3 3c 8d
            """))
    }

    @Test func pbkdf2OutputLengthAndPrefixProperty() throws {
        let long = try KeyDerivation.pbkdf2SHA256(password: V.utf8("passwd"), salt: V.utf8("salt"), iterations: 1, length: 64)
        let short = try KeyDerivation.pbkdf2SHA256(password: V.utf8("passwd"), salt: V.utf8("salt"), iterations: 1, length: 20)
        #expect(short.count == 20)
        #expect(Array(long.prefix(20)) == short)
        let otherSalt = try KeyDerivation.pbkdf2SHA256(password: V.utf8("passwd"), salt: V.utf8("salT"), iterations: 1, length: 20)
        #expect(otherSalt != short)
    }

    // RFC 7914 §12, first vector: empty password and salt.
    @Test func scryptEmptyPasswordAndSalt() throws {
        let key = try KeyDerivation.scrypt(password: [], salt: [], parameters: .init(n: 16, r: 1, p: 1), length: 64)
        #expect(key == V.bytes("""
            77 d6 57 62 38 65 7b 20 3b 19 ca 42 c1 8a 04 97 f1 6b 48 44 e3 07 4a e8 df df fa 3f ed e2 14 42
            fc d0 06 9d ed 09 48 f8 32 6a 75 3a 0f c8 1f 17 e8 d3 e0 fb 2e 0d 36 28 cf 35 e2 0c 38 d1 89 06
            """))
    }

    // RFC 7914 §12, second vector.
    @Test func scryptPasswordNaCl() throws {
        let key = try KeyDerivation.scrypt(password: V.utf8("password"), salt: V.utf8("NaCl"), parameters: .init(n: 1024, r: 8, p: 16), length: 64)
        #expect(key == V.bytes("""
            fd ba be 1c 9d 34 72 00 78 56 e7 19 0d 01 e9 fe 7c 6a d7 cb c8 23 78 30 e7 73 76 63 4b 37 31 62
            2e af 30 d9 2e 22 a3 88 6f f1 09 27 9d 98 30 da c7 27 af b9 4a 83 ee 6d 83 60 cb df a2 cc 06 40
            """))
    }

    // RFC 7914 §12, third vector, at the cost PasswordHasher uses by default (N = 2^14, r = 8):
    // shows the explicit maxmem is large enough for it.
    @Test func scryptPleaseLetMeIn() throws {
        let key = try KeyDerivation.scrypt(password: V.utf8("pleaseletmein"), salt: V.utf8("SodiumChloride"), parameters: .init(n: 16384, r: 8, p: 1), length: 64)
        #expect(key == V.bytes("""
            70 23 bd cb 3a fd 73 48 46 1c 06 cd 81 fd 38 eb fd a8 fb ba 90 4f 8e 3e a9 b5 43 f6 54 5d a1 f2
            d5 43 29 55 61 3f 0f cf 62 d4 97 05 24 2a 9a f9 e6 1e 85 dc 0d 65 1e 40 df cf 01 7b 45 57 58 87
            """))
    }

    @Test func scryptDefaultHasherParametersFitTheMemoryLimit() throws {
        let key = try KeyDerivation.scrypt(password: V.utf8("x"), salt: V.utf8("y"), parameters: PasswordHasher.defaultParameters, length: 32)
        #expect(key.count == 32)
    }

    @Test func scryptRejectsInvalidParameters() {
        // N must be a power of two greater than 1.
        #expect(throws: SealingError.self) {
            try KeyDerivation.scrypt(password: V.utf8("p"), salt: V.utf8("s"), parameters: .init(n: 1000, r: 8, p: 1), length: 32)
        }
    }
}
