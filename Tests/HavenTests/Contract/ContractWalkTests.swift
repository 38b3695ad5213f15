import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import Sealing
import Testing

/// Walks every operation of the API with synthetic people and organisations, as the roles that
/// use it, and checks every answer — successes and errors — against openapi.yaml.
@Suite("Contract: every answer matches openapi.yaml")
struct ContractWalkTests {
    static func day(_ offset: Int) -> String {
        CalendarDate.of(Date().addingTimeInterval(Double(offset) * 86_400)).description
    }

    static func instant(_ offset: TimeInterval) -> String {
        Timestamps.format(Date().addingTimeInterval(offset))
    }

    static func ifMatch(_ tag: String?) -> HTTPFields {
        guard let tag else { return [:] }
        return [.ifMatch: tag]
    }

    @Test("a walk through every operation, with the errors the API answers")
    func walk() async throws {
        let document = try OpenAPIDocument.load()
        let checker = ContractChecker(document: document)
        let configuration = AppConfiguration(host: "127.0.0.1", port: 0, openAPIPath: OpenAPIDocument.path)
        try await TestApp.run(configuration: configuration) { app, client in
            let api = ContractClient(client: client, checker: checker)
            try await ContractWalk(app: app, api: api).run()
        }
        let uncovered = await checker.uncovered()
        #expect(uncovered.isEmpty, "operations the walk never saw answer with a documented success: \(uncovered.map(\.description))")
        let seen = await checker.seen
        let errorStatuses = Set(seen.values.flatMap { $0 }.filter { $0 >= 400 })
        for required in [400, 401, 403, 404, 409, 412, 415, 422, 428] {
            #expect(errorStatuses.contains(required), "the walk never provoked a \(required)")
        }
    }
}

/// The walk itself: one story of a case from intake to closure, with the detours that provoke
/// each error the document lists.
struct ContractWalk: Sendable {
    let app: TestApp
    let api: ContractClient

    func run() async throws {
        let day = ContractWalkTests.day
        let suffix = UUID().uuidString.prefix(6)
        let missing = UUID().uuidString

        // Operations endpoints.
        try await api.call(.get, "/healthz", expect: .ok)
        try await api.call(.get, "/readyz", expect: .ok)
        try await api.call(.get, "/metrics", expect: .ok)
        try await api.call(.get, "/openapi.yaml", expect: .ok)
        try await api.call(.get, "/healthz", raw: "{}", expect: .badRequest)

        // Organisations and people of a small referral network (synthetic).
        let coordination = try await app.organisation("Contract Coordination \(suffix)", type: .government)
        let ngo = try await app.organisation("Contract NGO \(suffix)", type: .ngo, services: [.counselling, .legalAid, .repatriation])
        let shelter = try await app.organisation("Contract Shelter \(suffix)", type: .shelter, services: [.safeAccommodation, .medical])
        let clinic = try await app.organisation("Contract Clinic \(suffix)", type: .health, services: [.medical, .legalAid])
        let admin = try await app.user(.admin, in: coordination.id)
        let auditor = try await app.user(.auditor, in: coordination.id)
        let supervisor = try await app.user(.supervisor, in: ngo.id)
        let caseworker = try await app.user(.caseworker, in: ngo.id)
        let partner = try await app.user(.partner, in: shelter.id)
        let clinicSupervisor = try await app.user(.supervisor, in: clinic.id)
        let leaver = try await app.user(.caseworker, in: ngo.id)

        // Authentication.
        try await api.call(.post, "/v1/auth/login", json: ["username": .string(caseworker.user.username), "password": "not-the-password-1"],
                           expect: .unauthorized)
        try await api.call(.post, "/v1/auth/login", json: ["username": "", "password": "x"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/auth/login", raw: "{\"username\": ", expect: .badRequest)
        try await api.call(.post, "/v1/auth/login", raw: "username=x", contentType: "text/plain", expect: .unsupportedMediaType)
        let login = try await api.call(.post, "/v1/auth/login",
                                       json: ["username": .string(caseworker.user.username), "password": .string(caseworker.password)],
                                       expect: .ok)
        let worker = try #require(login["token"]?.stringValue)
        let adminToken = try await app.login(api.client, admin)
        let auditorToken = try await app.login(api.client, auditor)
        let boss = try await app.login(api.client, supervisor)
        let partnerToken = try await app.login(api.client, partner)
        let outsider = try await app.login(api.client, clinicSupervisor)
        let leaverToken = try await app.login(api.client, leaver)

        try await api.call(.get, "/v1/me", token: worker, expect: .ok)
        try await api.call(.get, "/v1/me", expect: .unauthorized)
        try await api.call(.get, "/v1/me", token: "not-a-real-token", expect: .unauthorized)
        try await api.call(.post, "/v1/me/password", token: leaverToken,
                           json: ["current_password": "wrong-password-123", "new_password": .string(strongPassword())], expect: .unprocessableContent)
        try await api.call(.post, "/v1/me/password", token: leaverToken,
                           json: ["current_password": .string(leaver.password), "new_password": .string(strongPassword())], expect: .noContent)
        try await api.call(.post, "/v1/auth/logout", token: leaverToken, expect: .noContent)
        try await api.call(.get, "/v1/me", token: leaverToken, expect: .unauthorized)

        try await walkDirectory(adminToken: adminToken, boss: boss, worker: worker, caseworker: caseworker, partner: partner, ngo: ngo,
                                suffix: suffix, missing: missing)

        // Intake.
        let intake: ContractJSON = [
            "case_type": "trafficking", "identification_status": "presumed", "identified_by": "ngo", "identified_on": .string(day(-3)),
            "risk_level": "high",
            "person": [
                "sex": "female", "birth_year": 1999, "citizenship": "MD", "languages": ["ro", "ru"], "disability": false,
                "identity": [
                    "given_name": "Synthetic", "family_name": .string("Person-\(suffix)"), "aliases": ["S. P."], "date_of_birth": "1999-04-12",
                    "contact": ["phone": "+37300000000", "email": "synthetic@example.invalid"], "address": "Synthetic street 1",
                    "identity_documents": [["type": "passport", "number": "X0000000", "issuing_country": "MD", "expires_on": "2030-01-31"]],
                ],
            ],
            "trafficking": [
                "exploitation_types": ["forced_labour"], "labour_sector": "agriculture", "means_of_control": ["withheld_documents", "debt_bondage"],
                "recruiter_relation": "friend", "country_of_exploitation": "DE", "months_exploited": 7,
            ],
            "note": "Synthetic intake note.",
        ]
        let intakeKey = "contract-intake-\(suffix)"
        let opened = try await api.call(.post, "/v1/cases", token: worker, json: intake,
                                        headers: [ContractClient.idempotencyKey: intakeKey], expect: .created)
        let caseID = try opened.uuid()
        let again = try await api.call(.post, "/v1/cases", token: worker, json: intake, expect: .created)
        #expect(again["duplicates"]?["same_organisation"] == .array([opened["reference"] ?? nil]),
                "a second intake of the same person names the first case: \(again["duplicates"]?.description ?? "no duplicates member")")
        var differentIntake = intake
        if case .object(var members) = differentIntake { members["risk_level"] = "low"; differentIntake = .object(members) }
        try await api.call(.post, "/v1/cases", token: worker, json: differentIntake,
                           headers: [ContractClient.idempotencyKey: intakeKey], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases", token: worker, json: intake, headers: [ContractClient.idempotencyKey: String(repeating: "k", count: 300)],
                           expect: .badRequest)
        try await api.call(.post, "/v1/cases", token: worker, json: [
            "case_type": "trafficking", "identification_status": "presumed", "identified_by": "ngo", "identified_on": .string(day(5)),
            "risk_level": "high", "person": ["sex": "female"],
        ], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases", token: worker, json: ["case_type": "smuggling"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases", token: worker, raw: "case_type=trafficking", contentType: "application/x-www-form-urlencoded",
                           expect: .unsupportedMediaType)
        try await api.call(.post, "/v1/cases", token: worker, raw: "{\"note\": \"" + String(repeating: "x", count: 1_100_000) + "\"}",
                           expect: .contentTooLarge)
        try await api.call(.post, "/v1/cases", token: partnerToken, json: intake, expect: .forbidden)
        try await api.call(.post, "/v1/cases", token: auditorToken, json: intake, expect: .forbidden)
        try await api.call(.post, "/v1/cases", json: intake, expect: .unauthorized)
        let violence = try await api.call(.post, "/v1/cases", token: boss, json: [
            "case_type": "domestic_violence", "identification_status": "identified", "identified_by": "hotline", "identified_on": .string(day(-1)),
            "risk_level": "medium", "assignee": .id(caseworker.id), "person": ["sex": "female", "age_band": "30-38"],
            "violence": ["types": ["physical_assault", "psychological_abuse"], "perpetrator_relation": "intimate_partner", "location": "Orhei"],
        ], expect: .created)
        let violenceID = try violence.uuid()

        // Reading and changing the case.
        try await api.call(.get, "/v1/cases?status=open&case_type=trafficking&risk_level=high&identification_status=presumed&sort=-updated_at&limit=10",
                           token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases?assignee=\(caseworker.id)&updated_since=\(ContractWalkTests.instant(-3600))&sort=reference",
                           token: boss, expect: .ok)
        try await api.call(.get, "/v1/cases?sort=sideways", token: worker, expect: .badRequest)
        let reference = opened["reference"]?.stringValue ?? ""
        try await api.call(.get, "/v1/cases?reference=\(reference)&identified_from=\(day(-30))&identified_to=\(day(0))", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases?name=Synthetic", token: worker, expect: .badRequest)
        let found = try await api.call(.post, "/v1/cases/search", token: worker,
                                       json: ["name": .string("Person-\(suffix) Synthetic"), "birth_year": 1999, "status": "open", "limit": 10], expect: .ok)
        #expect(found.items.contains { $0["id"]?.stringValue == caseID.uuidString }, "the name search finds the case: \(found.text.prefix(300))")
        try await api.call(.post, "/v1/cases/search", token: worker, json: ["name": "Synthetic", "birth_year": 1850], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/search", token: worker, raw: "name=Synthetic", contentType: "application/x-www-form-urlencoded",
                           expect: .unsupportedMediaType)
        try await api.call(.post, "/v1/cases/search", token: partnerToken, json: ["reference": .string(reference)], expect: .notFound)
        try await api.call(.post, "/v1/cases/search", token: adminToken, json: [:], expect: .forbidden)
        try await api.call(.post, "/v1/cases/search", json: [:], expect: .unauthorized)
        try await api.call(.get, "/v1/cases", token: partnerToken, expect: .notFound)
        try await api.call(.get, "/v1/cases", token: adminToken, expect: .forbidden)
        let caseRead = try await api.call(.get, "/v1/cases/\(caseID)", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases/\(caseID)", token: partnerToken, expect: .notFound)
        try await api.call(.get, "/v1/cases/\(missing)", token: worker, expect: .notFound)
        let change: ContractJSON = [
            "risk_level": "medium", "identification_status": "identified",
            "person": ["sex": "female", "birth_year": 1999, "citizenship": "MD", "languages": ["ro"], "minor": false,
                       "identity": ["given_name": "Synthetic", "family_name": .string("Person-\(suffix)"),
                                    "contact": ["phone": "+37300000001"], "address": "Synthetic street 2"]],
            "note": "Synthetic: moved to a safer address.",
        ]
        try await api.call(.patch, "/v1/cases/\(caseID)", token: worker, json: change, expect: .preconditionRequired)
        let patched = try await api.call(.patch, "/v1/cases/\(caseID)", token: worker, json: change,
                                         headers: ContractWalkTests.ifMatch(caseRead.eTag), expect: .ok)
        try await api.call(.patch, "/v1/cases/\(caseID)", token: worker, json: ["risk_level": "low"],
                           headers: ContractWalkTests.ifMatch(caseRead.eTag), expect: .preconditionFailed)
        try await api.call(.patch, "/v1/cases/\(caseID)", token: worker, json: ["risk_level": "extreme"],
                           headers: ContractWalkTests.ifMatch(patched.eTag), expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/assign", token: boss, json: ["assignee": .id(caseworker.id)], expect: .ok)
        try await api.call(.post, "/v1/cases/\(caseID)/assign", token: boss, json: ["assignee": .id(partner.id)], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/assign", token: worker, json: ["assignee": .id(caseworker.id)], expect: .forbidden)

        // Needs.
        let medicalNeed = try await api.call(.post, "/v1/cases/\(caseID)/needs", token: worker, json: [
            "domain": "health", "service_type": "medical", "priority": "emergency", "note": "Synthetic: untreated injury.",
        ], headers: [ContractClient.idempotencyKey: "contract-need-\(suffix)"], expect: .created)
        let medicalNeedID = try medicalNeed.uuid()
        try await api.call(.post, "/v1/cases/\(caseID)/needs", token: worker, json: [
            "domain": "personal", "service_type": "safe_accommodation", "priority": "urgent",
        ], expect: .created)
        try await api.call(.post, "/v1/cases/\(caseID)/needs", token: worker, json: ["domain": "health", "service_type": "medical"],
                           expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(missing)/needs", token: worker, json: [
            "domain": "health", "service_type": "medical", "priority": "normal",
        ], expect: .notFound)
        try await api.call(.get, "/v1/cases/\(caseID)/needs", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases/\(caseID)/needs/\(medicalNeedID)", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases/\(caseID)/needs/\(missing)", token: worker, expect: .notFound)
        let endedNeed = try await api.call(.post, "/v1/cases/\(caseID)/needs", token: worker, json: [
            "domain": "economic", "service_type": "reintegration", "priority": "normal",
        ], expect: .created).uuid()
        try await api.call(.post, "/v1/cases/\(caseID)/needs/\(endedNeed)/close", token: worker, json: ["outcome": "met"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/needs/\(endedNeed)/close", token: worker,
                           json: ["outcome": "cancelled", "reason": "Synthetic: found work on her own."], expect: .ok)
        try await api.call(.post, "/v1/cases/\(caseID)/needs/\(endedNeed)/close", token: worker,
                           json: ["outcome": "met", "reason": "Synthetic: again."], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/needs/\(missing)/close", token: worker,
                           json: ["outcome": "met", "reason": "Synthetic."], expect: .notFound)

        // Services.
        let counselling = try await api.call(.post, "/v1/cases/\(caseID)/services", token: worker, json: [
            "type": "counselling", "provider_organisation": .id(ngo.id), "need_id": .id(medicalNeedID), "status": "in_progress",
            "start_on": .string(day(-20)), "due_on": .string(day(-10)),
            "detail": ["counselling": [["date": .string(day(-15)), "counsellor": "Synthetic Counsellor", "minutes": 50, "modality": "individual",
                                        "note": "Synthetic session note."]]],
        ], expect: .created)
        let counsellingID = try counselling.uuid()
        try await api.call(.get, "/v1/cases/\(caseID)/services/\(counsellingID)", token: worker, expect: .ok)
        try await api.call(.post, "/v1/cases/\(caseID)/services", token: worker, json: [
            "type": "repatriation", "provider_organisation": .id(ngo.id), "due_on": .string(day(30)),
            "detail": ["repatriation": ["from_country": "DE", "to_country": "MD", "travel_document_status": "requested", "escort": true,
                                        "planned_travel_date": .string(day(30)), "receiving_organisation": .id(shelter.id),
                                        "funded_from_repatriation_fund": true, "amount": 450]],
        ], headers: [ContractClient.idempotencyKey: "contract-service-\(suffix)"], expect: .created)
        try await api.call(.post, "/v1/cases/\(caseID)/services", token: worker, json: [
            "type": "safe_accommodation", "provider_organisation": .id(shelter.id),
            "detail": ["accommodation": ["shelter": .id(shelter.id), "from": .string(day(0)), "planned_until": .string(day(60)),
                                         "extensions": [.string(day(90))]]],
        ], expect: .created)
        try await api.call(.post, "/v1/cases/\(caseID)/services", token: worker, json: [
            "type": "counselling", "detail": ["repatriation": ["to_country": "MD"]],
        ], expect: .unprocessableContent)
        try await api.call(.get, "/v1/cases/\(caseID)/services", token: worker, expect: .ok)
        let overdue = try await api.call(.get, "/v1/services/overdue?limit=20", token: worker, expect: .ok)
        #expect(overdue.items.contains { $0["id"]?.stringValue == counsellingID.uuidString }, "the overdue counselling episode is not on the worklist")
        try await api.call(.get, "/v1/services/overdue", token: boss, expect: .ok)
        try await api.call(.get, "/v1/services/overdue", token: auditorToken, expect: .forbidden)
        try await api.call(.get, "/v1/services/overdue", token: partnerToken, expect: .notFound)
        for token in [worker, boss, partnerToken, auditorToken] { try await api.call(.get, "/v1/worklist", token: token, expect: .ok) }
        let serviceChange: ContractJSON = ["status": "completed", "end_on": .string(day(0)), "outcome": "Synthetic: sessions completed."]
        try await api.call(.patch, "/v1/cases/\(caseID)/services/\(counsellingID)", token: worker, json: serviceChange,
                           headers: ContractWalkTests.ifMatch(counselling.eTag ?? "W/\"1\""), expect: .ok)
        try await api.call(.patch, "/v1/cases/\(caseID)/services/\(counsellingID)", token: worker, json: ["outcome": "again"],
                           headers: [.ifMatch: "W/\"1\""], expect: .preconditionFailed)
        try await api.call(.patch, "/v1/cases/\(caseID)/services/\(missing)", token: worker, json: ["outcome": "x"], expect: .notFound)

        // Consents.
        let consent = try await api.call(.post, "/v1/cases/\(caseID)/consents", token: worker, json: [
            "grantor": "self", "method": "written", "granted_at": .string(ContractWalkTests.instant(-60)),
            "expires_at": .string(ContractWalkTests.instant(180 * 86_400)), "statistics": true,
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic: shelter and medical care",
                            "categories": ["profile", "needs", "services", "contact", "notes"]]],
        ], headers: [ContractClient.idempotencyKey: "contract-consent-\(suffix)"], expect: .created)
        let consentID = try consent.uuid()
        let verbal = try await api.call(.post, "/v1/cases/\(caseID)/consents", token: worker, json: [
            "grantor": "self", "method": "verbal",
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic: accommodation", "categories": ["profile"]]],
        ], expect: .created)
        let verbalID = try verbal.uuid()
        try await api.call(.post, "/v1/cases/\(caseID)/consents", token: worker, json: [
            "grantor": "self", "method": "written",
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic", "categories": []]],
        ], expect: .unprocessableContent)
        try await api.call(.get, "/v1/cases/\(caseID)/consents", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases/\(caseID)/consents/\(try consent.uuid())", token: worker, expect: .ok)
        // A consent amended by a new version, then withdrawn for its one recipient.
        let amendable = try await api.call(.post, "/v1/cases/\(caseID)/consents", token: worker, json: [
            "grantor": "self", "method": "written",
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic: legal aid", "categories": ["profile"]]],
        ], expect: .created)
        let amendableID = try amendable.uuid()
        let amended = try await api.call(.post, "/v1/cases/\(caseID)/consents/\(amendableID)/versions", token: worker, json: [
            "grantor": "self", "method": "written",
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic: legal aid", "categories": ["profile", "needs"]]],
        ], headers: [ContractClient.idempotencyKey: "contract-consent-version-\(suffix)"], expect: .created)
        let amendedID = try #require(amended["consent"]?["id"]?.stringValue, "\(amended.text)")
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(amendableID)/versions", token: worker, json: [
            "grantor": "self", "method": "written",
            "provisions": [["recipient_organisation": .id(shelter.id), "purpose": "Synthetic", "categories": ["profile"]]],
        ], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(amendedID)/versions", token: worker, json: [
            "grantor": "self", "method": "written", "provisions": "none",
        ], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(amendedID)/withdraw", token: worker,
                           json: ["recipient_organisation": .string(UUID().uuidString)], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(amendedID)/withdraw", token: worker,
                           json: ["recipient_organisation": .id(shelter.id)], expect: .ok)

        // Referrals.
        let referral = try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(shelter.id), "need_id": .id(medicalNeedID), "consent_id": .id(consentID),
            "shared_categories": ["profile", "needs", "contact"], "note": "Synthetic: please call before the visit.",
        ], headers: [ContractClient.idempotencyKey: "contract-referral-\(suffix)"], expect: .created)
        let referralID = try referral.uuid()
        let uncovered = try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(shelter.id), "need_id": .id(medicalNeedID), "consent_id": .id(consentID), "shared_categories": ["identity"],
        ], expect: .conflict)
        #expect(uncovered["missing_categories"] == ["identity"], "409 names the missing categories: \(uncovered.text)")
        let outside = try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(shelter.id), "service_type": "legal_aid", "consent_id": .id(consentID), "shared_categories": ["profile"],
        ], expect: .unprocessableContent)
        #expect(outside["organisations"]?.arrayValue?.contains { $0["id"]?.stringValue == clinic.id.uuidString } == true,
                "422 outside-mandate names the covering organisations: \(outside.text)")
        try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(ngo.id), "service_type": "medical", "consent_id": .id(consentID), "shared_categories": ["profile"],
        ], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: partnerToken, json: [
            "to_organisation": .id(clinic.id), "service_type": "medical", "consent_id": .id(consentID), "shared_categories": ["profile"],
        ], expect: .notFound)
        let second = try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(shelter.id), "service_type": "medical", "priority": "urgent", "consent_id": .id(consentID),
            "shared_categories": ["profile"],
        ], expect: .created)
        let secondID = try second.uuid()
        let third = try await api.call(.post, "/v1/cases/\(caseID)/referrals", token: worker, json: [
            "to_organisation": .id(shelter.id), "service_type": "safe_accommodation", "consent_id": .id(verbalID), "shared_categories": ["profile"],
        ], expect: .created)
        let thirdID = try third.uuid()
        try await api.call(.get, "/v1/cases/\(caseID)/referrals", token: worker, expect: .ok)
        try await api.call(.get, "/v1/referrals?direction=outgoing&limit=10", token: worker, expect: .ok)
        let inbox = try await api.call(.get, "/v1/referrals?direction=incoming&status=requested", token: partnerToken, expect: .ok)
        #expect(inbox.items.count == 3, "the partner's inbox holds the three referrals: \(inbox.text.prefix(300))")
        try await api.call(.get, "/v1/referrals?direction=sideways", token: partnerToken, expect: .badRequest)
        try await api.call(.get, "/v1/referrals", token: auditorToken, expect: .forbidden)
        let partnerView = try await api.call(.get, "/v1/referrals/\(referralID)", token: partnerToken, expect: .ok)
        #expect(partnerView["case"]?["person"]?["identity"]?["given_name"] == nil, "identity was not shared, yet the partner sees a name")
        #expect(partnerView["case"]?["person"]?["identity"]?["contact"] != nil, "contact was shared, yet the partner does not see it")
        try await api.call(.get, "/v1/referrals/\(referralID)", token: worker, expect: .ok)
        try await api.call(.get, "/v1/referrals/\(referralID)", token: outsider, expect: .notFound)
        try await api.call(.get, "/v1/referrals/\(missing)", token: partnerToken, expect: .notFound)

        // The recipient moves the referral through the state machine.
        let transitions = "/v1/referrals/\(referralID)/transitions"
        try await api.call(.post, "/v1/referrals/\(referralID)/handler", token: partnerToken, json: [:], expect: .ok)
        try await api.call(.post, "/v1/referrals/\(referralID)/handler", token: partnerToken, json: ["user": .string(UUID().uuidString)], expect: .unprocessableContent)
        try await api.call(.post, "/v1/referrals/\(referralID)/handler", token: worker, json: [:], expect: .forbidden)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "received"], expect: .ok)
        let accepted = try await api.call(.post, transitions, token: partnerToken, json: ["to": "accepted", "note": "Synthetic: bed reserved."],
                                          expect: .ok)
        #expect(accepted["episode_id"] != nil, "accepting starts a service episode at the recipient: \(accepted.text.prefix(300))")

        // The recipient records its own episodes and sessions on the referral it accepted.
        let episodes = "/v1/referrals/\(referralID)/episodes"
        try await api.call(.get, episodes, token: partnerToken, expect: .ok)
        try await api.call(.get, episodes, token: worker, expect: .forbidden)
        try await api.call(.get, episodes, token: outsider, expect: .notFound)
        let ownEpisode = try await api.call(.post, episodes, token: partnerToken, json: ["type": "counselling"], expect: .created)
        let ownCounsellingID = try ownEpisode.uuid()
        try await api.call(.post, episodes, token: partnerToken, json: ["type": "counselling", "detail": ["counselling": []]],
                           expect: .unprocessableContent)
        try await api.call(.post, episodes, token: worker, json: ["type": "medical"], expect: .forbidden)
        try await api.call(.get, "\(episodes)/\(ownCounsellingID)", token: partnerToken, expect: .ok)
        try await api.call(.post, "\(episodes)/\(ownCounsellingID)/sessions", token: partnerToken, json: [
            "date": "2026-01-05", "counsellor": "Synthetic counsellor", "minutes": 50, "modality": "individual", "note": "Synthetic: first session.",
        ], expect: .created)
        try await api.call(.post, "\(episodes)/\(ownCounsellingID)/sessions", token: partnerToken, json: [
            "date": "2026-01-06", "counsellor": "Synthetic counsellor", "minutes": 0, "modality": "individual",
        ], expect: .unprocessableContent)
        try await api.call(.patch, "\(episodes)/\(ownCounsellingID)/sessions/0", token: partnerToken, json: ["minutes": 45], expect: .ok)
        try await api.call(.patch, "\(episodes)/\(ownCounsellingID)/sessions/9", token: partnerToken, json: ["minutes": 45], expect: .notFound)
        let stay = try await api.call(.post, episodes, token: partnerToken, json: [
            "type": "safe_accommodation", "start_on": "2026-01-05", "detail": ["accommodation": ["from": "2026-01-05", "planned_until": "2026-02-05"]],
        ], expect: .created)
        let stayID = try stay.uuid()
        try await api.call(.post, "\(episodes)/\(stayID)/extensions", token: partnerToken, json: ["until": "2026-03-05"], expect: .ok)
        try await api.call(.post, "\(episodes)/\(stayID)/extensions", token: partnerToken, json: ["until": "2026-01-01"], expect: .unprocessableContent)
        try await api.call(.patch, "\(episodes)/\(ownCounsellingID)", token: partnerToken, json: [
            "status": "completed", "end_on": "2026-01-20", "outcome": "Synthetic: six sessions.",
        ], expect: .ok)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "accepted", "business_status": "appointment-scheduled"], expect: .ok)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "in-progress"], expect: .ok)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "on-hold", "business_status": "waitlisted"], expect: .ok)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "in-progress"], expect: .ok)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "completed"], expect: .unprocessableContent)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "flying"], expect: .unprocessableContent)
        try await api.call(.post, transitions, token: partnerToken, json: ["to": "completed", "outcome": "Synthetic: treated and discharged."],
                           expect: .ok)
        let final = try await api.call(.post, transitions, token: partnerToken, json: ["to": "in-progress"], expect: .conflict)
        #expect(final["allowed"] == [], "a terminal referral allows nothing: \(final.text)")
        try await api.call(.post, "/v1/referrals/\(secondID)/transitions", token: worker, json: ["to": "accepted"], expect: .conflict)
        try await api.call(.post, "/v1/referrals/\(secondID)/transitions", token: outsider, json: ["to": "accepted"], expect: .notFound)
        let rejected = try await api.call(.post, "/v1/referrals/\(secondID)/transitions", token: partnerToken,
                                          json: ["to": "rejected", "reason": "outside-mandate"], expect: .ok)
        #expect(rejected["covering_organisations"]?.arrayValue?.isEmpty == false, "an outside-mandate rejection names covering organisations")
        try await api.call(.get, "/v1/referrals/\(referralID)/history", token: partnerToken, expect: .ok)
        try await api.call(.get, "/v1/referrals/\(referralID)/history", token: worker, expect: .ok)

        // Withdrawing a consent cancels what relied on it.
        let withdrawn = try await api.call(.post, "/v1/cases/\(caseID)/consents/\(verbalID)/withdraw", token: worker, expect: .ok)
        #expect(withdrawn["cancelled_referrals"] == [.id(thirdID)], "withdrawal cancels the referral relying on the consent: \(withdrawn.text)")
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(verbalID)/withdraw", token: worker, expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/consents/\(missing)/withdraw", token: worker, expect: .notFound)

        // Break-glass by a supervisor of another organisation, and its review.
        try await api.call(.post, "/v1/cases/\(caseID)/break-glass", token: outsider, json: ["reason": "short"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/break-glass", token: worker,
                           json: ["reason": "Synthetic: emergency admission needs history"], expect: .forbidden)
        try await api.call(.get, "/v1/cases/\(caseID)", token: outsider, expect: .notFound)
        let grant = try await api.call(.post, "/v1/cases/\(caseID)/break-glass", token: outsider,
                                       json: ["reason": "Synthetic: emergency admission needs history"], expect: .created)
        let grantID = try grant.uuid()
        try await api.call(.get, "/v1/break-glass/\(grantID)", token: outsider, expect: .ok)
        try await api.call(.get, "/v1/break-glass/\(grantID)", token: boss, expect: .ok)
        try await api.call(.get, "/v1/break-glass/\(grantID)", token: worker, expect: .notFound)
        try await api.call(.get, "/v1/cases/\(caseID)", token: outsider, expect: .ok)
        try await api.call(.patch, "/v1/cases/\(caseID)", token: outsider, json: ["risk_level": "low"],
                           headers: [.ifMatch: "W/\"1\""], expect: .forbidden)
        try await api.call(.get, "/v1/break-glass?reviewed=false", token: boss, expect: .ok)
        try await api.call(.get, "/v1/break-glass?reviewed=maybe", token: boss, expect: .badRequest)
        try await api.call(.get, "/v1/break-glass", token: worker, expect: .forbidden)
        try await api.call(.post, "/v1/break-glass/\(grantID)/review", token: outsider, json: [:], expect: .forbidden)
        try await api.call(.post, "/v1/break-glass/\(grantID)/review", token: boss, json: ["note": "Synthetic: checked with the hospital."],
                           expect: .ok)
        try await api.call(.post, "/v1/break-glass/\(grantID)/review", token: boss, json: [:], expect: .conflict)
        try await api.call(.post, "/v1/break-glass/\(missing)/review", token: boss, json: [:], expect: .notFound)

        // The shelter's partner hears of the referrals in its inbox, and marks what it read.
        try await NotificationDeliverer(store: app.store, channels: [InAppChannel()]).deliverDue()
        let notifications = try await api.call(.get, "/v1/notifications?limit=1", token: partnerToken, expect: .ok)
        let notificationID = try #require(notifications["items"]?.arrayValue?.first?["id"]?.stringValue, "no notification: \(notifications.text)")
        try await api.call(.get, "/v1/notifications?unread=maybe", token: partnerToken, expect: .badRequest)
        try await api.call(.post, "/v1/notifications/\(notificationID)/read", token: boss, expect: .notFound)
        try await api.call(.post, "/v1/notifications/\(notificationID)/read", token: partnerToken, expect: .ok)
        try await api.call(.post, "/v1/notifications/read-all", token: partnerToken, expect: .ok)

        // History and closure.
        try await api.call(.get, "/v1/cases/\(caseID)/history?limit=50", token: worker, expect: .ok)
        try await api.call(.get, "/v1/cases/\(caseID)/history?limit=501", token: worker, expect: .badRequest)
        try await api.call(.get, "/v1/cases/\(caseID)/history", token: partnerToken, expect: .notFound)
        try await api.call(.post, "/v1/cases/\(caseID)/close", token: worker, json: ["reason": "finished"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/close/approve", token: boss, expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/close", token: worker, json: ["reason": "services-completed"], expect: .accepted)
        try await api.call(.post, "/v1/cases/\(caseID)/close", token: worker, json: ["reason": "services-completed"], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/close/approve", token: worker, expect: .forbidden)
        try await api.call(.get, "/v1/closures", token: boss, expect: .ok)
        try await api.call(.get, "/v1/closures", token: worker, expect: .forbidden)
        try await api.call(.get, "/v1/cases/\(caseID)/closure", token: worker, expect: .forbidden)
        try await api.call(.post, "/v1/cases/\(caseID)/close/approve", token: boss, expect: .unprocessableContent)
        try await api.call(.post, "/v1/cases/\(caseID)/close/decline", token: boss, json: ["reason": "work-still-open"], expect: .ok)
        try await api.call(.post, "/v1/cases/\(caseID)/close/decline", token: boss, json: ["reason": "work-still-open"], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/close", token: worker, json: ["reason": "services-completed"], expect: .accepted)
        let review = try await api.call(.get, "/v1/cases/\(caseID)/closure", token: boss, expect: .ok)
        func ids(_ key: String) -> [ContractJSON] { (review[key]?.arrayValue ?? []).compactMap { $0["id"] } }
        let decisions: ContractJSON = .object([
            "referrals": .array(ids("referrals").map { .object(["id": $0, "decision": .string("cancel"), "reason": .string("person-moved")]) }),
            "services": .array(ids("services").map { .object(["id": $0, "decision": .string("complete")]) }),
            "needs": .array(ids("needs").map { .object(["id": $0, "decision": .string("met")]) }),
        ])
        let closed = try await api.call(.post, "/v1/cases/\(caseID)/close/approve", token: boss, json: decisions, expect: .ok)
        try await api.call(.patch, "/v1/cases/\(caseID)", token: worker, json: ["risk_level": "low"],
                           headers: ContractWalkTests.ifMatch(closed.eTag), expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/needs", token: worker, json: [
            "domain": "economic", "service_type": "reintegration", "priority": "normal",
        ], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(caseID)/reopen", token: worker, json: ["reason": "new-needs"],
                           headers: [.ifMatch: "W/\"1\""], expect: .preconditionFailed)
        try await api.call(.post, "/v1/cases/\(caseID)/reopen", token: worker, json: ["reason": "new-needs"],
                           headers: ContractWalkTests.ifMatch(closed.eTag), expect: .ok)
        try await api.call(.post, "/v1/cases/\(caseID)/reopen", token: worker, json: ["reason": "new-needs"], expect: .conflict)
        try await api.call(.post, "/v1/cases/\(violenceID)/close", token: boss, json: ["reason": "client-withdrew"], expect: .ok)

        // Subject access and erasure.
        let reauthenticate = HTTPField.Name("X-Reauthenticate")!
        let export = "/v1/cases/\(caseID)/export"
        try await api.call(.get, export, token: boss, expect: .unauthorized)
        try await api.call(.get, export, token: boss, headers: [reauthenticate: "pin 1234"], expect: .badRequest)
        try await api.call(.get, export, token: boss, headers: [reauthenticate: "password not-the-password-1"], expect: .unauthorized)
        try await api.call(.get, export, token: worker, headers: [reauthenticate: "password \(caseworker.password)"], expect: .forbidden)
        try await api.call(.get, "/v1/cases/\(missing)/export", token: boss, headers: [reauthenticate: "password \(supervisor.password)"],
                           expect: .notFound)
        let exported = try await api.call(.get, export, token: boss, headers: [reauthenticate: "password \(supervisor.password)"], expect: .ok)
        #expect(exported["referrals"]?.arrayValue?.count == 3, "the export holds the case's three referrals")
        let erase = "/v1/cases/\(violenceID)/erase"
        try await api.call(.post, erase, token: boss, json: ["reason": "bored"], expect: .unprocessableContent)
        try await api.call(.post, erase, token: worker, json: ["reason": "subject-request"], expect: .forbidden)
        try await api.call(.post, erase, token: boss, json: ["reason": "subject-request"], expect: .unauthorized)
        let reauthenticated: HTTPFields = [reauthenticate: "password \(supervisor.password)"]
        let erased = try await api.call(.post, erase, token: boss, json: ["reason": "subject-request"], headers: reauthenticated, expect: .ok)
        #expect(erased["anonymised"] == true, "an erased case is anonymised: \(erased.text.prefix(300))")
        try await api.call(.post, erase, token: boss, json: ["reason": "subject-request"], headers: reauthenticated, expect: .conflict)
        try await api.call(.post, "/v1/cases/\(violenceID)/reopen", token: boss, json: ["reason": "client-returned"], expect: .conflict)

        try await walkTransfer(of: try again.uuid(), to: clinic.id, worker: worker, partner: partnerToken, receiver: outsider, missing: missing)
        try await walkNotificationChannels(adminToken: adminToken, worker: worker, organisation: clinic.id, missing: missing)

        try await walkReportsAndAudit(boss: boss, auditor: auditorToken, worker: worker, partner: partnerToken, caseID: caseID)
    }

    /// Reports and the audit trail, in a function of their own (see `walkTransfer`).
    func walkReportsAndAudit(boss: String, auditor auditorToken: String, worker: String, partner partnerToken: String, caseID: UUID) async throws {
        let day = ContractWalkTests.day
        // Reports that identify no one.
        try await api.call(.get, "/v1/reports/cases?by=case_type,sex&from=\(day(-30))&to=\(day(1))", token: boss, expect: .ok)
        try await api.call(.get, "/v1/reports/cases?by=identification_status&format=csv", token: auditorToken, expect: .ok)
        try await api.call(.get, "/v1/reports/cases?by=shoe_size", token: boss, expect: .badRequest)
        try await api.call(.get, "/v1/reports/cases", token: worker, expect: .forbidden)
        try await api.call(.get, "/v1/reports/referrals?by=status,service_type", token: auditorToken, expect: .ok)
        try await api.call(.get, "/v1/reports/referrals?format=csv", token: boss, expect: .ok)
        try await api.call(.get, "/v1/reports/referrals?from=yesterday", token: boss, expect: .badRequest)
        try await api.call(.get, "/v1/reports/turnaround?period=\(CalendarDate.of(Date()).year)&by=service_type", token: boss, expect: .ok)
        try await api.call(.get, "/v1/reports/turnaround?by=priority&format=csv", token: auditorToken, expect: .ok)
        try await api.call(.get, "/v1/reports/turnaround?period=2026-Q9", token: boss, expect: .badRequest)
        try await api.call(.get, "/v1/reports/turnaround", token: worker, expect: .forbidden)
        try await api.call(.get, "/v1/exports/cases.csv", token: auditorToken, expect: .ok)
        try await api.call(.get, "/v1/exports/cases.csv", token: boss, expect: .ok)
        try await api.call(.get, "/v1/exports/cases.csv", token: partnerToken, expect: .forbidden)

        // The audit trail.
        try await api.call(.get, "/v1/audit-events?limit=20", token: auditorToken, expect: .ok)
        try await api.call(.get, "/v1/audit-events?case_id=\(caseID)&outcome=denied&from=\(ContractWalkTests.instant(-3600))", token: auditorToken,
                           expect: .ok)
        try await api.call(.get, "/v1/audit-events?subtype=case.read&to=\(ContractWalkTests.instant(60))", token: boss, expect: .ok)
        try await api.call(.get, "/v1/audit-events?outcome=maybe", token: auditorToken, expect: .badRequest)
        try await api.call(.get, "/v1/audit-events", token: worker, expect: .forbidden)
        let verified = try await api.call(.get, "/v1/audit/verify", token: auditorToken, expect: .ok)
        #expect(verified["ok"] == true, "the audit chain verifies: \(verified.text)")
        try await api.call(.get, "/v1/audit/verify", token: boss, expect: .forbidden)
        let checkpoint = try await api.call(.get, "/v1/audit/checkpoint", token: auditorToken, expect: .ok)
        #expect(checkpoint["format"] == "haven-audit-checkpoint/1", "a signed checkpoint: \(checkpoint.text)")
        try await api.call(.get, "/v1/audit/checkpoint", token: boss, expect: .forbidden)
    }

    /// Organisations and users, in a function of their own (see `walkTransfer`).
    func walkDirectory(adminToken: String, boss: String, worker: String, caseworker: TestApp.TestUser, partner: TestApp.TestUser,
                       ngo: Organisation, suffix: Substring, missing: String) async throws {
        // Organisations.
        let legalName = "Contract Legal Aid \(suffix)"
        let legalDraft: ContractJSON = [
            "name": .string(legalName), "type": "legal", "country": "MD", "region": "Chisinau",
            "mandate": ["service_types": ["legal_aid"], "regions": ["Chisinau"], "populations": ["adult", "female"],
                        "accepts_referrals": true, "capacity_note": "Two lawyers, Tuesdays"],
        ]
        let organisationKey: HTTPFields = [ContractClient.idempotencyKey: "contract-organisation-\(suffix)"]
        let legal = try await api.call(.post, "/v1/organisations", token: adminToken, json: legalDraft, headers: organisationKey, expect: .created)
        let legalID = try legal.uuid()
        let replayed = try await api.call(.post, "/v1/organisations", token: adminToken, json: legalDraft, headers: organisationKey, expect: .created)
        #expect(replayed["id"] == legal["id"] && replayed.headers[HTTPField.Name("Idempotent-Replayed")!] == "true",
                "a retried POST /v1/organisations answers the first organisation: \(replayed.text.prefix(200))")
        try await api.call(.post, "/v1/organisations", token: adminToken, json: legalDraft, expect: .conflict)
        try await api.call(.post, "/v1/organisations", token: adminToken, json: ["name": "Contract Nowhere", "type": "ngo", "country": "XX"],
                           expect: .unprocessableContent)
        try await api.call(.post, "/v1/organisations", token: worker, json: ["name": "Contract Rogue", "type": "ngo", "country": "MD"],
                           expect: .forbidden)
        let firstPage = try await api.call(.get, "/v1/organisations?limit=2", token: worker, expect: .ok)
        if let cursor = firstPage["next_cursor"]?.stringValue {
            try await api.call(.get, "/v1/organisations?limit=2&cursor=\(cursor)", token: worker, expect: .ok)
        } else {
            Issue.record("GET /v1/organisations?limit=2 returned no next_cursor with more than two organisations")
        }
        try await api.call(.get, "/v1/organisations?limit=0", token: worker, expect: .badRequest)
        try await api.call(.get, "/v1/organisations/match?service_type=medical", token: worker, expect: .ok)
        try await api.call(.get, "/v1/organisations/match?service_type=legal_aid&region=Chisinau", token: worker, expect: .ok)
        try await api.call(.get, "/v1/organisations/match", token: worker, expect: .badRequest)
        let read = try await api.call(.get, "/v1/organisations/\(legalID)", token: worker, expect: .ok)
        try await api.call(.get, "/v1/organisations/\(missing)", token: worker, expect: .notFound)
        try await api.call(.get, "/v1/organisations/not-a-uuid", token: worker, expect: .notFound)
        try await api.call(.patch, "/v1/organisations/\(legalID)", token: adminToken, json: ["region": "Balti", "active": true],
                           headers: ContractWalkTests.ifMatch(read.eTag), expect: .ok)
        try await api.call(.patch, "/v1/organisations/\(legalID)", token: adminToken, json: ["region": "Cahul"],
                           headers: ContractWalkTests.ifMatch(read.eTag), expect: .preconditionFailed)
        try await api.call(.patch, "/v1/organisations/\(legalID)", token: worker, json: ["region": "Cahul"], expect: .forbidden)

        // Users.
        let newCaseworker: ContractJSON = [
            "organisation_id": .id(ngo.id), "role": "caseworker", "username": .string(freshUsername("cw")),
            "display_name": "Synthetic Caseworker", "password": .string(strongPassword()),
        ]
        let created = try await api.call(.post, "/v1/users", token: adminToken, json: newCaseworker,
                                         headers: [ContractClient.idempotencyKey: "contract-user-\(suffix)"], expect: .created)
        let createdID = try created.uuid("user.id")
        // A supervisor's first login enrols their own authenticator; an administrator can reset it.
        let newSupervisor = freshUsername("sv"), supervisorPassword = strongPassword()
        let createdSupervisor = try await api.call(.post, "/v1/users", token: adminToken, json: [
            "organisation_id": .id(ngo.id), "role": "supervisor", "username": .string(newSupervisor), "password": .string(supervisorPassword),
        ], expect: .created)
        let newSupervisorID = try createdSupervisor.uuid("user.id")
        let firstLogin = try await api.call(.post, "/v1/auth/login", json: ["username": .string(newSupervisor), "password": .string(supervisorPassword)],
                                            expect: .ok)
        let enrolling = try #require(firstLogin["token"]?.stringValue)
        try await api.call(.get, "/v1/users/\(newSupervisorID)", token: enrolling, expect: .forbidden)
        let begun = try await api.call(.post, "/v1/me/second-factor", token: enrolling, expect: .ok)
        let secret = try #require(begun["secret"]?.stringValue.flatMap(Base32.decode))
        let now = Int64(Date().timeIntervalSince1970)
        try await api.call(.post, "/v1/me/second-factor/confirm", token: enrolling, json: ["code": .string(TOTP(secret: secret).code(at: now + 900))],
                           expect: .unprocessableContent)
        try await api.call(.post, "/v1/me/second-factor/confirm", token: enrolling, json: ["code": .string(TOTP(secret: secret).code(at: now))], expect: .ok)
        try await api.call(.post, "/v1/me/second-factor", token: enrolling, expect: .conflict)
        try await api.call(.post, "/v1/me/second-factor", token: worker, expect: .conflict)
        try await api.call(.post, "/v1/users/\(caseworker.id)/second-factor/reset", token: worker, expect: .forbidden)
        try await api.call(.post, "/v1/users/\(newSupervisorID)/second-factor/reset", token: adminToken, expect: .ok)
        try await api.call(.post, "/v1/users", token: adminToken, json: newCaseworker, expect: .conflict)
        try await api.call(.post, "/v1/users", token: adminToken, json: [
            "organisation_id": .id(ngo.id), "role": "caseworker", "username": .string(freshUsername("weak")), "password": "short",
        ], expect: .unprocessableContent)
        try await api.call(.post, "/v1/users", token: worker, json: newCaseworker, expect: .forbidden)
        try await api.call(.get, "/v1/users?organisation_id=\(ngo.id)&role=caseworker", token: adminToken, expect: .ok)
        try await api.call(.get, "/v1/users", token: boss, expect: .ok)
        try await api.call(.get, "/v1/users", token: worker, expect: .forbidden)
        try await api.call(.get, "/v1/users?limit=500", token: adminToken, expect: .badRequest)
        let userRead = try await api.call(.get, "/v1/users/\(createdID)", token: adminToken, expect: .ok)
        try await api.call(.get, "/v1/users/\(caseworker.id)", token: worker, expect: .ok)
        try await api.call(.get, "/v1/users/\(partner.id)", token: worker, expect: .notFound)
        try await api.call(.patch, "/v1/users/\(createdID)", token: adminToken, json: ["display_name": "Synthetic Caseworker Two"],
                           headers: ContractWalkTests.ifMatch(userRead.eTag), expect: .ok)
        try await api.call(.patch, "/v1/users/\(createdID)", token: adminToken, json: ["active": false],
                           headers: [.ifMatch: "nonsense"], expect: .badRequest)
        try await api.call(.patch, "/v1/users/\(caseworker.id)", token: worker, json: ["display_name": "Me"], expect: .forbidden)
    }

    /// Handing a case to another organisation, in a function of its own: one async function
    /// holding the whole walk grew past what the compiler builds in memory.
    func walkTransfer(of movingID: UUID, to clinic: UUID, worker: String, partner partnerToken: String, receiver outsider: String,
                      missing: String) async throws {
        // Handing the second case to the clinic: refused without a covering consent, declined,
        // asked again and cancelled, asked again and accepted.
        let everything: ContractJSON = .array(DataCategory.allCases.map { .string($0.rawValue) })
        // Typed step by step: one nested literal of this size costs the type checker gigabytes.
        var provision: [String: ContractJSON] = [:]
        provision["recipient_organisation"] = .id(clinic)
        provision["purpose"] = .string("Synthetic: the person moved")
        provision["categories"] = everything
        var consentBody: [String: ContractJSON] = [:]
        consentBody["grantor"] = .string("self")
        consentBody["method"] = .string("written")
        consentBody["provisions"] = .array([.object(provision)])
        let covering = try await api.call(.post, "/v1/cases/\(movingID)/consents", token: worker, json: .object(consentBody), expect: .created)
        var transferFields: [String: ContractJSON] = [:]
        transferFields["organisation"] = .id(clinic)
        transferFields["reason"] = .string("person-moved")
        transferFields["consent"] = .string(missing)
        try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: worker, json: .object(transferFields), expect: .unprocessableContent)
        transferFields["consent"] = .string(try covering.uuid().uuidString)
        let transferBody = ContractJSON.object(transferFields)
        try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: partnerToken, json: transferBody, expect: .notFound)
        var transferID = try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: worker, json: transferBody, expect: .created).uuid()
        try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: worker, json: transferBody, expect: .conflict)
        try await api.call(.get, "/v1/transfers?direction=incoming&status=requested", token: outsider, expect: .ok)
        try await api.call(.get, "/v1/transfers?direction=sideways", token: outsider, expect: .badRequest)
        try await api.call(.get, "/v1/transfers?direction=outgoing", token: worker, expect: .ok)
        try await api.call(.get, "/v1/transfers/\(transferID)", token: outsider, expect: .ok)
        try await api.call(.get, "/v1/transfers/\(missing)", token: outsider, expect: .notFound)
        try await api.call(.post, "/v1/transfers/\(transferID)/accept", token: worker, expect: .forbidden)
        try await api.call(.post, "/v1/transfers/\(transferID)/decline", token: outsider, json: ["reason": "bored"], expect: .unprocessableContent)
        try await api.call(.post, "/v1/transfers/\(transferID)/decline", token: outsider, json: ["reason": "no-capacity"], expect: .ok)
        try await api.call(.post, "/v1/transfers/\(transferID)/cancel", token: worker, expect: .conflict)
        transferID = try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: worker, json: transferBody, expect: .created).uuid()
        try await api.call(.post, "/v1/transfers/\(transferID)/cancel", token: worker, expect: .ok)
        transferID = try await api.call(.post, "/v1/cases/\(movingID)/transfer", token: worker, json: transferBody, expect: .created).uuid()
        try await api.call(.post, "/v1/transfers/\(transferID)/accept", token: outsider, expect: .ok)
        try await api.call(.get, "/v1/cases/\(movingID)", token: worker, expect: .notFound)
        try await api.call(.get, "/v1/cases/\(movingID)/history", token: outsider, expect: .ok)
    }

    /// Email and webhook channels for notifications, in a function of their own (see `walkTransfer`).
    func walkNotificationChannels(adminToken: String, worker: String, organisation: UUID, missing: String) async throws {
        try await api.call(.get, "/v1/me/notification-email", token: worker, expect: .ok)
        try await api.call(.put, "/v1/me/notification-email", token: worker,
                           json: ["address": "worker@example.org", "kinds": ["referral.arrived"]], expect: .ok)
        try await api.call(.put, "/v1/me/notification-email", token: worker,
                           json: ["address": "no-at-sign", "kinds": ["referral.arrived"]], expect: .unprocessableContent)
        try await api.call(.put, "/v1/me/notification-email", token: worker, json: ["kinds": .array([])], expect: .ok)

        let base = "/v1/organisations/\(organisation)/webhooks"
        try await api.call(.get, base, token: adminToken, expect: .ok)
        try await api.call(.get, base, token: worker, expect: .forbidden)
        try await api.call(.post, base, token: adminToken, json: ["url": "http://127.0.0.1/hook", "kinds": ["referral.arrived"]],
                           expect: .unprocessableContent)
        let webhook = try await api.call(.post, base, token: adminToken,
                                         json: ["url": "https://partner.example.org/hook", "kinds": ["referral.arrived"]], expect: .created).uuid()
        try await api.call(.post, "\(base)/\(webhook)/rotate", token: adminToken, expect: .ok)
        // A delivery given up on, as the worker leaves one after its whole schedule.
        let message = UUID()
        try app.ownerScript("""
            INSERT INTO notification_outbox (id, kind, recipient_organisation_id, priority, link, routed_at)
            VALUES ($1::uuid, 'referral.arrived', $2::uuid, 'normal', '/referrals', now())
            """, [message.uuidString, organisation.uuidString])
        try app.ownerScript("""
            INSERT INTO notification_delivery (message_id, channel, target, state, attempts, last_error)
            VALUES ($1::uuid, 'webhook', lower($2), 'dead', 8, 'status 503')
            """, [message.uuidString, webhook.uuidString])
        try await api.call(.get, "\(base)/\(webhook)/dead-letters", token: adminToken, expect: .ok)
        try await api.call(.post, "\(base)/\(webhook)/dead-letters/\(message)/replay", token: adminToken, expect: .accepted)
        try await api.call(.post, "\(base)/\(webhook)/dead-letters/\(missing)/replay", token: adminToken, expect: .notFound)
        try await api.call(.delete, "\(base)/\(webhook)", token: adminToken, expect: .noContent)
        try await api.call(.delete, "\(base)/\(webhook)", token: adminToken, expect: .notFound)
    }
}
