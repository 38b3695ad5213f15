import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The user's notifications: what needs their attention, newest first, each naming the case by
/// reference and linking to the page where they act; marking one or all read. The header's
/// count comes from `ConsoleVisit.unread`.
extension ConsoleController {
    var notifications: NotificationService { NotificationService(store: store) }

    func registerNotificationPages(_ router: Router<HavenRequestContext>) {
        router.get("/notifications") { request, context in await page(request, context) { visit in try await notificationsPage(request, visit) } }
        router.post("/notifications/read-all") { request, context in
            await action(request, context) { visit, _ in
                _ = try await notifications.markAllRead(context: visit.access)
                return ConsoleRenderer.redirect("/notifications")
            }
        }
        router.post("/notifications/:id/read") { request, context in
            await action(request, context) { visit, _ in
                _ = try await notifications.markRead(try recordID(context), context: visit.access)
                return ConsoleRenderer.redirect("/notifications")
            }
        }
    }

    /// What a notification says, by its kind.
    static func notificationKey(_ kind: NotificationKind) -> String {
        switch kind {
        case .referralArrived: return "notifications.kind_referral_arrived"
        case .referralAccepted: return "notifications.kind_referral_accepted"
        case .referralRejected: return "notifications.kind_referral_rejected"
        case .referralCompleted: return "notifications.kind_referral_completed"
        case .referralCancelled: return "notifications.kind_referral_cancelled"
        case .closureRequested: return "notifications.kind_closure_requested"
        case .closureApproved: return "notifications.kind_closure_approved"
        case .closureDeclined: return "notifications.kind_closure_declined"
        case .breakGlassStarted: return "notifications.kind_break_glass_started"
        case .consentExpiring: return "notifications.kind_consent_expiring"
        case .needOverdue: return "notifications.kind_need_overdue"
        case .serviceOverdue: return "notifications.kind_service_overdue"
        case .caseTransferred: return "notifications.kind_case_transferred"
        }
    }

    func notificationsPage(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = request.uri.queryParameters
        let listing = try await notifications.list(page: PageRequest(cursor: query.get("cursor").map { String($0) }, limit: 50), context: visit.access)
        let format = visit.format
        var model: [String: Any] = [:]
        model["items"] = listing.page.items.map { item -> [String: Any] in
            var row: [String: Any] = [
                "id": item.id.lowercasedString, "text": catalogue.text(Self.notificationKey(item.kind), visit.language),
                "priority": catalogue.label("priority", item.priority.rawValue, visit.language), "priority_code": item.priority.rawValue,
                "created": format.dateTime(item.created), "unread": item.readAt == nil,
                // Only a console path of ids is ever followed.
                "link": NotificationLink.isValid(item.link) ? item.link : "/worklist",
            ]
            if let reference = item.caseReference { row["reference"] = reference }
            return row
        }
        model["empty"] = listing.page.items.isEmpty
        model["has_unread"] = listing.unread > 0
        model["unread_count"] = catalogue.text("notifications.unread_count", visit.language, ["count": String(listing.unread)])
        if let next = listing.page.nextCursor {
            var components = URLComponents()
            components.path = "/notifications"
            components.queryItems = [URLQueryItem(name: "cursor", value: next)]
            model["next"] = components.string
        }
        return render("notifications", visit, title: "notifications.title", model)
    }
}
