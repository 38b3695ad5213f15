import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// Registering a case: the intake form, its refusals next to their fields, the duplicate hint.
extension ConsoleController {
    func registerIntakePages(_ router: Router<HavenRequestContext>) {
        router.get("/cases/new") { request, context in await page(request, context) { visit in intakePage(visit) } }
        router.post("/cases") { request, context in await action(request, context) { visit, form in try await intake(form, visit) } }
    }

    static let intakeIntegers: Set<String> = ["person.birth_year", "trafficking.months_exploited", "violence.perpetrator_count"]
    static let intakeLists: Set<String> = ["trafficking.exploitation_types", "trafficking.means_of_control", "violence.types",
                                           "trafficking.transit_countries", "trafficking.other_countries_of_exploitation",
                                           "trafficking.years_of_exploitation"]
    /// Lists typed into one field, their items separated by commas (`UA, PL`; `2023, 2024`).
    static let intakeTypedLists: Set<String> = ["trafficking.transit_countries", "trafficking.other_countries_of_exploitation",
                                                "trafficking.years_of_exploitation"]
    /// Yes / no / not known: a choice of "true" or "false", nothing when not known.
    static let intakeFlags: Set<String> = ["trafficking.trafficked_as_child"]

    func intakePage(_ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                    status: HTTPResponse.Status = .ok) -> Response {
        var model = ConsoleController.errorModel(messages)
        let value = { (name: String) in form[name] ?? "" }
        model["form"] = [
            "given_name": value("person.identity.given_name"), "family_name": value("person.identity.family_name"),
            "birth_year": value("person.birth_year"), "citizenship": value("person.citizenship"), "phone": value("person.identity.contact.phone"),
            // UTC's day, as the rule that refuses future dates counts them (HavenCore's `CalendarDate.of`).
            "identified_on": form["identified_on"] ?? CalendarDate.of(Date()).description, "country": value("trafficking.country_of_exploitation"),
            "months": value("trafficking.months_exploited"), "note": value("note"), "languages": value("person.languages"),
            "transit_countries": value("trafficking.transit_countries"), "other_countries": value("trafficking.other_countries_of_exploitation"),
            "years": value("trafficking.years_of_exploitation"), "incident_date": value("violence.incident_date"),
            "reported_on": value("violence.reported_on"), "perpetrator_count": value("violence.perpetrator_count"),
        ]
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        model["ask_supervisor"] = AccessPolicy.duplicateHintReach(visit.actor) == .ownOrganisation
        model["case_types"] = options("case_type", CaseType.allCases.map(\.rawValue), selected: form["case_type"] ?? "trafficking", visit)
        model["identifications"] = options("identification", IdentificationStatus.allCases.map(\.rawValue),
                                           selected: form["identification_status"] ?? "presumed", visit)
        model["identifiers"] = options("identified_by", IdentifiedBy.allCases.map(\.rawValue), selected: form["identified_by"], visit)
        model["risks"] = options("risk", RiskLevel.allCases.map(\.rawValue), selected: form["risk_level"] ?? "medium", visit)
        model["sexes"] = options("sex", Sex.allCases.map(\.rawValue), selected: form["person.sex"] ?? "unknown", visit)
        model["exploitation"] = checkboxes("exploitation", ExploitationType.allCases.map(\.rawValue), ticked: form.all("trafficking.exploitation_types"), visit)
        model["control"] = checkboxes("control", MeansOfControl.allCases.map(\.rawValue), ticked: form.all("trafficking.means_of_control"), visit)
        model["violence"] = checkboxes("violence", ViolenceType.allCases.map(\.rawValue), ticked: form.all("violence.types"), visit)
        model["recruitments"] = options("recruitment", RecruitmentType.allCases.map(\.rawValue), selected: form["trafficking.recruitment_type"], visit)
        model["as_child"] = options("answer", ["true", "false"], selected: form["trafficking.trafficked_as_child"], visit)
        model["perpetrator_sexes"] = options("perpetrator_sex", PerpetratorSex.allCases.map(\.rawValue),
                                             selected: form["violence.perpetrator_sex"], visit)
        model["perpetrator_ages"] = options("perpetrator_age", PerpetratorAgeGroup.allCases.map(\.rawValue),
                                            selected: form["violence.perpetrator_age_group"], visit)
        return render("intake", visit, title: "intake.title", model, status: status)
    }

    func checkboxes(_ prefix: String, _ codes: [String], ticked: [String], _ visit: ConsoleVisit) -> [[String: Any]] {
        codes.map { ["value": $0, "id": prefix + "-" + $0, "label": catalogue.label(prefix, $0, visit.language), "checked": ticked.contains($0)] }
    }

    /// The form read as the API's intake body, so it is decoded and checked exactly as the API's.
    func intake(_ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var body = form.json(integers: ConsoleController.intakeIntegers, lists: ConsoleController.intakeLists)
        // A profile only for the case's type: the other section's boxes are ignored.
        let type = form["case_type"] ?? ""
        if type == CaseType.domesticViolence.rawValue { body["trafficking"] = nil }
        if type == CaseType.trafficking.rawValue { body["violence"] = nil }
        if let languages = form.text("person.languages") {
            var person = body["person"] as? [String: Any] ?? [:]
            person["languages"] = languages.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            body["person"] = person
        }
        ConsoleController.readTypedLists(&body)
        let refuse = { (messages: [FieldMessage]) in intakePage(visit, form: form, messages: messages, status: .unprocessableContent) }
        let draft: CaseDraft
        do {
            draft = try decode(CaseDraft.self, from: body)
        } catch let failure as ValidationFailure {
            return refuse(messages(for: failure, visit.language))
        }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: new case", body: Array(bytes))
        do {
            let outcome = try await cases.intake(draft, request: key, context: visit.access) { file, duplicates in
                Idempotent.Answer(body: Array((duplicates.found ? "duplicates" : "").utf8), location: "/cases/\(file.id.uuidString.lowercased())",
                                  caseID: file.id)
            }
            switch outcome {
            case .created(let answer):
                guard let location = answer.location else { return ConsoleRenderer.redirect("/cases") }
                if !answer.body.isEmpty { return duplicatePage(visit, location: location) }
                return ConsoleRenderer.redirect(location)
            case .replay(let stored):
                return ConsoleRenderer.redirect(stored.location ?? "/cases")
            }
        } catch let failure as ValidationFailure {
            return refuse(messages(for: failure, visit.language))
        } catch StoreError.invalid(let failure) {
            return refuse(messages(for: failure, visit.language))
        } catch let limited as DuplicateHintLimited {
            let minutes = String((limited.retryAfter + 59) / 60)
            let text = catalogue.text("intake.duplicate_limit", visit.language, ["minutes": minutes])
            return intakePage(visit, form: form, messages: [FieldMessage(field: "person.identity.given_name", text: text)], status: .tooManyRequests)
        }
    }

    /// The profile's typed lists split at their commas (years as numbers when every item is
    /// one, else left as typed so the decoder names the field), and the yes / no choices as
    /// true or false.
    static func readTypedLists(_ body: inout [String: Any]) {
        for name in intakeTypedLists.union(intakeFlags) {
            let path = name.split(separator: ".").map(String.init)
            guard var section = body[path[0]] as? [String: Any], let value = section[path[1]] else { continue }
            if intakeFlags.contains(name) {
                section[path[1]] = value as? String == "true" ? true : value as? String == "false" ? false : value
            } else {
                let items = (value as? [String] ?? []).flatMap { $0.split(separator: ",") }
                    .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                if name.hasSuffix("years_of_exploitation") {
                    let years = items.compactMap { Int($0) }
                    section[path[1]] = years.count == items.count ? years as Any : items.joined(separator: ", ")
                } else {
                    section[path[1]] = items
                }
                if items.isEmpty { section[path[1]] = nil }
            }
            body[path[0]] = section
        }
    }

    /// The duplicate hint after saving: the case is registered; the person may already be known.
    func duplicatePage(_ visit: ConsoleVisit, location: String) -> Response {
        render("duplicates", visit, title: "intake.duplicate_title",
               ["location": location, "ask_supervisor": AccessPolicy.duplicateHintReach(visit.actor) == .ownOrganisation])
    }

    /// Decodes `body` as the API's decoder would; a refusal names the field as the API does.
    func decode<T: Decodable>(_ type: T.Type, from body: [String: Any]) throws -> T {
        let data = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        // Every wrong field at once, each shown beside its input; members the form's body carries
        // beyond the type's fields are the console's own and pass.
        do {
            return try BodyDecoder.decode(T.self, from: try JSONTree.parse(Array(data)), refuseUnknown: false)
        } catch let invalid as BodyDecoder.Invalid {
            throw ValidationFailure(APIError.refusal(invalid).errors)
        } catch is JSONTree.Refusal {
            throw ValidationFailure("body", "is not valid JSON")
        }
    }
}
