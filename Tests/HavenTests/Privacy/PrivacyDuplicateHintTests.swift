import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// The duplicate hint must not tell anyone who is registered where (issue 25): typed freely at
/// intake, a name and birth year would say whether another organisation has the person. Only
/// supervisors learn that, a few times an hour, each time recorded as `duplicate.hint`; a
/// caseworker gets the same answer whatever other organisations hold, told to ask a supervisor,
/// and still learns of their own organisation's cases.
@Suite("Privacy: the cross-organisation duplicate hint")
struct PrivacyDuplicateHintTests {
    typealias Someone = PrivacyDuplicateTests.Someone

    static func hint(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(response.status == .created || response.status == .ok, "\(response.text)", sourceLocation: sourceLocation)
        return try #require(try response.json()["duplicates"] as? [String: Any], "\(response.text)", sourceLocation: sourceLocation)
    }

    /// Logs in through the console a user who already used this step's TOTP code for the API
    /// (a step is good once; the next is accepted as clock drift).
    static func consoleLogin(_ client: any TestClientProtocol, _ user: TestApp.TestUser) async throws -> ConsoleKit.Browser {
        for offset: Int64 in [0, 1, 2] {
            var fields = ["username": user.user.username, "password": user.password]
            if let code = TestApp.totp(user, offset: offset) { fields["totp"] = code }
            let response = try await ConsoleKit.post(client, "/login", fields)
            guard response.status == .seeOther, let setCookie = response.headers[.setCookie] else { continue }
            let cookie = String(setCookie.split(separator: ";")[0])
            let page = try await ConsoleKit.get(client, "/worklist", cookie: cookie)
            return ConsoleKit.Browser(cookie: cookie, formToken: try #require(ConsoleKit.formToken(page.text), "no form token"))
        }
        throw TestFailure("console login failed for \(user.user.username)")
    }

    @Test("the policy: supervisors learn of other organisations, everyone else of their own")
    func policy() {
        for role in Role.allCases {
            let actor = Actor(userID: UUID(), organisationID: UUID(), role: role)
            #expect(AccessPolicy.duplicateHintReach(actor) == (role == .supervisor ? .everyOrganisation : .ownOrganisation), "\(role)")
        }
    }

    @Test("a caseworker gets the same answer whether or not another organisation has the person, told to ask a supervisor; a supervisor learns it, audited")
    func caseworkerAsksSupervisor() async throws {
        try await TestApp.run { app, client in
            let orgA = try await app.organisation(country: "MD")
            let orgB = try await app.organisation(country: "RO")
            let caseworkerA = try await CaseKit.member(app, client, .caseworker, in: orgA.id)
            let caseworkerB = try await CaseKit.member(app, client, .caseworker, in: orgB.id)
            let supervisorB = try await CaseKit.member(app, client, .supervisor, in: orgB.id)
            let known = Someone(), unknown = Someone()
            _ = try await CaseKit.createCase(client, caseworkerA, PrivacyKit.intake(identity: known.identity(), birthYear: 1990))

            // Registered in A, and registered nowhere: B's caseworker cannot tell the two apart.
            let knownHint = try Self.hint(try await CaseKit.call(client, .post, "/v1/cases", caseworkerB.token,
                                                                  PrivacyKit.intake(identity: known.identity(), birthYear: 1990)))
            let unknownHint = try Self.hint(try await CaseKit.call(client, .post, "/v1/cases", caseworkerB.token,
                                                                    PrivacyKit.intake(identity: unknown.identity(), birthYear: 1990)))
            for hint in [knownHint, unknownHint] {
                #expect(hint["other_organisation"] == nil, "\(hint)")
                #expect(hint["ask_supervisor"] as? Bool == true, "\(hint)")
                #expect((hint["same_organisation"] as? [String])?.isEmpty == true, "\(hint)")
            }
            #expect(Set(knownHint.keys) == Set(unknownHint.keys))
            #expect(try PrivacyKit.auditCount(app, subtype: "duplicate.hint", actor: caseworkerB.id) == 0)
            // Nor does the case's own history tell: only its organisation's matches count there.
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.create' AND actor_user = $1 AND (detail::jsonb ->> 'possible_duplicate') = 'true'",
                                      [caseworkerB.id]) == 0)

            // Their own organisation's case is still named to them.
            let again = try await CaseKit.call(client, .post, "/v1/cases", caseworkerB.token, PrivacyKit.intake(identity: known.identity(), birthYear: 1990))
            let ownHint = try Self.hint(again)
            #expect((ownHint["same_organisation"] as? [String])?.count == 1, "\(ownHint)")
            #expect(ownHint["other_organisation"] == nil && ownHint["ask_supervisor"] as? Bool == true, "\(ownHint)")

            // Changing a case's name to the known person's tells them no more.
            let other = Someone()
            let created = try await CaseKit.call(client, .post, "/v1/cases", caseworkerB.token, PrivacyKit.intake(identity: other.identity(), birthYear: 1985))
            let changed = try await CaseKit.call(client, .patch, "/v1/cases/\(try CaseKit.id(created).uuidString)", caseworkerB.token,
                                                 ["person": ["identity": known.identity(), "birth_year": 1990] as [String: Any]],
                                                 headers: ["If-Match": created.headers[.eTag] ?? ""])
            let changedHint = try Self.hint(changed)
            #expect(changedHint["other_organisation"] == nil && changedHint["ask_supervisor"] as? Bool == true, "\(changedHint)")

            // Their supervisor learns that another organisation has the person, and the trail says so without a name.
            let supervised = try Self.hint(try await CaseKit.call(client, .post, "/v1/cases", supervisorB.token,
                                                                   PrivacyKit.intake(identity: known.identity(), birthYear: 1990)))
            #expect(supervised["other_organisation"] as? Bool == true, "\(supervised)")
            #expect(supervised["ask_supervisor"] == nil, "\(supervised)")
            let events = try CaseKit.ownerRows(app, "SELECT action, detail FROM audit_event WHERE subtype = 'duplicate.hint' AND actor_user = $1",
                                               [supervisorB.id])
            #expect(events.count == 1, "\(events)")
            #expect(events.first?[0] == "R")
            let detail = events.first?[1] ?? ""
            #expect(detail.contains("\"other_organisation\":true"), "\(detail)")
            CaseKit.expectAbsent(known.values + [known.given.lowercased(), known.family.lowercased(), "1990"], in: detail, "duplicate.hint detail")
        }
    }

    @Test("past the hourly limit a supervisor's check is refused 429 with Retry-After and nothing is saved; the console says so in the user's language")
    func supervisorsAreRateLimited() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            for _ in 0..<DuplicateHintLimit.perHour {
                _ = try await CaseKit.createCase(client, supervisor, PrivacyKit.intake(identity: Someone().identity(), birthYear: 1992))
            }
            #expect(try PrivacyKit.auditCount(app, subtype: "duplicate.hint", actor: supervisor.id) == DuplicateHintLimit.perHour)
            let cases = try CaseKit.count(app, "case_file")
            let refused = try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, PrivacyKit.intake(identity: Someone().identity(), birthYear: 1992))
            CaseKit.expectProblem(refused, .tooManyRequests)
            #expect(PrivacyKit.problemType(refused) == "/problems/rate-limited", "\(refused.text)")
            let wait = Int(refused.headers[.retryAfter] ?? "") ?? 0
            #expect((1...3600).contains(wait), "Retry-After \(refused.headers[.retryAfter] ?? "none")")
            #expect(try CaseKit.count(app, "case_file") == cases, "nothing saved")
            #expect(try PrivacyKit.auditCount(app, subtype: "duplicate.hint", actor: supervisor.id) == DuplicateHintLimit.perHour)
            // Without a name nothing is looked up, so nothing is held back; a caseworker's own-organisation hint is not limited.
            _ = try await CaseKit.createCase(client, supervisor, PrivacyKit.intake(identity: nil, birthYear: 1992))
            _ = try await CaseKit.createCase(client, caseworker, PrivacyKit.intake(identity: Someone().identity(), birthYear: 1992))

            // The console keeps what was typed and says why, in Romanian here.
            let browser = try await Self.consoleLogin(client, supervisor.user)
            let someone = Someone()
            let page = try await ConsoleKit.post(client, "/cases", [
                "csrf": browser.formToken, "idempotency_key": "limited-\(someone.tag)", "case_type": "trafficking",
                "identification_status": "presumed", "identified_by": "hotline", "identified_on": CaseKit.daysAgo(3), "risk_level": "high",
                "person.identity.given_name": someone.given, "person.identity.family_name": someone.family, "person.sex": "female",
                "person.birth_year": "1992", "trafficking.exploitation_types": "forced_labour",
            ], cookie: browser.cookie + "; haven_lang=ro")
            #expect(page.status == .tooManyRequests, "\(page.status) \(page.text.prefix(300))")
            #expect(page.text.contains("id=\"person_identity_given_name-error\""), "\(page.text.prefix(2000))")
            #expect(page.text.contains("Ați verificat"), "message in Romanian")
            #expect(page.text.contains("value=\"\(someone.given)\""), "input kept")
        }
    }

    @Test("the console's intake form tells a caseworker, in their language, to ask their supervisor; a supervisor's does not")
    func consoleTellsCaseworkers() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await app.user(.caseworker, in: org.id)
            let supervisor = try await app.user(.supervisor, in: org.id)
            let caseworkerBrowser = try await ConsoleKit.login(client, caseworker)
            let form = try await ConsoleKit.get(client, "/cases/new", cookie: caseworkerBrowser.cookie + "; haven_lang=uk")
            #expect(form.status == .ok)
            #expect(form.text.contains("id=\"duplicates-hint\""), "\(form.text.prefix(2000))")
            #expect(form.text.contains("зверніться до свого"), "in Ukrainian")
            let supervisorBrowser = try await ConsoleKit.login(client, supervisor)
            let supervisorForm = try await ConsoleKit.get(client, "/cases/new", cookie: supervisorBrowser.cookie)
            #expect(supervisorForm.status == .ok)
            #expect(!supervisorForm.text.contains("id=\"duplicates-hint\""))
        }
    }
}
