import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Mandates say whom an organisation serves: a 15-year-old boy is not referred to a women-only
/// adult shelter (409 with organisations that do serve him), matching leaves such shelters out,
/// and after an outside-mandate rejection the sender sees where else to turn.
@Suite("Cases: populations an organisation serves")
struct CasesReferralPopulationTests {
    struct Scene {
        var caseworker: CaseKit.Member
        var women: Organisation
        var otherWomen: Organisation
        var children: Organisation
        var everyone: Organisation
        var caseID: UUID
        var needID: UUID
        var consentID: UUID
    }

    static func shelter(_ app: TestApp, _ name: String, _ populations: [Population]) async throws -> Organisation {
        let draft = OrganisationDraft(name: "\(name) \(UUID().uuidString.prefix(6))", type: .shelter, country: "MD",
                                      mandate: Mandate(serviceTypes: [.safeAccommodation], populations: populations))
        return try await app.store.transaction(.system) { try OrganisationStore.create(draft, on: $0.connection) }
    }

    /// A boy of 15 (born on 1 January), with a guardian's consent to share with every shelter.
    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let ngo = try await app.organisation("Sender NGO \(UUID().uuidString.prefix(6))", services: [.counselling])
        let women = try await shelter(app, "Women Shelter", [.female, .adult])
        let otherWomen = try await shelter(app, "Another Women Shelter", [.female])
        let children = try await shelter(app, "Children Shelter", [.child])
        let everyone = try await shelter(app, "Open Shelter", [])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: ngo.id)
        let person = CaseKit.Person()
        var body = CaseKit.intake(person)
        var profile = body["person"] as? [String: Any] ?? [:]
        var identity = person.identity
        identity["date_of_birth"] = "\(CaseKit.thisYear - 15)-01-01"
        profile["identity"] = identity
        profile["birth_year"] = CaseKit.thisYear - 15
        profile["sex"] = "male"
        body["person"] = profile
        let caseID = try await CaseKit.createCase(client, caseworker, body).id
        let needID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/needs",
                                              ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
        var consent = CaseKit.consent(to: [women.id, otherWomen.id, children.id, everyone.id], categories: ["profile", "needs"])
        consent["grantor"] = "guardian"
        let consentID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(caseID.uuidString)/consents", consent)
        return Scene(caseworker: caseworker, women: women, otherWomen: otherWomen, children: children, everyone: everyone,
                     caseID: caseID, needID: needID, consentID: consentID)
    }

    static func refer(_ client: any TestClientProtocol, _ scene: Scene, to organisation: UUID) async throws -> TestResponse {
        try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
            "to_organisation": organisation.uuidString, "need_id": scene.needID.uuidString, "consent_id": scene.consentID.uuidString,
            "shared_categories": ["profile", "needs"],
        ] as [String: Any])
    }

    @Test func aBoyOf15IsNotReferredToAWomensAdultShelterAndIsToldWhoServesHim() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let refused = try await Self.refer(client, scene, to: scene.women.id)
            CaseKit.expectProblem(refused, .conflict, field: "to_organisation")
            let body = try refused.json()
            #expect((body["unserved_populations"] as? [String]).map(Set.init) == ["child", "male"], "\(refused.text)")
            let suggested = Set((body["organisations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.map { $0.lowercased() })
            #expect(suggested.contains(scene.children.id.uuidString.lowercased()), "\(refused.text)")
            #expect(suggested.contains(scene.everyone.id.uuidString.lowercased()), "\(refused.text)")
            #expect(!suggested.contains(scene.women.id.uuidString.lowercased()) && !suggested.contains(scene.otherWomen.id.uuidString.lowercased()))
            #expect(try CaseKit.count(app, "referral") == 0)

            let sent = try await Self.refer(client, scene, to: scene.children.id)
            #expect(sent.status == .created, "\(sent.text)")
        }
    }

    @Test func matchingLeavesOutMandatesThatDoNotServeThePerson() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let matched = try await CaseKit.call(client, .get, "/v1/organisations/match?service_type=safe_accommodation&population=child,male",
                                                 scene.caseworker.token)
            #expect(matched.status == .ok, "\(matched.text)")
            let ids = Set(try CaseKit.ids(matched))
            #expect(ids == [scene.children.id, scene.everyone.id], "\(matched.text)")
            let girls = Set(try CaseKit.ids(try await CaseKit.call(client, .get,
                "/v1/organisations/match?service_type=safe_accommodation&population=child,female", scene.caseworker.token)))
            #expect(girls == [scene.otherWomen.id, scene.children.id, scene.everyone.id])
            let bad = try await CaseKit.call(client, .get, "/v1/organisations/match?service_type=safe_accommodation&population=child,adult",
                                             scene.caseworker.token)
            CaseKit.expectProblem(bad, .badRequest, field: "population")
        }
    }

    @Test func afterAnOutsideMandateRejectionTheSenderSeesWhoElseServesThePerson() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let partner = try await CaseKit.member(app, client, .partner, in: scene.everyone.id)
            let referral = try CaseKit.id(try await Self.refer(client, scene, to: scene.everyone.id))
            let rejected = try await CaseKit.transition(client, partner.token, referral, ["to": "rejected", "reason": "outside-mandate"])
            #expect(rejected.status == .ok, "\(rejected.text)")

            let read = try await CaseKit.call(client, .get, "/v1/referrals/\(referral.uuidString)", scene.caseworker.token)
            let covering = (try read.json()["covering_organisations"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }.map { $0.lowercased() }
            #expect(covering == [scene.children.id.uuidString.lowercased()], "\(read.text)")

            let browser = try await ConsoleKit.login(client, scene.caseworker.user)
            let page = try await ConsoleKit.get(client, "/referrals/\(referral.uuidString.lowercased())", cookie: browser.cookie)
            #expect(page.status == .ok)
            #expect(page.text.contains("id=\"covering\""), "\(page.text.prefix(300))")
            #expect(page.text.contains(scene.children.name))
            #expect(!page.text.contains(scene.women.name))
        }
    }

    @Test func anAdministratorSetsWhomAnOrganisationServesOnItsMandateInTheConsole() async throws {
        try await TestApp.run { app, client in
            let home = try await app.organisation("Synthetic Ministry \(UUID().uuidString.prefix(6))", type: .government)
            let shelter = try await Self.shelter(app, "Open Shelter", [])
            let admin = try await app.user(.admin, in: home.id)
            let browser = try await ConsoleKit.login(client, admin)
            let id = shelter.id.uuidString.lowercased()
            let form = "csrf=\(browser.formToken)&mandate=1&active=1&service_types=safe_accommodation&populations=female&populations=adult&accepts_referrals=1"
            let saved = try await client.executeRequest(uri: "/organisations/\(id)", method: .post,
                                                        headers: [.contentType: "application/x-www-form-urlencoded", .cookie: browser.cookie],
                                                        body: .init(string: form))
            #expect(saved.status == .seeOther, "\(saved.text.prefix(300))")
            let stored = try CaseKit.ownerRows(app, "SELECT array_to_string(populations, ',') FROM organisation WHERE id = $1", [shelter.id])
            #expect(stored.first?.first.flatMap { $0 }.map { Set($0.split(separator: ",").map(String.init)) } == ["female", "adult"])
            let page = try await ConsoleKit.get(client, "/organisations", cookie: browser.cookie, headers: ["Accept-Language": "uk"])
            #expect(page.text.contains("id=\"\(id)-population-female\" name=\"populations\" value=\"female\" checked"), "\(page.text.prefix(300))")
            #expect(page.text.contains("Жінки та дівчата"))
        }
    }

    @Test func theConsolesReferFormOffersOnlyOrganisationsThatServeThePersonAndSaysWhyInTheUsersLanguage() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let browser = try await ConsoleKit.login(client, scene.caseworker.user)
            let caseID = scene.caseID.uuidString.lowercased()
            let page = try await ConsoleKit.get(client, "/cases/\(caseID)/referrals/new?need=\(scene.needID.uuidString.lowercased())", cookie: browser.cookie)
            #expect(page.status == .ok)
            // The consent's recipients are listed by name elsewhere on the page: the offer is the radio buttons.
            let offered = { (organisation: Organisation) in page.text.contains("id=\"org-\(organisation.id.uuidString.lowercased())\"") }
            #expect(offered(scene.children) && offered(scene.everyone))
            #expect(!offered(scene.women) && !offered(scene.otherWomen))

            let form = "csrf=\(browser.formToken)&idempotency_key=referral-boy&need_id=\(scene.needID.uuidString.lowercased())"
                + "&to_organisation=\(scene.women.id.uuidString.lowercased())&consent_id=\(scene.consentID.uuidString.lowercased())"
                + "&shared_categories=needs&confirm=yes"
            let refused = try await client.executeRequest(uri: "/cases/\(caseID)/referrals", method: .post,
                                                          headers: [.contentType: "application/x-www-form-urlencoded", .cookie: browser.cookie,
                                                                    .acceptLanguage: "ru"], body: .init(string: form))
            #expect(refused.status == .conflict)
            #expect(refused.text.contains("id=\"to_organisation-error\""))
            #expect(refused.text.contains("не обслуживает этого человека"), "\(refused.text.prefix(300))")
            #expect(try CaseKit.count(app, "referral") == 0)
        }
    }
}
