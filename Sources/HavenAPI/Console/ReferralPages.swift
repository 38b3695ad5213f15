import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The referral lists (a partner's inbox) and the referral page with its transition form.
extension ConsoleController {
    func registerReferralPages(_ router: Router<HavenRequestContext>) {
        router.get("/referrals") { request, context in await page(request, context) { visit in try await referralList(request, visit) } }
        router.get("/referrals/:id") { request, context in
            await page(request, context) { visit in try await referralPage(try referralID(context), visit) }
        }
        router.post("/referrals/:id/transition") { request, context in
            await action(request, context) { visit, form in try await transition(try referralID(context), form, visit) }
        }
        registerReferralEpisodePages(router)
    }

    func referralID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such referral") }
        return id
    }

    func referralList(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = request.uri.queryParameters
        let direction = query.get("direction").flatMap(ReferralDirection.init(rawValue:)) ?? .incoming
        let page = try await referrals.list(direction: direction, status: nil, page: PageRequest(cursor: query.get("cursor").map { String($0) }, limit: 50),
                                            context: visit.access)
        let names = try await directory.names(users: Set(page.items.compactMap { $0.handler(seenBy: visit.actor) }),
                                              organisations: Set(page.items.flatMap { [$0.fromOrganisation, $0.toOrganisation] }), viewer: visit.actor)
        var model: [String: Any] = ["referrals": page.items.map { referralRow($0, names: names, visit) }, "empty": page.items.isEmpty,
                                    "incoming": direction == .incoming,
                                    // Partner users send nothing: their organisation's outbox is not theirs to see.
                                    "sends": AccessPolicy.outgoingReferralScope(visit.actor) != .nothing]
        if let next = page.nextCursor {
            var components = URLComponents()
            components.path = "/referrals"
            components.queryItems = [URLQueryItem(name: "direction", value: direction.rawValue), URLQueryItem(name: "cursor", value: next)]
            model["next"] = components.string
        }
        return render("referrals", visit, title: "referrals.title", model)
    }

    func referralRow(_ referral: Referral, names: DirectoryService.Names, _ visit: ConsoleVisit) -> [String: Any] {
        let language = visit.language
        // Who handles it, for the receiving organisation only (empty otherwise; shown as text, never as a section).
        let handler = referral.handler(seenBy: visit.actor).flatMap { names.user($0) } ?? ""
        return ["id": referral.id.uuidString.lowercased(), "reference": referral.caseReference, "handler": handler,
                "service": catalogue.label("service_type", referral.serviceType.rawValue, language),
                "from": names.organisations[referral.fromOrganisation] ?? "", "to": names.organisations[referral.toOrganisation] ?? "",
                "priority": catalogue.label("priority", referral.priority.rawValue, language), "priority_code": referral.priority.rawValue,
                "due": visit.format.dateTime(referral.dueAt), "overdue": referral.status.isOpen && referral.dueAt < Date(),
                "status": catalogue.label("referral_status", referral.status.rawValue, language), "status_code": referral.status.rawValue]
    }

    func referralPage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                      status: HTTPResponse.Status = .ok, refusedEpisode: EpisodeForm? = nil) async throws -> Response {
        let view = try await referrals.read(id, context: visit.access)
        let referral = view.referral
        let history = try await referrals.history(id, context: visit.access)
        let names = try await directory.names(users: Set(history.compactMap(\.actorUser)),
                                              organisations: [referral.fromOrganisation, referral.toOrganisation], viewer: visit.actor)
        let language = visit.language
        let format = visit.format
        var model = ConsoleController.errorModel(messages)
        var row = referralRow(referral, names: names, visit)
        // Absent, not empty: an empty string still opens a Mustache section.
        row["business_status"] = referral.businessStatus
        row["status_reason"] = referral.statusReason.map { catalogue.label("reason", $0, language) }
        row["outcome"] = referral.outcome
        row["categories"] = referral.sharedCategories.map { catalogue.label("category", $0.rawValue, language) }.joined(separator: ", ")
        if view.side == .sender { row["case_id"] = referral.caseID.uuidString.lowercased() }
        model["referral"] = row
        model["recipient"] = view.side == .recipient
        model.merge(try await handlerModel(view, visit)) { _, new in new }
        if let shared = view.shared { model["shared"] = sharedModel(shared, visit) }
        model.merge(try await episodesModel(view, visit, refused: refusedEpisode)) { _, new in new }
        model["history"] = history.map { step in
            var entry: [String: Any] = [
                "at": format.dateTime(step.at), "to": catalogue.label("referral_status", step.to.rawValue, language),
                "who": names.user(step.actorUser) ?? step.actorOrganisation.flatMap { names.organisations[$0] } ?? catalogue.text("history.haven", language),
            ]
            entry["reason"] = step.reason.map { catalogue.label("reason", $0, language) }
            entry["business_status"] = step.businessStatus
            return entry
        }
        var targets = ReferralStateMachine.allowedTargets(from: referral.status, side: view.side).map(\.rawValue)
        // An open referral's recipient may change only its business status.
        if view.side == .recipient && referral.status.isOpen { targets.insert(referral.status.rawValue, at: 0) }
        // Offered first but not chosen by default: a new referral's next step is a real move.
        let chosen = form["to"] ?? targets.first { $0 != referral.status.rawValue }
        if !targets.isEmpty {
            model["has_targets"] = true
            model["targets"] = targets.map { code in
                ["value": code, "selected": chosen == code,
                 "label": code == referral.status.rawValue ? catalogue.text("transition.keep", language) : catalogue.label("referral_status", code, language)]
                    as [String: Any]
            }
            model["reasons"] = RejectionReason.allCases.map { reason in
                ["value": reason.rawValue, "label": catalogue.label("reason", reason.rawValue, language), "selected": form["reason"] == reason.rawValue]
                    as [String: Any]
            }
            model["form"] = ["business_status": form["business_status"] ?? "", "outcome": form["outcome"] ?? "", "note": form["note"] ?? ""]
        }
        if let covering = view.coveringOrganisations, !covering.isEmpty {
            model["has_covering"] = true
            model["covering"] = covering.map(\.name)
        }
        model["title_detail"] = referral.caseReference
        return render("referral", visit, title: "referral.title", model, status: status)
    }

    /// What a referral's recipient sees of the case: only what the consent released.
    func sharedModel(_ part: SharedPart, _ visit: ConsoleVisit) -> [String: Any] {
        let language = visit.language
        var model: [String: Any] = ["reference": part.reference]
        if let caseType = part.caseType { model["case_type"] = catalogue.label("case_type", caseType.rawValue, language) }
        if let profile = part.profile {
            var person: [String: Any] = ["sex": catalogue.label("sex", profile.sex.rawValue, language)]
            if let year = profile.birthYear { person["birth_year"] = String(year) }
            if let citizenship = profile.citizenship { person["citizenship"] = citizenship }
            if let languages = profile.languages, !languages.isEmpty { person["languages"] = languages.joined(separator: ", ") }
            model["profile"] = person
        }
        if let identity = part.identity {
            let name = [identity.givenName, identity.familyName].compactMap { $0 }.joined(separator: " ")
            if !name.isEmpty { model["name"] = name }
            if let phone = identity.contact?.phone { model["phone"] = phone }
        }
        if let needs = part.needs {
            model["has_needs"] = !needs.isEmpty
            model["needs"] = needs.map { need in
                var row: [String: Any] = ["service": catalogue.label("service_type", need.serviceType.rawValue, language),
                                          "priority": catalogue.label("priority", need.priority.rawValue, language)]
                row["note"] = need.note
                return row
            }
        }
        if let note = part.note { model["note"] = note }
        return model
    }

    func transition(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        guard let target = form["to"].flatMap(ReferralStatus.init(rawValue:)) else {
            return try await referralPage(id, visit, form: form, messages: [FieldMessage(field: "to", text: catalogue.text("error.to", language))],
                                          status: .unprocessableContent)
        }
        let move = TransitionRequest(to: target, reason: target == .rejected ? form.text("reason") : nil, businessStatus: form.text("business_status"),
                                     outcome: form.text("outcome"), note: form.text("note"))
        do {
            _ = try await referrals.transition(id, move, context: visit.access)
        } catch let failure as ValidationFailure {
            return try await referralPage(id, visit, form: form, messages: messages(for: failure, language), status: .unprocessableContent)
        } catch StoreError.invalid(let failure) {
            return try await referralPage(id, visit, form: form, messages: messages(for: failure, language), status: .unprocessableContent)
        } catch let refused as ReferralService.Refused {
            let message: FieldMessage
            switch refused.refusal {
            case .reasonRequired: message = FieldMessage(field: "reason", text: catalogue.text("error.reason", language))
            case .outcomeRequired: message = FieldMessage(field: "outcome", text: catalogue.text("error.outcome", language))
            case .notAllowed: message = FieldMessage(field: "to", text: catalogue.text("error.transition_not_allowed", language))
            }
            return try await referralPage(id, visit, form: form, messages: [message], status: .conflict)
        }
        return ConsoleRenderer.redirect("/referrals/\(id.uuidString.lowercased())")
    }
}
