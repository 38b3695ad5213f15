import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The case page's needs: each open one with a small form to end it (met, cancelled, or
/// superseded by another open need, always with a reason); each ended one with its outcome.
extension ConsoleController {
    func registerNeedOutcomes(_ router: Router<HavenRequestContext>) {
        router.post("/cases/:id/needs/:need/close") { request, context in
            await action(request, context) { visit, form in
                let id = try caseID(context)
                guard let need = context.parameters.get("need").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such need") }
                return try await closeNeed(need, of: id, form, visit)
            }
        }
    }

    /// A refusal goes back to the case page with the message beside that need's field and what was typed kept.
    func closeNeed(_ need: UUID, of id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        func refuse(_ field: String, _ key: String, _ status: HTTPResponse.Status) async throws -> Response {
            let message = FieldMessage(field: Self.needField(need, field), text: catalogue.text(key, visit.language))
            return try await casePage(id, visit, messages: [message], status: status, closingNeed: (need, form))
        }
        guard let outcome = form.text("outcome").flatMap(NeedOutcome.init(rawValue:)) else {
            return try await refuse("outcome", "error.need_outcome", .unprocessableContent)
        }
        let successor = outcome == .superseded ? form.text("superseded_by").flatMap(UUID.init(text:)) : nil
        let closure = NeedClosure(outcome: outcome, reason: form.text("reason"), supersededBy: successor)
        do {
            _ = try await cases.closeNeed(need, of: id, closure, expectedVersion: form["version"].flatMap { Int($0) }, context: visit.access)
        } catch StoreError.preconditionFailed {
            return try await refuse("reason", "error.need_stale", .preconditionFailed)
        } catch StoreError.conflict {
            return try await refuse("reason", "error.need_ended", .conflict)
        } catch {
            let failure: ValidationFailure
            switch error {
            case let refused as ValidationFailure: failure = refused
            case StoreError.invalid(let refused): failure = refused
            default: throw error
            }
            let messages = failure.errors.map { error in
                FieldMessage(field: Self.needField(need, error.field),
                             text: catalogue.text(error.field == "superseded_by" ? "error.superseded_by" : "error.need_reason", visit.language))
            }
            return try await casePage(id, visit, messages: messages, status: .unprocessableContent, closingNeed: (need, form))
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())#needs")
    }

    /// The path a need's form field is known by in messages (its element id is this with underscores).
    static func needField(_ need: UUID, _ field: String) -> String { "need.\(need.uuidString.lowercased()).\(field)" }

    func needRows(_ needs: [Need], closable: Bool, messages: [FieldMessage], closing: (id: UUID, form: ConsoleForm)?,
                  _ visit: ConsoleVisit) -> [[String: Any]] {
        let language = visit.language
        let now = Date()
        let services = Dictionary(needs.map { ($0.id, catalogue.label("service_type", $0.serviceType.rawValue, language)) }) { first, _ in first }
        let open = needs.filter { $0.status == NeedStatus.open.rawValue }
        return needs.map { need in
            var row: [String: Any] = [
                "id": need.id.uuidString.lowercased(),
                "service": services[need.id] ?? "", "domain": catalogue.label("domain", need.domain.rawValue, language),
                "priority": catalogue.label("priority", need.priority.rawValue, language), "priority_code": need.priority.rawValue,
                "due": visit.format.dateTime(need.dueAt), "status": catalogue.label("need_status", need.status, language),
                "overdue": need.isOverdue(at: now),
            ]
            if need.status != NeedStatus.open.rawValue {
                var outcome: [String: Any] = [:]
                if let reason = need.reason { outcome["reason"] = reason }
                if let successor = need.supersededBy { outcome["successor"] = services[successor] ?? "" }
                if need.metByReferral != nil { outcome["by_referral"] = true }
                if let closedAt = need.closedAt { outcome["at"] = visit.format.dateTime(closedAt) }
                row["outcome"] = outcome
            } else if closable {
                let form = closing?.id == need.id ? closing?.form : nil
                let prefix = ConsoleController.fieldID(Self.needField(need.id, ""))
                var closer: [String: Any] = [
                    "version": String(need.version), "field": prefix, "reason": form?["reason"] ?? "",
                    "outcomes": options("need_outcome", NeedOutcome.allCases.map(\.rawValue), selected: form?["outcome"] ?? "met", visit),
                    "successors": open.filter { $0.id != need.id }.map { other in
                        ["value": other.id.uuidString.lowercased(), "label": (services[other.id] ?? "") + " · " + visit.format.dateTime(other.createdAt),
                         "selected": form?["superseded_by"] == other.id.uuidString.lowercased()] as [String: Any]
                    },
                ]
                for field in ["outcome", "reason", "superseded_by"] {
                    if let message = messages.first(where: { $0.field == Self.needField(need.id, field) }) { closer["error_" + field] = message.text }
                }
                closer["has_successors"] = !(closer["successors"] as? [[String: Any]] ?? []).isEmpty
                row["closer"] = closer
            }
            return row
        }
    }
}
