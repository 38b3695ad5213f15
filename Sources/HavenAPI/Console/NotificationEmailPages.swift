import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The user's choice of which notifications also come by email, and to which address: the same
/// use case as `PUT /v1/me/notification-email`.
extension ConsoleController {
    var notificationEmails: NotificationEmailService { NotificationEmailService(store: store) }

    func registerNotificationEmailPages(_ router: Router<HavenRequestContext>) {
        router.get("/notifications/email") { request, context in
            await page(request, context) { visit in
                let choice = try await notificationEmails.choice(context: visit.access)
                return notificationEmailPage(visit, address: choice?.address ?? "", kinds: Set((choice?.kinds ?? []).map(\.rawValue)),
                                             saved: request.uri.queryParameters.get("saved") == "1")
            }
        }
        router.post("/notifications/email") { request, context in
            await action(request, context) { visit, form in
                let address = form.text("address") ?? ""
                let kinds = form.all("kinds")
                do {
                    _ = try await notificationEmails.choose(address: address, kinds: kinds, context: visit.access)
                } catch let failure as ValidationFailure {
                    return notificationEmailPage(visit, address: address, kinds: Set(kinds), messages: messages(for: failure, visit.language),
                                                 status: .unprocessableContent)
                }
                return ConsoleRenderer.redirect("/notifications/email?saved=1")
            }
        }
    }

    func notificationEmailPage(_ visit: ConsoleVisit, address: String, kinds: Set<String>, saved: Bool = false,
                               messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok) -> Response {
        var model = Self.errorModel(messages)
        model["address"] = address
        model["saved"] = saved
        model["kinds"] = NotificationKind.allCases.map { kind -> [String: Any] in
            ["code": kind.rawValue, "id": "kind-" + Self.fieldID(kind.rawValue), "label": catalogue.text(Self.notificationKey(kind), visit.language),
             "checked": kinds.contains(kind.rawValue)]
        }
        return render("notification-email", visit, title: "notification_email.title", model, status: status)
    }
}
