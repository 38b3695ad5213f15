import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// An organisation's webhooks under `/v1/organisations/{id}/webhooks`: the administrator
/// registers, lists, rotates and deletes them (`WebhookService`). The secret is in the answer
/// to creation and rotation only.
struct WebhookController: Sendable {
    let store: Store
    let settings: WebhookService.Settings
    var webhooks: WebhookService { WebhookService(store: store, settings: settings) }

    struct CreateBody: Decodable, Sendable {
        var url: String?
        var kinds: [String]?
    }

    func register(_ routes: Routes) {
        routes.post("/v1/organisations/:id/webhooks") { request, context in
            let organisation = try request.uuidParameter("id", context)
            var request = request
            let body = try await request.decodeJSON(CreateBody.self, limit: context.maxUploadSize)
            let issued = try await webhooks.create(organisation: organisation, WebhookDraft(url: body.url, kinds: body.kinds), context: context.access)
            return JSONResponse(WebhookDTO(issued.subscription, secret: issued.secret), status: .created,
                                headers: [.location: "/v1/organisations/\(organisation.uuidString)/webhooks/\(issued.subscription.id.uuidString)"])
        }
        routes.get("/v1/organisations/:id/webhooks") { request, context in
            let list = try await webhooks.list(organisation: try request.uuidParameter("id", context), context: context.access)
            return JSONResponse(ListResponse(Page(items: list, nextCursor: nil)) { WebhookDTO($0) })
        }
        routes.post("/v1/organisations/:id/webhooks/:webhook/rotate") { request, context in
            let issued = try await webhooks.rotate(organisation: try request.uuidParameter("id", context),
                                                   try request.uuidParameter("webhook", context), context: context.access)
            return JSONResponse(WebhookDTO(issued.subscription, secret: issued.secret))
        }
        routes.get("/v1/organisations/:id/webhooks/:webhook/dead-letters") { request, context in
            let letters = try await webhooks.deadLetters(organisation: try request.uuidParameter("id", context),
                                                         try request.uuidParameter("webhook", context), context: context.access)
            return JSONResponse(ListResponse(Page(items: letters, nextCursor: nil)) { DeadLetterDTO($0) })
        }
        routes.post("/v1/organisations/:id/webhooks/:webhook/dead-letters/:message/replay") { request, context in
            try await webhooks.replay(organisation: try request.uuidParameter("id", context), try request.uuidParameter("webhook", context),
                                      message: try request.uuidParameter("message", context), context: context.access)
            return Response(status: .accepted)
        }
        routes.delete("/v1/organisations/:id/webhooks/:webhook") { request, context in
            try await webhooks.delete(organisation: try request.uuidParameter("id", context), try request.uuidParameter("webhook", context),
                                      context: context.access)
            return Response(status: .noContent)
        }
    }
}

/// A webhook subscription as the API shows it; `secret` only when just made or rotated.
struct WebhookDTO: Encodable, Sendable {
    var id: UUID
    var organisationId: UUID
    var url: String
    var kinds: [String]
    var createdAt: Date
    var rotatedAt: Date?
    var previousSecretValidUntil: Date?
    var secret: String?

    init(_ subscription: WebhookSubscription, secret: String? = nil) {
        id = subscription.id
        organisationId = subscription.organisation
        url = subscription.url
        kinds = subscription.kinds
        createdAt = subscription.created
        rotatedAt = subscription.rotated
        previousSecretValidUntil = subscription.previousSecretUntil
        self.secret = secret
    }
}

/// A delivery given up on: the message's id, kind and time, how often it was tried and the last
/// error in the channel's words.
struct DeadLetterDTO: Encodable, Sendable {
    var messageId: UUID
    var webhookId: UUID
    var kind: String
    var attempts: Int
    var lastError: String?
    var createdAt: Date

    init(_ letter: WebhookDeadLetter) {
        messageId = letter.message
        webhookId = letter.subscription
        kind = letter.kind
        attempts = letter.attempts
        lastError = letter.lastError
        createdAt = letter.created
    }
}
