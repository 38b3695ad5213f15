import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Intake answers "possible duplicate" from a keyed blind index of the normalised name and
/// birth year: with the reference inside the caller's organisation, with nothing but a flag
/// for another organisation's case.
@Suite("Privacy: duplicates without disclosure")
struct PrivacyDuplicateTests {
    struct Someone {
        let given = "Ana" + PrivacyKit.letters(8)
        let family = "Ionescu" + PrivacyKit.letters(8)
        let tag = PrivacyKit.letters(12)
        var phone: String { "+373-555-\(tag)" }
        var address: String { "Strada \(tag) 9, Balti" }
        var document: String { "DOCZZ\(tag.uppercased())" }
        var email: String { "\(tag)@example.invalid" }

        func identity(given: String? = nil, family: String? = nil) -> [String: Any] {
            PrivacyKit.identity(given: given ?? self.given, family: family ?? self.family, phone: phone, address: address, document: document, email: email)
        }

        var values: [String] { [given, family, phone, address, document, email] }
    }

    static func duplicates(_ response: TestResponse) throws -> [String: Any]? {
        try response.json()["duplicates"] as? [String: Any]
    }

    /// No match the caller may know of (a caseworker is still told to ask a supervisor about others).
    static func noMatch(_ response: TestResponse) throws -> Bool {
        guard let hint = try duplicates(response) else { return true }
        return (hint["same_organisation"] as? [String] ?? []).isEmpty && hint["other_organisation"] as? Bool != true
    }

    /// Spelling variants of one name: case, accents, extra spaces and punctuation, and given
    /// and family name swapped.
    static func variants(_ given: String, _ family: String) -> [(given: String, family: String)] {
        func accent(_ text: String) -> String {
            String(text.map { c -> Character in
                switch c { case "a": return "á"; case "e": return "é"; case "i": return "î"; case "o": return "ö"; case "u": return "ü"; default: return c }
            })
        }
        return [
            (given.uppercased(), family.lowercased()),
            ("  \(accent(given))  ", accent(family)),
            (family, given),
            ("\(given.lowercased()).", "  \(family.uppercased()) "),
        ]
    }

    @Test("the same person in the same organisation: every spelling variant answers the first case's reference")
    func sameOrganisation() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let someone = Someone()
            let first = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, PrivacyKit.intake(identity: someone.identity(), birthYear: 1998))
            #expect(first.status == .created, "\(first.text)")
            #expect(try Self.noMatch(first), "a first intake has no duplicate: \(first.text)")
            let reference = try #require(try first.json()["reference"] as? String)
            for (given, family) in Self.variants(someone.given, someone.family) {
                let response = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token,
                                                      PrivacyKit.intake(identity: someone.identity(given: given, family: family), birthYear: 1998))
                #expect(response.status == .created, "\(response.text)")
                let hint = try #require(try Self.duplicates(response), "'\(given)' '\(family)' matches: \(response.text)")
                #expect((hint["same_organisation"] as? [String])?.contains(reference) == true, "\(given) \(family): \(hint)")
                #expect(hint["other_organisation"] as? Bool == false, "\(hint)")
            }
            // The case as read later carries no duplicate hint and the audit says only that there was one.
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.create' AND (detail::jsonb ->> 'possible_duplicate') = 'true'") == 4)
            for row in try CaseKit.auditTexts(app) { CaseKit.expectAbsent(someone.values, in: row, "audit row") }
        }
    }

    @Test("the same person in another organisation: only other_organisation = true, nothing of the other case in the answer")
    func otherOrganisation() async throws {
        try await TestApp.run { app, client in
            // Different countries, so the two organisations' references (numbered per organisation) differ.
            let orgA = try await app.organisation(country: "MD")
            let orgB = try await app.organisation(country: "RO")
            // Supervisors: only they learn of another organisation's cases (see PrivacyDuplicateHintTests).
            let first = try await CaseKit.member(app, client, .supervisor, in: orgA.id)
            let second = try await CaseKit.member(app, client, .supervisor, in: orgB.id)
            let someone = Someone()
            let original = try await CaseKit.call(client, .post, "/v1/cases", first.token,
                                                  PrivacyKit.intake(identity: someone.identity(), birthYear: 1990, note: "first note \(someone.tag)"))
            #expect(original.status == .created)
            let originalID = try CaseKit.id(original)
            let reference = try #require(try original.json()["reference"] as? String)

            // Organisation B knows the same person under another spelling, with other contact details.
            let other = Someone()
            var identity = other.identity(given: someone.given.uppercased(), family: " \(someone.family) ")
            identity["aliases"] = ["Alias\(other.tag)"]
            let response = try await CaseKit.call(client, .post, "/v1/cases", second.token, PrivacyKit.intake(identity: identity, birthYear: 1990))
            #expect(response.status == .created, "\(response.text)")
            let hint = try #require(try Self.duplicates(response), "\(response.text)")
            #expect(hint["other_organisation"] as? Bool == true, "\(hint)")
            #expect((hint["same_organisation"] as? [String] ?? []).isEmpty, "\(hint)")
            #expect(Set(hint.keys).isSubset(of: ["same_organisation", "other_organisation", "message"]), "the hint says nothing else: \(hint.keys)")
            // Nothing of organisation A's case anywhere in the answer, headers included.
            let leaks = [reference, originalID.uuidString, originalID.uuidString.lowercased(), orgA.id.uuidString, orgA.id.uuidString.lowercased(),
                         first.id.uuidString, first.id.uuidString.lowercased(), someone.phone, someone.address, someone.document, someone.email,
                         "first note \(someone.tag)"]
            CaseKit.expectAbsent(leaks, in: response.text, "intake answer in organisation B")
            let headers = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
            CaseKit.expectAbsent(leaks, in: headers, "intake headers in organisation B")
            // B still cannot open A's case.
            let probe = try await CaseKit.call(client, .get, "/v1/cases/\(originalID.uuidString)", second.token)
            #expect(probe.status == .notFound)
            // And A, intaking the person again, sees its own reference and learns that B has one too.
            let back = try await CaseKit.call(client, .post, "/v1/cases", first.token, PrivacyKit.intake(identity: someone.identity(), birthYear: 1990))
            let backHint = try #require(try Self.duplicates(back), "\(back.text)")
            #expect(backHint["same_organisation"] as? [String] == [reference])
            #expect(backHint["other_organisation"] as? Bool == true)
            CaseKit.expectAbsent([try CaseKit.id(response).uuidString, try #require(try response.json()["reference"] as? String)], in: back.text, "A's answer")
        }
    }

    @Test("another birth year, another name, or no name: no duplicate")
    func noDuplicate() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let someone = Someone()
            let first = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, PrivacyKit.intake(identity: someone.identity(), birthYear: 1998))
            #expect(first.status == .created)
            let otherYear = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, PrivacyKit.intake(identity: someone.identity(), birthYear: 1997))
            #expect(otherYear.status == .created)
            #expect(try Self.noMatch(otherYear), "another birth year: \(otherYear.text)")
            let otherName = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token,
                                                   PrivacyKit.intake(identity: someone.identity(given: someone.given + "x"), birthYear: 1998))
            #expect(try Self.noMatch(otherName), "another given name: \(otherName.text)")
            let anonymous = try await CaseKit.call(client, .post, "/v1/cases", caseworker.token, PrivacyKit.intake(identity: nil, birthYear: 1998))
            #expect(anonymous.status == .created, "\(anonymous.text)")
            #expect(try Self.duplicates(anonymous) == nil)
        }
    }

    @Test("an erased case is no longer a duplicate: its blind index goes with its identity")
    func erasedIsForgotten() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let someone = Someone()
            let first = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, PrivacyKit.intake(identity: someone.identity()))
            let firstID = try CaseKit.id(first)
            let erase = try await CaseKit.call(client, .post, "/v1/cases/\(firstID.uuidString)/erase", supervisor.token, ["reason": "subject-request"],
                                               headers: ["X-Reauthenticate": "password \(supervisor.user.password)"])
            #expect(erase.status == .ok, "\(erase.text)")
            #expect(try CaseKit.count(app, "case_file", where: "id = $1 AND blind_index IS NULL", [firstID]) == 1)
            let again = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, PrivacyKit.intake(identity: someone.identity()))
            #expect(again.status == .created)
            #expect(try Self.duplicates(again) == nil, "\(again.text)")
        }
    }
}
