import Foundation
import HavenCore
import Testing

/// The plain rules of email notifications: which addresses a relay may be handed, and how a
/// subject outside ASCII is written.
@Suite struct NotificationEmailRuleTests {
    @Test(arguments: ["a@example.org", "first.last+haven@mail.example.co.uk", "x@y.md"])
    func addressesThatAreAccepted(address: String) {
        #expect(EmailAddress.problem(address) == nil)
    }

    @Test(arguments: ["", "no-at-sign", "two@@example.org", "a@b@example.org", "a@localhost", "a b@example.org",
                      "a@example.org\r\nBcc: x@example.org", "<a@example.org>", "a@example.org,b@example.org", ".a@example.org",
                      "a..b@example.org", "a@-example.org", String(repeating: "l", count: 65) + "@example.org"])
    func addressesThatAreRefused(address: String) {
        #expect(EmailAddress.problem(address) != nil)
    }

    @Test func everyBadFieldIsNamed() {
        #expect(throws: ValidationFailure([FieldError("address", "must be an email address such as name@example.org"),
                                           FieldError("kinds", "must be some of: " + NotificationKind.allCases.map(\.rawValue).joined(separator: ", "))])) {
            try NotificationEmailChoice.checked(address: "nobody", kinds: ["referral.arrived", "case.vanished"])
        }
        #expect(throws: Never.self) { try NotificationEmailChoice.checked(address: " a@example.org ", kinds: ["need.overdue"]) }
    }

    @Test func aSubjectOutsideASCIIIsEncodedWordsThatDecodeBack() throws {
        let subject = "Haven: Надійшло нове направлення, терміново — перевірте сьогодні"
        let encoded = NotificationMail.encodedWord(subject)
        let words = encoded.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="))
            #expect(word.utf8.count <= 75)
            let payload = try #require(Data(base64Encoded: String(word.dropFirst(10).dropLast(2))))
            decoded += try #require(String(data: payload, encoding: .utf8), "a word was split inside a character")
        }
        #expect(decoded == subject)
        #expect(NotificationMail.encodedWord("Haven: a referral arrived") == "Haven: a referral arrived")
    }

    @Test func theDateIsRFC5322() {
        #expect(NotificationMail.rfc5322Date(Date(timeIntervalSince1970: 1_796_650_452)) == "Mon, 07 Dec 2026 13:34:12 +0000")
    }
}
