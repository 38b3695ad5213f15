import HavenCore
import Testing

@Suite struct PasswordPolicyTests {
    @Test func lengthBounds() {
        #expect(PasswordPolicy.minimumLength == 12)
        #expect(PasswordPolicy.maximumLength == 256)
        #expect(PasswordPolicy.violation("Kx7#mQ2!vLp", username: "ana") != nil)  // 11
        #expect(PasswordPolicy.violation("Kx7#mQ2!vLp9", username: "ana") == nil)  // 12
        #expect(PasswordPolicy.violation("", username: "ana") != nil)
        let longest = String(repeating: "Kx7#mQ2!", count: 32)  // 256
        #expect(PasswordPolicy.violation(longest, username: "ana") == nil)
        #expect(PasswordPolicy.violation(longest + "z", username: "ana") != nil)
    }

    @Test func lengthCountsCharactersNotBytes() {
        // Twelve characters, many more bytes.
        let password = "ăîșțâĂÎȘȚÂ🔐é"
        #expect(password.count == 12)
        #expect(PasswordPolicy.violation(password, username: "ana") == nil)
        #expect(PasswordPolicy.violation(String(password.dropLast()), username: "ana") != nil)
    }

    @Test func rejectsPasswordsContainingTheUsername() {
        #expect(PasswordPolicy.violation("xx-maria.s-2026", username: "maria.s") == "must not contain the username")
        #expect(PasswordPolicy.violation("xx-MARIA.S-2026", username: "maria.s") == "must not contain the username")
        #expect(PasswordPolicy.violation("caseworker.ana7", username: "caseworker.ana7") == "must not contain the username")
        // Short usernames are too likely to occur by chance: only equality counts.
        #expect(PasswordPolicy.violation("bobcat-river-92", username: "bob") == nil)
        #expect(PasswordPolicy.violation("bobcat-river-92", username: "bobc") == "must not contain the username")
    }

    @Test(arguments: ["password1234", "Password1234", "PASSWORD1234", "qwerty123456", "123456789012", "haven1234567", "changeme1234", "P@ssw0rd1234"])
    func rejectsCommonPasswordsInAnyCase(_ password: String) {
        #expect(PasswordPolicy.violation(password, username: "someone") == "is too common")
    }

    @Test func rejectsTooFewDistinctCharacters() {
        #expect(PasswordPolicy.violation("abababababab", username: "someone") != nil)
        #expect(PasswordPolicy.violation("abcabcabcabc", username: "someone") != nil)
        #expect(PasswordPolicy.violation("abcdabcdabcd", username: "someone") == nil)
    }

    @Test func acceptsAReasonablePassphrase() {
        #expect(PasswordPolicy.violation("violet tractor lantern", username: "ana.popescu") == nil)
    }
}

@Suite struct UsernameRuleTests {
    @Test(arguments: ["ana", "ana.popescu", "cw_01", "x-y", "0abc", String(repeating: "a", count: 64)])
    func acceptsValidUsernames(_ username: String) {
        #expect(Username.violation(username) == nil)
    }

    @Test(arguments: [
        "", "ab", String(repeating: "a", count: 65),  // length
        "Ana", "ANA.P",  // upper case
        ".ana", "_ana", "-ana",  // leading punctuation
        "ana popescu", "ana@example.org", "ana/p", "ana+1", "ana\n",  // other characters
        "ană", "анна",  // non-ASCII
    ])
    func rejectsInvalidUsernames(_ username: String) {
        #expect(Username.violation(username) != nil)
    }

    @Test func lengthIsCountedInBytes() {
        #expect(Username.violation("abc") == nil)
        #expect(Username.violation("ab") == "must be 3-64 characters")
        #expect(Username.violation("ăb") != nil)  // three bytes but not ASCII
    }
}
