import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The forms that hang off a case page: a need, a consent, a referral, closure.
extension ConsoleController {
    func registerCaseForms(_ router: Router<HavenRequestContext>) {
        router.get("/cases/:id/needs/new") { request, context in
            await page(request, context) { visit in try await needPage(try caseID(context), visit) }
        }
        router.post("/cases/:id/needs") { request, context in
            await action(request, context) { visit, form in try await addNeed(try caseID(context), form, visit) }
        }
        router.get("/cases/:id/consents/new") { request, context in
            await page(request, context) { visit in try await consentPage(try caseID(context), visit) }
        }
        router.post("/cases/:id/consents") { request, context in
            await action(request, context) { visit, form in try await recordConsent(try caseID(context), form, visit) }
        }
        router.get("/cases/:id/referrals/new") { request, context in
            await page(request, context) { visit in
                try await referPage(try caseID(context), visit, form: ConsoleForm(["need_id": request.uri.queryParameters.get("need").map { String($0) } ?? ""]))
            }
        }
        router.post("/cases/:id/referrals") { request, context in
            await action(request, context) { visit, form in try await refer(try caseID(context), form, visit) }
        }
        router.post("/cases/:id/close") { request, context in
            await action(request, context) { visit, form in try await close(try caseID(context), form, visit) }
        }
        router.post("/cases/:id/close/approve") { request, context in
            await action(request, context) { visit, _ in
                let id = try caseID(context)
                do {
                    _ = try await cases.approveClosure(id, expectedVersion: nil, context: visit.access)
                } catch is ClosureUndecided {
                    // Open work needs a decision per item: the closure page asks for them.
                    return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())/closure")
                }
                return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())")
            }
        }
    }

    func caseID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such case") }
        return id
    }

    /// Where a form page came from, named by the case's reference.
    func caseHeader(_ id: UUID, _ visit: ConsoleVisit) async throws -> [String: Any] {
        let file = try await cases.read(id, context: visit.access)
        return ["id": id.uuidString.lowercased(), "reference": file.reference]
    }

    /// What to do with a created record: go to it; a replay goes where the first one went.
    func created(_ outcome: Idempotent.Outcome, fallback: String) -> Response {
        switch outcome {
        case .created(let answer): return ConsoleRenderer.redirect(answer.location ?? fallback)
        case .replay(let stored): return ConsoleRenderer.redirect(stored.location ?? fallback)
        }
    }

    func refusal(_ error: any Error, _ language: Language) -> [FieldMessage]? {
        switch error {
        case let failure as ValidationFailure: return messages(for: failure, language)
        case StoreError.invalid(let failure): return messages(for: failure, language)
        default: return nil
        }
    }

    // MARK: Needs

    func needPage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                  status: HTTPResponse.Status = .ok) async throws -> Response {
        var model = ConsoleController.errorModel(messages)
        model["case"] = try await caseHeader(id, visit)
        model["domains"] = options("domain", SecurityDomain.allCases.map(\.rawValue), selected: form["domain"] ?? "personal", visit)
        model["services"] = options("service_type", ServiceType.allCases.map(\.rawValue), selected: form["service_type"], visit)
        model["priorities"] = options("priority", NeedPriority.allCases.map(\.rawValue), selected: form["priority"] ?? "normal", visit)
        model["note"] = form["note"] ?? ""
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        return render("need", visit, title: "need.title", model, status: status)
    }

    func addNeed(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let body = form.json()
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        do {
            let draft = try decode(NeedDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: need of \(id)", body: Array(bytes))
            let outcome = try await cases.addNeed(to: id, draft, request: key, context: visit.access) { _ in
                Idempotent.Answer(body: [], location: "/cases/\(id.uuidString.lowercased())#needs", caseID: id)
            }
            return created(outcome, fallback: "/cases/\(id.uuidString.lowercased())")
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            return try await needPage(id, visit, form: form, messages: messages, status: .unprocessableContent)
        }
    }

    // MARK: Consents

    func consentPage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                     status: HTTPResponse.Status = .ok) async throws -> Response {
        var model = ConsoleController.errorModel(messages)
        model["case"] = try await caseHeader(id, visit)
        model["grantors"] = options("grantor", ConsentGrantor.allCases.map(\.rawValue), selected: form["grantor"] ?? "self", visit)
        model["methods"] = options("method", ConsentMethod.allCases.map(\.rawValue), selected: form["method"] ?? "written", visit)
        let recipients = try await directory.organisations().filter { $0.id != visit.actor.organisationID }
        model["recipients"] = recipients.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name,
                                                "selected": form["recipient"] == $0.id.uuidString.lowercased()] as [String: Any] }
        model["categories"] = checkboxes("category", DataCategory.allCases.map(\.rawValue), ticked: form.all("categories"), visit)
        model["purpose"] = form["purpose"] ?? ""
        model["expires_on"] = form["expires_on"] ?? ""
        model["statistics"] = form["statistics"] != nil
        model["capacity_assessed"] = form["capacity_assessed"] != nil
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        return render("consent", visit, title: "consent.title", model, status: status)
    }

    func recordConsent(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var body: [String: Any] = ["statistics": form["statistics"] != nil]
        if form["capacity_assessed"] != nil { body["capacity_assessed"] = true }
        for name in ["grantor", "method"] { body[name] = form.text(name) }
        // The form names one recipient; the API's body is a list of provisions.
        var provision: [String: Any] = ["categories": form.all("categories")]
        provision["recipient_organisation"] = form.text("recipient")
        provision["purpose"] = form.text("purpose")
        body["provisions"] = [provision]
        if let day = form.text("expires_on") { body["expires_at"] = day + "T23:59:59Z" }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        do {
            let draft = try decode(ConsentDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: consent of \(id)", body: Array(bytes))
            let outcome = try await cases.recordConsent(on: id, draft, request: key, context: visit.access) { _ in
                Idempotent.Answer(body: [], location: "/cases/\(id.uuidString.lowercased())#consents", caseID: id)
            }
            return created(outcome, fallback: "/cases/\(id.uuidString.lowercased())")
        } catch {
            // The one provision's fields are the form's own, named before their messages are looked up.
            let rename = { (field: String) in
                field.replacingOccurrences(of: "provisions[0].recipient_organisation", with: "recipient")
                    .replacingOccurrences(of: "provisions[0].", with: "").replacingOccurrences(of: "expires_at", with: "expires_on")
            }
            let failure: ValidationFailure
            switch error {
            case let found as ValidationFailure: failure = found
            case StoreError.invalid(let found): failure = found
            default: throw error
            }
            let messages = self.messages(for: ValidationFailure(failure.errors.map { FieldError(rename($0.field), $0.reason) }), visit.language)
            return try await consentPage(id, visit, form: form, messages: messages, status: .unprocessableContent)
        }
    }

    // MARK: Referrals

    func referPage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm, messages: [FieldMessage] = [],
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        var model = ConsoleController.errorModel(messages)
        let file = try await cases.read(id, context: visit.access)
        model["case"] = ["id": id.uuidString.lowercased(), "reference": file.reference]
        let language = visit.language
        let needs = try await cases.needs(of: id, context: visit.access).filter { $0.status == "open" }
        let chosen = needs.first { $0.id.uuidString.lowercased() == form["need_id"]?.lowercased() }
        model["needs"] = needs.map { need in
            ["id": need.id.uuidString.lowercased(), "label": catalogue.label("service_type", need.serviceType.rawValue, language) + " · "
                + catalogue.label("priority", need.priority.rawValue, language), "chosen": need.id == chosen?.id] as [String: Any]
        }
        if let chosen {
            model["need"] = ["id": chosen.id.uuidString.lowercased(), "service": catalogue.label("service_type", chosen.serviceType.rawValue, language)]
            // Only organisations that serve this person: a boy is not offered a women's shelter.
            let population = Population.of(file.profile, dateOfBirth: file.identity?.dateOfBirth, today: CalendarDate.of(Date()))
            let covering = try await directory.covering(chosen.serviceType, population: population, viewer: visit.actor)
            model["organisations"] = covering.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name,
                                                     "checked": form["to_organisation"] == $0.id.uuidString.lowercased()] as [String: Any] }
            model["has_organisations"] = !covering.isEmpty
            let consents = try await cases.consents(of: id, context: visit.access).filter { $0.status(at: Date()) == .active }
            let names = try await directory.names(users: [], organisations: Set(consents.flatMap { $0.provisions.map(\.recipientOrganisation) }),
                                                  viewer: visit.actor)
            model["consents"] = consents.map { consent in
                ["value": consent.id.uuidString.lowercased(), "checked": form["consent_id"] == consent.id.uuidString.lowercased() || consents.count == 1,
                 "label": consent.provisions.map { provision in
                     (names.organisations[provision.recipientOrganisation] ?? "") + ": "
                         + provision.categories.map { catalogue.label("category", $0.rawValue, language) }.joined(separator: ", ")
                 }.joined(separator: "; ")] as [String: Any]
            }
            model["has_consents"] = !consents.isEmpty
            model["categories"] = checkboxes("category", DataCategory.allCases.map(\.rawValue), ticked: form.all("shared_categories"), visit)
            model["note"] = form["note"] ?? ""
            model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        }
        return render("refer", visit, title: "refer.title", model, status: status)
    }

    func refer(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        guard form["confirm"] != nil else {
            return try await referPage(id, visit, form: form, messages: [FieldMessage(field: "confirm", text: catalogue.text("error.confirm", language))],
                                       status: .unprocessableContent)
        }
        let body = form.json(lists: ["shared_categories"]).filter { $0.key != "confirm" }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        do {
            let draft = try decode(ReferralDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: referral of \(id)", body: Array(bytes))
            let outcome = try await referrals.create(on: id, draft, request: key, context: visit.access) { referral in
                Idempotent.Answer(body: [], location: "/referrals/\(referral.id.uuidString.lowercased())", caseID: id)
            }
            return created(outcome, fallback: "/cases/\(id.uuidString.lowercased())")
        } catch let refused as ReferralService.NotCovered {
            let missing = refused.missing.map { catalogue.label("category", $0.rawValue, language) }.joined(separator: ", ")
            let text = refused.consentStatus == .active
                ? catalogue.text("error.not_covered", language, ["categories": missing])
                : catalogue.text("error.consent_inactive", language)
            return try await referPage(id, visit, form: form, messages: [FieldMessage(field: "shared_categories", text: text)], status: .conflict)
        } catch let refused as ReferralService.OutsideMandate {
            let text = catalogue.text(refused.unserved.isEmpty ? "error.outside_mandate" : "error.population_not_served", language,
                                      ["organisation": refused.recipient])
            return try await referPage(id, visit, form: form, messages: [FieldMessage(field: "to_organisation", text: text)],
                                       status: refused.unserved.isEmpty ? .unprocessableContent : .conflict)
        } catch {
            guard let messages = refusal(error, language) else { throw error }
            return try await referPage(id, visit, form: form, messages: messages, status: .unprocessableContent)
        }
    }

    // MARK: Closure

    func close(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        guard let reason = form["reason"].flatMap(ClosureReason.init(rawValue:)) else {
            return try await casePage(id, visit, messages: [FieldMessage(field: "closure_reason", text: catalogue.text("error.closure_reason", visit.language))],
                                      status: .unprocessableContent)
        }
        do {
            _ = try await cases.close(id, reason: reason, expectedVersion: form["version"].flatMap { Int($0) }, context: visit.access)
        } catch StoreError.preconditionFailed {
            return try await casePage(id, visit, messages: [FieldMessage(field: "closure_reason", text: catalogue.text("error.stale", visit.language))],
                                      status: .preconditionFailed)
        } catch StoreError.conflict {
            return try await casePage(id, visit, messages: [FieldMessage(field: "closure_reason", text: catalogue.text("error.closure_conflict", visit.language))],
                                      status: .conflict)
        } catch is ClosureUndecided {
            // Closing at once with work still open: the closure page lists it with a choice for each.
            return try await closurePage(id, visit, form: form, status: .unprocessableContent)
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())")
    }
}
