import Foundation
import HavenCore
import Testing

@Suite struct ValidatorTests {
    @Test func textRules() {
        var check = Validator()
        check.text(nil, "optional")
        check.text(nil, "required", required: true)
        check.text("   ", "blank", required: true)
        check.text(String(repeating: "x", count: 11), "long", max: 10)
        check.text(String(repeating: "é", count: 10), "ten", max: 10)
        check.text("line\nbreak", "single")
        check.text("line\nbreak\tand tab\r\n", "multi", multiline: true)
        check.text("nul\u{0}", "nul", multiline: true)
        check.text("del\u{7F}", "del")
        #expect(check.errors == [
            FieldError("required", "is required"),
            FieldError("blank", "must not be empty"),
            FieldError("long", "must be at most 10 characters"),
            FieldError("single", "must not contain control characters"),
            FieldError("nul", "must not contain control characters"),
            FieldError("del", "must not contain control characters"),
        ])
        #expect(throws: ValidationFailure(check.errors)) { try check.finish() }
        #expect(throws: Never.self) { try Validator().finish() }
    }

    @Test func countryCodeRule() {
        var check = Validator()
        check.countryCode(nil, "optional")
        check.countryCode("MD", "good")
        check.countryCode("md", "lower")
        check.countryCode(nil, "required", required: true)
        #expect(check.errors.map(\.field) == ["lower", "required"])
    }

    @Test func organisationDraftNamesEveryBadField() {
        let draft = OrganisationDraft(name: "", type: .ngo, country: "Moldova", region: "r\u{1}")
        do {
            try draft.validate()
            Issue.record("an invalid draft passed")
        } catch let failure as ValidationFailure {
            #expect(Set(failure.errors.map(\.field)) == ["name", "country", "region"])
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: Never.self) { try OrganisationDraft(name: "Centre A", type: .shelter, country: "MD").validate() }
    }

    @Test func userDraftChecksUsernameAndPassword() {
        let org = UUID()
        do {
            try UserDraft(organisationId: org, role: .caseworker, username: "Ana", password: "short").validate()
            Issue.record("an invalid draft passed")
        } catch let failure as ValidationFailure {
            #expect(failure.errors.map(\.field) == ["username", "password"])
        } catch {
            Issue.record("unexpected error \(error)")
        }
        #expect(throws: Never.self) {
            try UserDraft(organisationId: org, role: .caseworker, username: "ana.p", password: "violet tractor lantern").validate()
        }
    }
}
