import Sealing
import Testing

@Suite struct PasswordHasherTests {
    /// Cheap parameters so the suite stays fast; the stored hash records them.
    static let cheap = KeyDerivation.ScryptParameters(n: 1024, r: 8, p: 1)

    static func withHasher<T>(_ parameters: KeyDerivation.ScryptParameters = cheap, _ body: (PasswordHasher) async throws -> T) async throws -> T {
        let hasher = PasswordHasher(parameters: parameters, threads: 2)
        do {
            let value = try await body(hasher)
            await hasher.shutdown()
            return value
        } catch {
            await hasher.shutdown()
            throw error
        }
    }

    @Test func hashThenVerify() async throws {
        try await Self.withHasher { hasher in
            let stored = try await hasher.hash("correct horse battery staple")
            let right = try await hasher.verify("correct horse battery staple", against: stored)
            let oneCharacterMore = try await hasher.verify("correct horse battery stapler", against: stored)
            let otherCase = try await hasher.verify("Correct horse battery staple", against: stored)
            let empty = try await hasher.verify("", against: stored)
            #expect(right)
            #expect(!oneCharacterMore)
            #expect(!otherCase)
            #expect(!empty)
        }
    }

    @Test func storedFormRecordsParametersAndSalts() async throws {
        try await Self.withHasher { hasher in
            let a = try await hasher.hash("same password 1")
            let b = try await hasher.hash("same password 1")
            let parts = a.split(separator: "$", omittingEmptySubsequences: false)
            #expect(parts.count == 6)
            #expect(parts.prefix(4) == ["scrypt", "10", "8", "1"])
            #expect(parts[4].utf8.count == 32)  // 16-byte salt in hex
            #expect(parts[5].utf8.count == 64)  // 32-byte hash in hex
            #expect(a != b)  // a fresh salt each time
            let verifiesB = try await hasher.verify("same password 1", against: b)
            #expect(verifiesB)
            // The password does not appear in the stored form.
            #expect(!a.contains("same password"))
        }
    }

    @Test func unicodePasswordsVerify() async throws {
        try await Self.withHasher { hasher in
            let password = "parolă-sigură-🔐-ÅΩ"
            let stored = try await hasher.hash(password)
            let right = try await hasher.verify(password, against: stored)
            let withoutDiacritics = try await hasher.verify("parola-sigura-🔐-ÅΩ", against: stored)
            #expect(right)
            #expect(!withoutDiacritics)
        }
    }

    @Test func verifyUsesTheParametersOfTheStoredHash() async throws {
        let stored = try PasswordHasher.hashNow("rotate me please", parameters: .init(n: 2048, r: 4, p: 2))
        #expect(stored.hasPrefix("scrypt$11$4$2$"))
        // A hasher configured differently still verifies it.
        try await Self.withHasher(.init(n: 1024, r: 8, p: 1)) { hasher in
            let right = try await hasher.verify("rotate me please", against: stored)
            let wrong = try await hasher.verify("rotate me please!", against: stored)
            #expect(right)
            #expect(!wrong)
        }
    }

    @Test func malformedStoredHashesVerifyFalse() async throws {
        let good = try PasswordHasher.hashNow("pw-under-test", parameters: Self.cheap)
        let parts = good.split(separator: "$", omittingEmptySubsequences: false).map(String.init)
        func replacing(_ index: Int, with value: String) -> String {
            var copy = parts
            copy[index] = value
            return copy.joined(separator: "$")
        }
        let malformed: [String?] = [
            nil, "", "scrypt", "scrypt$", "scrypt$$$$$",
            "bcrypt$10$8$1$" + parts[4] + "$" + parts[5],
            replacing(1, with: "0"),  // N = 1
            replacing(1, with: "40"),  // absurd cost
            replacing(1, with: "x"),
            replacing(2, with: "0"),
            replacing(3, with: "0"),
            replacing(4, with: "zz"),
            replacing(5, with: String(parts[5].prefix(30))),  // hash shorter than 16 bytes
            replacing(5, with: parts[5] + "0"),  // odd hex
            good + "$extra",
            good.uppercased(),
        ]
        try await Self.withHasher { hasher in
            let control = try await hasher.verify("pw-under-test", against: good)
            #expect(control)
            for stored in malformed {
                let verified = try await hasher.verify("pw-under-test", against: stored)
                #expect(!verified, "\(stored ?? "nil")")
            }
        }
    }

    @Test func defaultParametersAreOWASPScrypt() {
        #expect(PasswordHasher.defaultParameters == KeyDerivation.ScryptParameters(n: 16384, r: 8, p: 5))
    }
}
