import Foundation
import HavenCore
import HavenServices
import HavenStore
import Hummingbird

/// `GET` and `PUT /v1/me/notification-email`: which of the actor's notifications also come by
/// email, and to which address. No kinds: no email.
struct NotificationEmailController: Sendable {
    let store: Store
    var emails: NotificationEmailService { NotificationEmailService(store: store) }

    struct Body: Decodable, Sendable {
        var address: String?
        var kinds: [String]?
    }

    func register(_ routes: Routes) {
        routes.get("/v1/me/notification-email") { _, context in
            _ = try context.requireActor()
            return JSONResponse(NotificationEmailDTO(try await emails.choice(context: context.access)), headers: [.cacheControl: "no-store"])
        }
        routes.add(.put, "/v1/me/notification-email") { request, context in
            _ = try context.requireActor()
            var request = request
            let body = try await request.decodeJSON(Body.self, limit: context.maxUploadSize)
            let choice = try await emails.choose(address: body.address, kinds: body.kinds, context: context.access)
            return JSONResponse(NotificationEmailDTO(choice), headers: [.cacheControl: "no-store"])
        }
    }
}

struct NotificationEmailDTO: Encodable, Sendable {
    var address: String?
    var kinds: [String]

    init(_ choice: NotificationEmailChoice?) {
        address = choice?.address
        kinds = (choice?.kinds ?? []).map(\.rawValue).sorted()
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(address, forKey: .address)
        try container.encode(kinds, forKey: .kinds)
    }

    enum CodingKeys: String, CodingKey { case address, kinds }
}
