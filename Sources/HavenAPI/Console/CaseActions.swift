import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The small forms on the case page and the review queue: assigning the case, withdrawing a
/// consent (whole or for one recipient), amending one (`ConsentVersionPages`), and a supervisor's emergency access to another organisation's case by its reference.
extension ConsoleController {
    func registerCaseActions(_ router: Router<HavenRequestContext>) {
        router.post("/cases/:id/assign") { request, context in
            await action(request, context) { visit, form in try await assign(try caseID(context), form, visit) }
        }
        router.post("/cases/:id/consents/:consent/withdraw") { request, context in
            await action(request, context) { visit, form in
                let id = try caseID(context)
                guard let consent = context.parameters.get("consent").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such consent") }
                // A recipient named: the consent is withdrawn for that organisation only.
                if let recipient = form.text("recipient_organisation").flatMap(UUID.init(text:)) {
                    _ = try await cases.withdrawConsent(consent, of: id, for: recipient, context: visit.access)
                } else {
                    _ = try await cases.withdrawConsent(consent, of: id, context: visit.access)
                }
                return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())#consents")
            }
        }
        router.get("/cases/:id/consents/:consent/amend") { request, context in
            await page(request, context) { visit in
                guard let consent = context.parameters.get("consent").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such consent") }
                return try await amendConsentPage(try caseID(context), consent, visit)
            }
        }
        router.post("/cases/:id/consents/:consent/amend") { request, context in
            await action(request, context) { visit, form in
                guard let consent = context.parameters.get("consent").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such consent") }
                return try await amendConsent(try caseID(context), consent, form, visit)
            }
        }
        router.post("/break-glass") { request, context in
            await action(request, context) { visit, form in try await startEmergencyAccess(request, form, visit) }
        }
    }

    func assign(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let field = { (key: String) in [FieldMessage(field: "assignee", text: catalogue.text(key, visit.language))] }
        guard let assignee = form.text("assignee").flatMap(UUID.init(text:)) else {
            return try await casePage(id, visit, messages: field("error.assignee"), status: .unprocessableContent)
        }
        do {
            _ = try await cases.assign(id, to: assignee, expectedVersion: form["version"].flatMap { Int($0) }, context: visit.access)
        } catch StoreError.preconditionFailed {
            return try await casePage(id, visit, messages: field("error.stale"), status: .preconditionFailed)
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            return try await casePage(id, visit, messages: messages, status: .unprocessableContent)
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())")
    }

    /// Opens the case for an hour (S19) and goes to it; the page then shows how long is left.
    func startEmergencyAccess(_ request: Request, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let reference = form.text("reference") ?? ""
        let reason = form.text("reason") ?? ""
        let bytes = try JSONSerialization.data(withJSONObject: ["reference": reference, "reason": reason], options: [.sortedKeys])
        let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: break-glass", body: Array(bytes))
        do {
            let outcome = try await BreakGlassService(store: store).start(reference: reference, reason: reason, request: key, context: visit.access) { grant in
                Idempotent.Answer(body: [], location: "/cases/\(grant.caseID.uuidString.lowercased())", caseID: grant.caseID)
            }
            return created(outcome, fallback: "/break-glass")
        } catch StoreError.notFound {
            let message = FieldMessage(field: "reference", text: catalogue.text("error.break_glass_reference", visit.language))
            return try await grantsPage(request, visit, form: form, messages: [message], status: .notFound)
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            return try await grantsPage(request, visit, form: form, messages: messages, status: .unprocessableContent)
        }
    }

    /// The case page's parts for these forms.
    func caseActionsModel(_ folder: CaseFolder, _ visit: ConsoleVisit) -> [String: Any] {
        var model: [String: Any] = [:]
        if !folder.assignees.isEmpty {
            model["has_assignees"] = true
            model["assignees"] = folder.assignees.map { user in
                ["value": user.id.uuidString.lowercased(), "label": (user.displayName ?? user.username) + " · " + catalogue.label("role", user.role.rawValue, visit.language),
                 "selected": user.id == folder.file.assignee] as [String: Any]
            }
        }
        if let until = folder.emergencyUntil {
            model["emergency"] = ["until": visit.format.dateTime(until),
                                  "minutes": String(max(1, Int((until.timeIntervalSinceNow / 60).rounded(.up))))]
        }
        return model
    }
}
