import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The supervisor's closure page: every open referral, service and need of the case with a
/// choice for each, then approve the request (or close at once), or decline it with a reason.
extension ConsoleController {
    func registerClosurePages(_ router: Router<HavenRequestContext>) {
        router.get("/cases/:id/closure") { request, context in
            await page(request, context) { visit in
                try await closurePage(try caseID(context), visit,
                                      form: ConsoleForm(["reason": request.uri.queryParameters.get("reason").map { String($0) } ?? ""]))
            }
        }
        router.post("/cases/:id/closure") { request, context in
            await action(request, context) { visit, form in try await decideClosure(try caseID(context), form, visit) }
        }
        router.post("/cases/:id/close/decline") { request, context in
            await action(request, context) { visit, form in try await declineClosure(try caseID(context), form, visit) }
        }
    }

    /// Form fields: `referral.<id>` (the cancellation reason), `service.<id>` (complete or
    /// cancel), `need.<id>` (met or cancelled); a choice left empty stays undecided.
    static func closureDecisions(_ form: ConsoleForm) -> ClosureDecisions {
        var decisions = ClosureDecisions()
        for (name, value) in form.values.sorted(by: { $0.key < $1.key }) where !value.isEmpty {
            let parts = name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, let id = UUID(text: parts[1]) else { continue }
            if parts[0] == "referral", let reason = ClosureCancellation(rawValue: value) {
                decisions.referrals.append(.init(id: id, reason: reason))
            } else if parts[0] == "service", let decision = ServiceClosureDecision(rawValue: value) {
                decisions.services.append(.init(id: id, decision: decision))
            } else if parts[0] == "need", let decision = NeedClosureDecision(rawValue: value) {
                decisions.needs.append(.init(id: id, decision: decision))
            }
        }
        return decisions
    }

    func closurePage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                     status: HTTPResponse.Status = .ok) async throws -> Response {
        let review = try await cases.closureReview(id, context: visit.access)
        let file = review.file
        let language = visit.language
        let names = try await directory.names(users: Set([file.closureRequestedBy].compactMap { $0 }),
                                              organisations: Set(review.referrals.map(\.toOrganisation)
                                                  + review.services.compactMap(\.providerOrganisation)), viewer: visit.actor)
        let errors = Dictionary(messages.map { ($0.field, $0.text) }, uniquingKeysWith: { first, _ in first })
        func choices(_ field: String, _ options: [(String, String)]) -> [[String: Any]] {
            options.map { ["value": $0.0, "label": $0.1, "selected": form[field] == $0.0] }
        }
        func item(_ kind: String, _ itemID: UUID, _ fields: [String: Any], _ options: [(String, String)]) -> [String: Any] {
            let field = "\(kind).\(itemID.uuidString.lowercased())"
            var row = fields
            row["field"] = field
            row["field_id"] = ConsoleController.fieldID(field)
            row["choices"] = choices(field, options)
            if let error = errors["\(kind)s.\(itemID.uuidString.lowercased())"] { row["error"] = error }
            return row
        }
        var model = ConsoleController.errorModel(messages.filter { !$0.field.contains(".") })
        if messages.contains(where: { $0.field.contains(".") }) {
            model["has_errors"] = true
            model["errors"] = [["field": "closure-items", "text": catalogue.text("closure.undecided_summary", language)]]
        }
        model["case"] = ["id": id.uuidString.lowercased(), "reference": file.reference, "version": String(file.version)]
        model["requested"] = file.closureRequestedAt != nil
        if file.closureRequestedAt != nil {
            model["request"] = ["by": names.user(file.closureRequestedBy) ?? catalogue.text("history.haven", language),
                                "reason": file.closureReason.map { catalogue.label("closure_reason", $0, language) } ?? "",
                                "at": file.closureRequestedAt.map { visit.format.dateTime($0) } ?? ""]
            model["decline_reasons"] = options("closure_decline", ClosureDeclineReason.allCases.map(\.rawValue), selected: form["decline_reason"], visit)
        } else {
            model["closure_reasons"] = options("closure_reason", ClosureReason.allCases.map(\.rawValue), selected: form["reason"], visit)
        }
        let cancellations = ClosureCancellation.allCases.map { ($0.rawValue, catalogue.label("reason", $0.rawValue, language)) }
        model["referrals"] = review.referrals.map { referral in
            item("referral", referral.id, ["service": catalogue.label("service_type", referral.serviceType.rawValue, language),
                                           "to": names.organisations[referral.toOrganisation] ?? "",
                                           "status": catalogue.label("referral_status", referral.status.rawValue, language)], cancellations)
        }
        model["services"] = review.services.map { service in
            item("service", service.id, ["type": catalogue.label("service_type", service.type.rawValue, language),
                                         "status": catalogue.label("service_status", service.status.rawValue, language)],
                 [(ServiceClosureDecision.complete.rawValue, catalogue.label("service_status", ServiceStatus.completed.rawValue, language)),
                  (ServiceClosureDecision.cancel.rawValue, catalogue.label("service_status", ServiceStatus.cancelled.rawValue, language))])
        }
        model["needs"] = review.needs.map { need in
            item("need", need.id, ["service": catalogue.label("service_type", need.serviceType.rawValue, language),
                                   "priority": catalogue.label("priority", need.priority.rawValue, language)],
                 [(NeedClosureDecision.met.rawValue, catalogue.label("need_outcome", NeedOutcome.met.rawValue, language)),
                  (NeedClosureDecision.cancelled.rawValue, catalogue.label("need_outcome", NeedOutcome.cancelled.rawValue, language))])
        }
        model["has_referrals"] = !review.referrals.isEmpty
        model["has_services"] = !review.services.isEmpty
        model["has_needs"] = !review.needs.isEmpty
        model["nothing_open"] = review.work.isEmpty
        model["title_detail"] = file.reference
        return render("closure", visit, title: "closure.title", model, status: status)
    }

    /// Approves the waiting request, or closes at once when none waits, with the decisions chosen.
    func decideClosure(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        let decisions = ConsoleController.closureDecisions(form)
        let version = form["version"].flatMap { Int($0) }
        do {
            let file = try await cases.read(id, context: visit.access)
            if file.closureRequestedAt != nil {
                _ = try await cases.approveClosure(id, decisions: decisions, expectedVersion: version, context: visit.access)
            } else {
                guard let reason = form["reason"].flatMap(ClosureReason.init(rawValue:)) else {
                    return try await closurePage(id, visit, form: form, messages: [FieldMessage(field: "reason", text: catalogue.text("error.closure_reason", language))],
                                                 status: .unprocessableContent)
                }
                _ = try await cases.close(id, reason: reason, decisions: decisions, expectedVersion: version, context: visit.access)
            }
        } catch let refusal as ClosureUndecided {
            let messages = refusal.failure.errors.map { FieldMessage(field: $0.field, text: catalogue.text("closure.undecided", language)) }
            return try await closurePage(id, visit, form: form, messages: messages, status: .unprocessableContent)
        } catch StoreError.preconditionFailed {
            return try await closurePage(id, visit, form: form, messages: [FieldMessage(field: "closure", text: catalogue.text("error.stale", language))],
                                         status: .preconditionFailed)
        } catch StoreError.conflict {
            return try await closurePage(id, visit, form: form,
                                         messages: [FieldMessage(field: "closure", text: catalogue.text("error.closure_conflict", language))], status: .conflict)
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())")
    }

    func declineClosure(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        guard let reason = form["decline_reason"].flatMap(ClosureDeclineReason.init(rawValue:)) else {
            return try await closurePage(id, visit, form: form,
                                         messages: [FieldMessage(field: "decline_reason", text: catalogue.text("error.decline_reason", language))],
                                         status: .unprocessableContent)
        }
        do {
            _ = try await cases.declineClosure(id, reason: reason, expectedVersion: form["version"].flatMap { Int($0) }, context: visit.access)
        } catch StoreError.preconditionFailed {
            return try await closurePage(id, visit, form: form, messages: [FieldMessage(field: "decline_reason", text: catalogue.text("error.stale", language))],
                                         status: .preconditionFailed)
        } catch StoreError.conflict {
            return try await closurePage(id, visit, form: form,
                                         messages: [FieldMessage(field: "decline_reason", text: catalogue.text("error.closure_conflict", language))],
                                         status: .conflict)
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())")
    }
}
