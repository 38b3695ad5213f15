import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// "Handled by" on a referral's page, for the receiving organisation: who has it, a button to
/// take it, and a choice of colleague to hand it to.
extension ConsoleController {
    func registerReferralHandlerPages(_ router: Router<HavenRequestContext>) {
        router.post("/referrals/:id/handler") { request, context in
            await action(request, context) { visit, form in try await setHandler(try referralID(context), form, visit) }
        }
    }

    /// The handler section's model; empty unless the viewer's organisation received the referral.
    func handlerModel(_ view: ReferralService.View, _ visit: ConsoleVisit) async throws -> [String: Any] {
        guard view.side == .recipient else { return [:] }
        let referral = view.referral
        let handler = referral.handler(seenFrom: view.side)
        var section: [String: Any] = [:]
        if let handler {
            let names = try await directory.names(users: [handler], organisations: [], viewer: visit.actor)
            section["name"] = names.user(handler)
        }
        if referral.status.isOpen {
            section["can_take"] = handler != visit.actor.userID
            let colleagues = try await referrals.handlerCandidates(referral.id, context: visit.access).filter { $0.id != handler }
            section["has_colleagues"] = !colleagues.isEmpty
            section["colleagues"] = colleagues.map { ["id": $0.id.uuidString.lowercased(), "name": $0.displayName ?? $0.username] }
        }
        return ["has_handler_section": true, "handler": section]
    }

    func setHandler(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let user: UUID?
        if let text = form.text("user") {
            guard let parsed = UUID(text: text) else {
                return try await referralPage(id, visit, messages: [FieldMessage(field: "user", text: catalogue.text("error.user", visit.language))],
                                              status: .unprocessableContent)
            }
            user = parsed
        } else {
            user = nil
        }
        do {
            _ = try await referrals.setHandler(id, to: user, context: visit.access)
        } catch StoreError.invalid {
            return try await referralPage(id, visit, messages: [FieldMessage(field: "user", text: catalogue.text("error.user", visit.language))],
                                          status: .unprocessableContent)
        } catch StoreError.conflict {
            return try await referralPage(id, visit, messages: [FieldMessage(field: "user", text: catalogue.text("error.handler_ended", visit.language))],
                                          status: .conflict)
        }
        return ConsoleRenderer.redirect("/referrals/\(id.uuidString.lowercased())")
    }
}
