import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The administrator's page of an organisation's webhooks: register one, show its secret this
/// once, rotate it, delete one. The same `WebhookService` as `/v1/organisations/{id}/webhooks`.
extension ConsoleController {
    func registerWebhookPages(_ router: Router<HavenRequestContext>) {
        router.get("/organisations/:id/webhooks") { request, context in
            await page(request, context) { visit in try await webhooksPage(try recordID(context), visit) }
        }
        router.post("/organisations/:id/webhooks") { request, context in
            await action(request, context) { visit, form in try await createWebhook(try recordID(context), form, visit) }
        }
        router.post("/organisations/:id/webhooks/:webhook/rotate") { request, context in
            await action(request, context) { visit, _ in try await rotateWebhook(try recordID(context), try webhookID(context), visit) }
        }
        router.post("/organisations/:id/webhooks/:webhook/dead-letters/:message/replay") { request, context in
            await action(request, context) { visit, _ in
                let organisation = try recordID(context)
                guard let message = context.parameters.get("message").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such dead letter") }
                try await webhooks.replay(organisation: organisation, try webhookID(context), message: message, context: visit.access)
                return ConsoleRenderer.redirect("/organisations/\(organisation.lowercasedString)/webhooks")
            }
        }
        router.post("/organisations/:id/webhooks/:webhook/delete") { request, context in
            await action(request, context) { visit, _ in
                let organisation = try recordID(context)
                try await webhooks.delete(organisation: organisation, try webhookID(context), context: visit.access)
                return ConsoleRenderer.redirect("/organisations/\(organisation.lowercasedString)/webhooks")
            }
        }
    }

    var webhooks: WebhookService { WebhookService(store: store, settings: webhookSettings) }

    func webhookID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("webhook").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such webhook") }
        return id
    }

    /// `issued`: a secret just made, shown above the list this once.
    func webhooksPage(_ organisation: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                      issued: WebhookSecretIssued? = nil, status: HTTPResponse.Status = .ok) async throws -> Response {
        let list = try await webhooks.list(organisation: organisation, context: visit.access)
        let named = try await organisations.read(organisation, context: visit.access)
        let format = visit.format
        var model = ConsoleController.errorModel(messages)
        model["organisation"] = ["id": organisation.lowercasedString, "name": named.name]
        model["organisation_id"] = organisation.lowercasedString
        var rows: [[String: Any]] = []
        for webhook in list {
            let dead = try await webhooks.deadLetters(organisation: organisation, webhook.id, context: visit.access)
            rows.append(["id": webhook.id.lowercasedString, "url": webhook.url, "kinds": webhook.kinds.joined(separator: ", "),
                         "created": format.dateTime(webhook.created), "has_overlap": webhook.previousSecretUntil.map { $0 > Date() } ?? false,
                         "overlap_until": webhook.previousSecretUntil.map(format.dateTime) ?? "", "has_dead": !dead.isEmpty,
                         "dead": dead.map { letter in
                             ["message": letter.message.lowercasedString, "kind": letter.kind, "attempts": String(letter.attempts),
                              "error": letter.lastError ?? "", "created": format.dateTime(letter.created)]
                         }])
        }
        model["webhooks"] = rows
        model["has_webhooks"] = !list.isEmpty
        if let issued {
            model["issued"] = ["secret": issued.secret, "url": issued.subscription.url]
        }
        let ticked = form.all("kinds")
        model["kinds"] = WebhookService.kinds.map { ["value": $0, "id": "kind-" + $0.replacingOccurrences(of: ".", with: "-"), "checked": ticked.contains($0)] as [String: Any] }
        model["form"] = ["url": form["url"] ?? ""]
        return render("webhooks", visit, title: "webhooks.title", model, status: status)
    }

    func createWebhook(_ organisation: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        do {
            let issued = try await webhooks.create(organisation: organisation, WebhookDraft(url: form.text("url"), kinds: form.all("kinds")),
                                                   context: visit.access)
            return try await webhooksPage(organisation, visit, issued: issued, status: .created)
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            // A kind the form did not offer is the list's fault: named on the list.
            let named = messages.map { message in
                var message = message
                if message.field.hasPrefix("kinds") { message.field = "kinds" }
                return message
            }
            return try await webhooksPage(organisation, visit, form: form, messages: named, status: .unprocessableContent)
        }
    }

    func rotateWebhook(_ organisation: UUID, _ id: UUID, _ visit: ConsoleVisit) async throws -> Response {
        let issued = try await webhooks.rotate(organisation: organisation, id, context: visit.access)
        return try await webhooksPage(organisation, visit, issued: issued)
    }
}
