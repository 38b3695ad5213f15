import Foundation
import HavenCore
import HTTPTypes
import HummingbirdTesting
import Testing

/// Every bad input gets a 4xx problem+json naming the field, and stores nothing (S14).
@Suite("Cases: bad input")
struct CasesBadInputTests {
    enum Payload {
        case object([String: Any])
        case text(String, contentType: String = "application/json")
    }

    struct Case {
        var label: String
        var payload: Payload
        var status: Set<Int>
        var field: String?
    }

    /// `object` with the value at `path` replaced (nil removes it). Numeric path parts index arrays.
    static func with(_ object: [String: Any], _ path: String, _ value: Any?) -> [String: Any] {
        func set(_ node: Any, _ keys: ArraySlice<String>) -> Any? {
            guard let key = keys.first else { return value }
            if var array = node as? [Any], let index = Int(key) {
                if let next = set(array[index], keys.dropFirst()) { array[index] = next } else { array.remove(at: index) }
                return array
            }
            var dictionary = node as? [String: Any] ?? [:]
            if keys.count == 1 {
                dictionary[key] = value
            } else {
                dictionary[key] = set(dictionary[key] ?? [String: Any](), keys.dropFirst())
            }
            return dictionary
        }
        return set(object, ArraySlice(path.split(separator: ".").map(String.init))) as? [String: Any] ?? object
    }

    static let huge = String(repeating: "x", count: 100_000)

    /// Sends each case and checks the answer; returns nothing, records failures.
    static func run(_ client: any TestClientProtocol, _ method: HTTPRequest.Method, _ path: String, _ token: String, _ cases: [Case],
                    headers: [String: String] = [:]) async throws {
        for item in cases {
            let response: TestResponse
            switch item.payload {
            case .object(let body): response = try await CaseKit.call(client, method, path, token, body, headers: headers)
            case .text(let text, let contentType): response = try await CaseKit.raw(client, method, path, token, text, contentType: contentType, headers: headers)
            }
            let code = Int(response.status.code)
            #expect(item.status.contains(code), "\(item.label): expected \(item.status.sorted()), got \(code) \(response.text.prefix(400))")
            #expect(code < 500, "\(item.label): never a server error")
            #expect(response.isProblem, "\(item.label): problem+json, got \(response.headers[.contentType] ?? "none")")
            if let field = item.field {
                #expect(response.problemFields.contains(field), "\(item.label): expected \(field) named in \(response.text.prefix(400))")
            }
            #expect(response.text.count < 20_000, "\(item.label): the answer does not echo the input")
        }
    }

    static func json(_ body: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: body)) ?? Data(), as: UTF8.self)
    }

    static func invalid(_ label: String, _ body: [String: Any], _ field: String) -> Case {
        Case(label: label, payload: .object(body), status: [422], field: field)
    }

    @Test("bodies are JSON in UTF-8, uncompressed: another charset or a Content-Encoding is 415 naming the header")
    func encodings() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let body = Self.json(CaseKit.intake(CaseKit.Person()))
            let latin1 = try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, body, contentType: "application/json; charset=latin1")
            CaseKit.expectProblem(latin1, .unsupportedMediaType, field: "Content-Type")
            let gzip = try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, body, contentType: "application/json",
                                             headers: ["Content-Encoding": "gzip"])
            CaseKit.expectProblem(gzip, .unsupportedMediaType, field: "Content-Encoding")
            #expect(try CaseKit.count(app, "case_file", where: "organisation_id = $1", [org.id]) == 0)
            let utf8 = try await CaseKit.raw(client, .post, "/v1/cases", caseworker.token, body, contentType: "application/json; charset=\"UTF-8\"")
            #expect(utf8.status == .created, "\(utf8.text)")
        }
    }

    @Test("intake: malformed JSON, wrong types, unknown values, missing fields, huge strings, bad dates and countries, foreign ids")
    func intake() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let other = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let foreignCaseworker = try await app.user(.caseworker, in: other.id)
            let ownPartner = try await app.user(.partner, in: org.id)
            let base = CaseKit.intake(CaseKit.Person())
            let w = Self.with
            let tomorrow = CaseKit.daysAhead(1)
            let cases: [Case] = [
                Case(label: "malformed JSON", payload: .text(#"{"case_type": "trafficking","#), status: [400], field: "body"),
                Case(label: "not JSON at all", payload: .text("case_type=trafficking"), status: [400], field: "body"),
                Case(label: "empty body", payload: .text(""), status: [400], field: "body"),
                Case(label: "an array, not an object", payload: .text("[1, 2, 3]"), status: [400, 422], field: "body"),
                Case(label: "wrong content type", payload: .text("{}", contentType: "text/plain"), status: [415], field: "Content-Type"),
                Self.invalid("risk_level a number", w(base, "risk_level", 3), "risk_level"),
                Self.invalid("birth_year a string", w(base, "person.birth_year", "1999"), "person.birth_year"),
                Self.invalid("given name blank", w(base, "person.identity.given_name", "   "), "person.identity.given_name"),
                Self.invalid("birth_year a fraction", w(base, "person.birth_year", 1980.5), "person.birth_year"),
                // Contradictions in what identifies a child drive the wrong protections.
                Self.invalid("minor false for a child's birth year", w(w(base, "person.birth_year", CaseKit.thisYear - 6), "person.minor", false), "person.minor"),
                Self.invalid("minor true for an adult's birth year", w(w(base, "person.birth_year", 1980), "person.minor", true), "person.minor"),
                Self.invalid("age band against birth year", w(w(base, "person.birth_year", 1980), "person.age_band", "0-8"), "person.age_band"),
                Self.invalid("age band against minor", w(w(w(base, "person.birth_year", nil), "person.age_band", "9-17"), "person.minor", false), "person.minor"),
                Case(label: "birth_year past 64 bits", payload: .text(Self.json(w(base, "person.birth_year", 1_234_567))
                    .replacingOccurrences(of: "1234567", with: "9223372036854775808")), status: [422], field: "person.birth_year"),
                Self.invalid("months_exploited a string", w(base, "trafficking.months_exploited", "seven"), "trafficking.months_exploited"),
                Self.invalid("person a string", w(base, "person", "Jane Doe"), "person"),
                Self.invalid("aliases a string", w(base, "person.identity.aliases", "Jane"), "person.identity.aliases"),
                Self.invalid("disability a string", w(base, "person.disability", "yes"), "person.disability"),
                Self.invalid("case_type unknown", w(base, "case_type", "smuggling"), "case_type"),
                Self.invalid("sex unknown", w(base, "person.sex", "robot"), "person.sex"),
                Self.invalid("identified_by unknown", w(base, "identified_by", "psychic"), "identified_by"),
                Self.invalid("exploitation type unknown", w(base, "trafficking.exploitation_types", ["fishing"]), "trafficking.exploitation_types[0]"),
                Self.invalid("age band unknown", w(base, "person.age_band", "ancient"), "person.age_band"),
                Self.invalid("identification_status missing", w(base, "identification_status", nil), "identification_status"),
                Self.invalid("person missing", w(base, "person", nil), "person"),
                Self.invalid("risk_level null", w(base, "risk_level", NSNull()), "risk_level"),
                Self.invalid("100 kB given name", w(base, "person.identity.given_name", Self.huge), "person.identity.given_name"),
                Self.invalid("100 kB note", w(base, "note", Self.huge), "note"),
                Self.invalid("100 kB labour sector", w(base, "trafficking.labour_sector", Self.huge), "trafficking.labour_sector"),
                Self.invalid("100 kB address", w(base, "person.identity.address", Self.huge), "person.identity.address"),
                Self.invalid("identified_on 2026-02-30", w(base, "identified_on", "2026-02-30"), "identified_on"),
                Self.invalid("identified_on in another format", w(base, "identified_on", "30/01/2026"), "identified_on"),
                Self.invalid("identified_on tomorrow", w(base, "identified_on", tomorrow), "identified_on"),
                Self.invalid("identified_on before 1990", w(base, "identified_on", "1989-12-31"), "identified_on"),
                Self.invalid("date of birth month 13", w(base, "person.identity.date_of_birth", "1999-13-01"), "person.identity.date_of_birth"),
                Self.invalid("date of birth in the future", w(base, "person.identity.date_of_birth", tomorrow), "person.identity.date_of_birth"),
                Self.invalid("birth year 1800", w(base, "person.birth_year", 1800), "person.birth_year"),
                Self.invalid("citizenship ZZ", w(base, "person.citizenship", "ZZ"), "person.citizenship"),
                Self.invalid("citizenship lower case", w(base, "person.citizenship", "md"), "person.citizenship"),
                Self.invalid("country of exploitation XX", w(base, "trafficking.country_of_exploitation", "XX"), "trafficking.country_of_exploitation"),
                Self.invalid("document country ZZ", w(base, "person.identity.identity_documents.0.issuing_country", "ZZ"),
                        "person.identity.identity_documents[0].issuing_country"),
                Self.invalid("language not a code", w(base, "person.languages", ["Romanian"]), "person.languages[0]"),
                Self.invalid("months exploited negative", w(base, "trafficking.months_exploited", -1), "trafficking.months_exploited"),
                Self.invalid("trafficking profile on a domestic-violence case", w(base, "case_type", "domestic_violence"), "trafficking"),
                Self.invalid("assignee from another organisation", w(base, "assignee", foreignCaseworker.id.uuidString), "assignee"),
                Self.invalid("assignee who does not exist", w(base, "assignee", UUID().uuidString), "assignee"),
                Self.invalid("assignee a partner", w(base, "assignee", ownPartner.id.uuidString), "assignee"),
                Self.invalid("assignee not a UUID", w(base, "assignee", "bob"), "assignee"),
            ]
            try await Self.run(client, .post, "/v1/cases", supervisor.token, cases)
            let oversize = try await CaseKit.raw(client, .post, "/v1/cases", supervisor.token, #"{"note": ""# + String(repeating: "y", count: 2 << 20) + #""}"#)
            CaseKit.expectProblem(oversize, .contentTooLarge)
            #expect(try CaseKit.count(app, "case_file") == 0, "nothing stored")
            #expect(try CaseKit.count(app, "audit_event", where: "subtype = 'case.create'") == 0)
            // The valid body itself is accepted: the failures above are the changes, not the base.
            #expect(try await CaseKit.call(client, .post, "/v1/cases", supervisor.token, base).status == .created)
        }
    }

    @Test("PATCH, assign and close refuse bad values and leave the case as it was")
    func caseChanges() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let other = try await app.organisation()
            let supervisor = try await CaseKit.member(app, client, .supervisor, in: org.id)
            let foreign = try await app.user(.caseworker, in: other.id)
            let created = try await CaseKit.createCase(client, supervisor, CaseKit.intake(CaseKit.Person()))
            let path = "/v1/cases/\(created.id.uuidString)"
            try await Self.run(client, .patch, path, supervisor.token, [
                Case(label: "malformed JSON", payload: .text("{"), status: [400], field: "body"),
                Self.invalid("risk_level unknown", ["risk_level": "extreme"], "risk_level"),
                Self.invalid("identified_on tomorrow", ["identified_on": CaseKit.daysAhead(1)], "identified_on"),
                Self.invalid("identified_on 2026-02-30", ["identified_on": "2026-02-30"], "identified_on"),
                Self.invalid("citizenship ZZ", ["person": ["citizenship": "ZZ"]], "person.citizenship"),
                Self.invalid("100 kB family name", ["person": ["identity": ["family_name": Self.huge]]], "person.identity.family_name"),
                Self.invalid("note a number", ["note": 42], "note"),
                // Checked on the case as it would be: the stored birth year (1999) makes an adult,
                // and a trafficking case takes no violence profile.
                Self.invalid("minor against the stored birth year", ["person": ["minor": true]], "person.minor"),
                Self.invalid("violence on a trafficking case", ["violence": ["types": ["physical_assault"]]], "violence"),
            ], headers: ["If-Match": "W/\"1\""])
            try await Self.run(client, .post, path + "/assign", supervisor.token, [
                Self.invalid("assignee from another organisation", ["assignee": foreign.id.uuidString], "assignee"),
                Self.invalid("assignee missing", [:], "assignee"),
            ])
            try await Self.run(client, .post, path + "/close", supervisor.token, [
                Self.invalid("closure reason unknown", ["reason": "bored"], "reason"),
            ])
            let read = try await CaseKit.call(client, .get, path, supervisor.token)
            #expect(read.headers[.eTag] == "W/\"1\"", "nothing changed")
            #expect(try read.json()["status"] as? String == "open")
        }
    }

    @Test("needs, services and consents refuse bad values and foreign ids, storing nothing")
    func details() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let other = try await app.organisation()
            let shelter = try await app.organisation(type: .shelter)
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let outsider = try await CaseKit.member(app, client, .caseworker, in: other.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let sibling = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let foreignCase = try await CaseKit.createCase(client, outsider, CaseKit.intake(CaseKit.Person())).id
            let siblingNeed = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(sibling.uuidString)/needs",
                                                       ["domain": "health", "service_type": "medical", "priority": "urgent"])
            let foreignNeed = try await CaseKit.create(client, outsider.token, "/v1/cases/\(foreignCase.uuidString)/needs",
                                                       ["domain": "health", "service_type": "medical", "priority": "urgent"])
            let base = "/v1/cases/\(caseID.uuidString)"
            let needs = try CaseKit.count(app, "need"), services = try CaseKit.count(app, "service_episode"), consents = try CaseKit.count(app, "consent")
            let w = Self.with

            let need: [String: Any] = ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency", "note": "n"]
            try await Self.run(client, .post, base + "/needs", caseworker.token, [
                Case(label: "malformed", payload: .text(#"{"domain": }"#), status: [400], field: "body"),
                Self.invalid("domain unknown", w(need, "domain", "spiritual"), "domain"),
                Self.invalid("service_type a number", w(need, "service_type", 5), "service_type"),
                Self.invalid("service_type unknown", w(need, "service_type", "massage"), "service_type"),
                Self.invalid("priority missing", w(need, "priority", nil), "priority"),
                Self.invalid("100 kB note", w(need, "note", Self.huge), "note"),
            ])
            #expect(try CaseKit.count(app, "need") == needs)

            let repatriation: [String: Any] = [
                "type": "repatriation", "start_on": CaseKit.daysAgo(3), "due_on": CaseKit.daysAhead(3),
                "detail": ["repatriation": ["from_country": "RU", "to_country": "MD", "amount": 100] as [String: Any]],
            ]
            let counselling: [String: Any] = [
                "type": "counselling",
                "detail": ["counselling": [["date": CaseKit.daysAgo(1), "counsellor": "C", "minutes": 30, "modality": "individual", "note": "ok"]]],
            ]
            try await Self.run(client, .post, base + "/services", caseworker.token, [
                Self.invalid("type unknown", w(repatriation, "type", "massage"), "type"),
                Self.invalid("due_on 2026-02-30", w(repatriation, "due_on", "2026-02-30"), "due_on"),
                Self.invalid("due before start", w(repatriation, "due_on", CaseKit.daysAgo(10)), "due_on"),
                Self.invalid("status unknown", w(repatriation, "status", "finished"), "status"),
                Self.invalid("from_country ZZ", w(repatriation, "detail.repatriation.from_country", "ZZ"), "detail.repatriation.from_country"),
                Self.invalid("to_country a number", w(repatriation, "detail.repatriation.to_country", 498), "detail.repatriation.to_country"),
                Self.invalid("amount negative", w(repatriation, "detail.repatriation.amount", -5), "detail.repatriation.amount"),
                Self.invalid("travel document status unknown", w(repatriation, "detail.repatriation.travel_document_status", "lost"),
                        "detail.repatriation.travel_document_status"),
                Self.invalid("planned travel date 2026-02-30", w(repatriation, "detail.repatriation.planned_travel_date", "2026-02-30"),
                        "detail.repatriation.planned_travel_date"),
                Self.invalid("receiving organisation unknown", w(repatriation, "detail.repatriation.receiving_organisation", UUID().uuidString),
                        "detail.repatriation.receiving_organisation"),
                Self.invalid("repatriation detail on counselling", w(repatriation, "type", "counselling"), "detail.repatriation"),
                Self.invalid("minutes zero", w(counselling, "detail.counselling.0.minutes", 0), "detail.counselling[0].minutes"),
                Self.invalid("modality unknown", w(counselling, "detail.counselling.0.modality", "telepathy"), "detail.counselling[0].modality"),
                Self.invalid("counsellor missing", w(counselling, "detail.counselling.0.counsellor", nil), "detail.counselling[0].counsellor"),
                Self.invalid("100 kB session note", w(counselling, "detail.counselling.0.note", Self.huge), "detail.counselling[0].note"),
                Self.invalid("shelter unknown", ["type": "safe_accommodation", "detail": ["accommodation": ["shelter": UUID().uuidString]]],
                        "detail.accommodation.shelter"),
                Self.invalid("provider unknown", w(repatriation, "provider_organisation", UUID().uuidString), "provider_organisation"),
                Self.invalid("need of another case", w(repatriation, "need_id", siblingNeed.uuidString), "need_id"),
                Self.invalid("need of another organisation's case", w(repatriation, "need_id", foreignNeed.uuidString), "need_id"),
            ])
            #expect(try CaseKit.count(app, "service_episode") == services)
            #expect(try CaseKit.count(app, "session_note") == 0)

            let service = try await CaseKit.create(client, caseworker.token, base + "/services", repatriation)
            try await Self.run(client, .patch, base + "/services/\(service.uuidString)", caseworker.token, [
                Self.invalid("status unknown", ["status": "done"], "status"),
                Self.invalid("100 kB outcome", ["outcome": Self.huge], "outcome"),
                Self.invalid("end_on 2026-02-30", ["end_on": "2026-02-30"], "end_on"),
                Self.invalid("from_country ZZ", ["detail": ["repatriation": ["from_country": "ZZ"]]], "detail.repatriation.from_country"),
            ])
            let foreignService = try await CaseKit.create(client, outsider.token, "/v1/cases/\(foreignCase.uuidString)/services", ["type": "medical"])
            let crossed = try await CaseKit.call(client, .patch, base + "/services/\(foreignService.uuidString)", caseworker.token, ["status": "cancelled"])
            CaseKit.expectProblem(crossed, .notFound)

            let consent = CaseKit.consent(to: [shelter.id], categories: ["profile"])
            try await Self.run(client, .post, base + "/consents", caseworker.token, [
                Self.invalid("grantor unknown", w(consent, "grantor", "neighbour"), "grantor"),
                Self.invalid("method missing", w(consent, "method", nil), "method"),
                Self.invalid("category unknown", w(consent, "provisions.0.categories", ["gossip"]), "provisions[0].categories[0]"),
                Self.invalid("no category", w(consent, "provisions.0.categories", [String]()), "provisions[0].categories"),
                Self.invalid("a category twice", w(consent, "provisions.0.categories", ["needs", "needs"]), "provisions[0].categories"),
                Self.invalid("purpose empty", w(consent, "provisions.0.purpose", ""), "provisions[0].purpose"),
                Self.invalid("recipient unknown", w(consent, "provisions.0.recipient_organisation", UUID().uuidString), "provisions[0].recipient_organisation"),
                Self.invalid("recipient not a UUID", w(consent, "provisions.0.recipient_organisation", "shelter"), "provisions[0].recipient_organisation"),
                Self.invalid("expires_at 2026-02-30", w(consent, "expires_at", "2026-02-30T10:00:00Z"), "expires_at"),
                Self.invalid("expires_at in the past", w(consent, "expires_at", "2020-01-01T00:00:00Z"), "expires_at"),
                Self.invalid("granted_at tomorrow", w(consent, "granted_at", ISO8601DateFormatter().string(from: Date().addingTimeInterval(86_400))), "granted_at"),
                Self.invalid("statistics a string", w(consent, "statistics", "yes"), "statistics"),
            ])
            #expect(try CaseKit.count(app, "consent") == consents)

            // Withdrawing a consent of another case through this one.
            let siblingConsent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(sibling.uuidString)/consents", consent)
            let crossedWithdrawal = try await CaseKit.call(client, .post, base + "/consents/\(siblingConsent.uuidString)/withdraw", caseworker.token)
            CaseKit.expectProblem(crossedWithdrawal, .notFound)
            #expect(try CaseKit.count(app, "consent", where: "withdrawn_at IS NOT NULL") == 0)
        }
    }

    @Test("referrals and transitions refuse bad values and other records' ids, storing nothing")
    func referrals() async throws {
        try await TestApp.run { app, client in
            let org = try await app.organisation()
            let other = try await app.organisation()
            let shelter = try await app.organisation(type: .shelter, services: [.safeAccommodation])
            let caseworker = try await CaseKit.member(app, client, .caseworker, in: org.id)
            let outsider = try await CaseKit.member(app, client, .caseworker, in: other.id)
            let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
            let caseID = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let sibling = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person())).id
            let foreignCase = try await CaseKit.createCase(client, outsider, CaseKit.intake(CaseKit.Person())).id
            let base = "/v1/cases/\(caseID.uuidString)"
            let need = try await CaseKit.create(client, caseworker.token, base + "/needs", ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
            let consent = try await CaseKit.create(client, caseworker.token, base + "/consents", CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
            let siblingConsent = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(sibling.uuidString)/consents",
                                                          CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
            let siblingNeed = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(sibling.uuidString)/needs",
                                                       ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
            let foreignConsent = try await CaseKit.create(client, outsider.token, "/v1/cases/\(foreignCase.uuidString)/consents",
                                                          CaseKit.consent(to: [shelter.id], categories: ["profile", "needs"]))
            let w = Self.with
            let referral: [String: Any] = ["to_organisation": shelter.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
                                           "shared_categories": ["profile", "needs"]]
            try await Self.run(client, .post, base + "/referrals", caseworker.token, [
                Case(label: "malformed", payload: .text(#"{"to_organisation": "#), status: [400], field: "body"),
                Self.invalid("consent of another case", w(referral, "consent_id", siblingConsent.uuidString), "consent_id"),
                Self.invalid("consent of another organisation's case", w(referral, "consent_id", foreignConsent.uuidString), "consent_id"),
                Self.invalid("consent that does not exist", w(referral, "consent_id", UUID().uuidString), "consent_id"),
                Self.invalid("consent missing", w(referral, "consent_id", nil), "consent_id"),
                Self.invalid("need of another case", w(referral, "need_id", siblingNeed.uuidString), "need_id"),
                Self.invalid("neither need nor service type", w(referral, "need_id", nil), "service_type"),
                Self.invalid("service type other than the need's", w(referral, "service_type", "medical"), "service_type"),
                Self.invalid("to own organisation", w(referral, "to_organisation", org.id.uuidString), "to_organisation"),
                Self.invalid("to an organisation that does not exist", w(referral, "to_organisation", UUID().uuidString), "to_organisation"),
                Self.invalid("to_organisation not a UUID", w(referral, "to_organisation", "the shelter"), "to_organisation"),
                Self.invalid("category unknown", w(referral, "shared_categories", ["everything"]), "shared_categories[0]"),
                Self.invalid("categories a string", w(referral, "shared_categories", "profile"), "shared_categories"),
                Self.invalid("a category twice", w(referral, "shared_categories", ["profile", "profile"]), "shared_categories"),
                Self.invalid("priority unknown", w(referral, "priority", "asap"), "priority"),
                Self.invalid("100 kB note", w(referral, "note", Self.huge), "note"),
                Self.invalid("previous referral unknown", w(referral, "previous_referral_id", UUID().uuidString), "previous_referral_id"),
            ])
            #expect(try CaseKit.count(app, "referral") == 0)

            let created = try await CaseKit.create(client, caseworker.token, base + "/referrals", referral)
            let transitions = try CaseKit.count(app, "referral_transition")
            try await Self.run(client, .post, "/v1/referrals/\(created.uuidString)/transitions", partner.token, [
                Case(label: "malformed", payload: .text("{to: accepted}"), status: [400], field: "body"),
                Self.invalid("state unknown", ["to": "teleported"], "to"),
                Self.invalid("state missing", ["reason": "no-capacity"], "to"),
                Self.invalid("reason as free text", ["to": "rejected", "reason": "we are full this week, sorry"], "reason"),
                Self.invalid("business status as free text", ["to": "received", "business_status": "Waiting for Mrs. Example"], "business_status"),
                Self.invalid("business status too long", ["to": "received", "business_status": String(repeating: "a", count: 100)], "business_status"),
                Self.invalid("100 kB note", ["to": "received", "note": Self.huge], "note"),
                Self.invalid("100 kB outcome", ["to": "received", "outcome": Self.huge], "outcome"),
            ])
            #expect(try CaseKit.count(app, "referral_transition") == transitions)
            let read = try await CaseKit.call(client, .get, "/v1/referrals/\(created.uuidString)", partner.token)
            #expect(try read.json()["status"] as? String == "requested")
        }
    }
}
