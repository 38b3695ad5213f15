import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The supervisor's review queue of break-glass grants (S19): who opened which case, why, for
/// how long; a review with a note closes the item. Starting one is in CaseActions.swift.
extension ConsoleController {
    func registerBreakGlassPages(_ router: Router<HavenRequestContext>) {
        router.get("/break-glass") { request, context in await page(request, context) { visit in try await grantsPage(request, visit) } }
        router.post("/break-glass/:id/review") { request, context in
            await action(request, context) { visit, form in
                let id = try recordID(context)
                do {
                    _ = try await BreakGlassService(store: store).review(id, note: form.text("note"), context: visit.access)
                } catch {
                    guard let messages = refusal(error, visit.language) else { throw error }
                    return try await grantsPage(request, visit, messages: messages, status: .unprocessableContent)
                }
                return ConsoleRenderer.redirect("/break-glass")
            }
        }
    }

    func grantsPage(_ request: Request, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                    status: HTTPResponse.Status = .ok) async throws -> Response {
        let reviewed = request.uri.queryParameters.get("reviewed") == "true"
        let page = try await BreakGlassService(store: store).list(reviewed: reviewed, page: PageRequest(cursor: nil, limit: 100), context: visit.access)
        let names = try await directory.names(users: Set(page.items.flatMap { [$0.holder] + ($0.reviewedBy.map { [$0] } ?? []) }),
                                              organisations: Set(page.items.map(\.holderOrganisation)), viewer: visit.actor)
        let format = visit.format
        let now = Date()
        var model = ConsoleController.errorModel(messages)
        model["grants"] = page.items.map { grant in
            var row: [String: Any] = [
                "id": grant.id.uuidString.lowercased(), "holder": names.user(grant.holder) ?? names.organisations[grant.holderOrganisation] ?? "",
                "granted": format.dateTime(grant.grantedAt), "expires": format.dateTime(grant.expiresAt), "running": grant.expiresAt > now,
                "minutes_left": String(max(0, Int(grant.expiresAt.timeIntervalSince(now) / 60))),
            ]
            row["reason"] = grant.reason
            row["reviewed"] = grant.reviewedAt.map(format.dateTime)
            row["reviewer"] = names.user(grant.reviewedBy)
            row["note"] = grant.reviewNote
            return row
        }
        model["empty"] = page.items.isEmpty
        // The form for starting one, with what was typed kept after a refusal.
        model["start"] = ["reference": form["reference"] ?? "", "reason": form["reason"] ?? "",
                          "idempotency_key": form["idempotency_key"] ?? UUID().uuidString.lowercased()]
        model["reviewed"] = reviewed
        return render("break-glass", visit, title: "breakglass.title", model, status: status)
    }
}
