import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// Handing a case to another organisation: the form on the case's transfer page (with the
/// request waiting, if any, and its cancel button), and the transfers page: incoming ones for
/// the receiving supervisor to accept or decline, outgoing ones the sender may cancel.
extension ConsoleController {
    var transfers: CaseTransferService { CaseTransferService(store: store) }

    func registerTransferPages(_ router: Router<HavenRequestContext>) {
        router.get("/cases/:id/transfer") { request, context in
            await page(request, context) { visit in try await transferPage(try caseID(context), visit) }
        }
        router.post("/cases/:id/transfer") { request, context in
            await action(request, context) { visit, form in try await requestTransfer(try caseID(context), form, visit) }
        }
        router.get("/transfers") { request, context in await page(request, context) { visit in try await transfersPage(visit) } }
        router.post("/transfers/:transfer/accept") { request, context in
            await action(request, context) { visit, _ in
                let transfer = try await transfers.accept(try transferID(context), context: visit.access)
                return ConsoleRenderer.redirect("/cases/\(transfer.caseID.uuidString.lowercased())")
            }
        }
        router.post("/transfers/:transfer/decline") { request, context in
            await action(request, context) { visit, form in try await declineTransfer(try transferID(context), form, visit) }
        }
        router.post("/transfers/:transfer/cancel") { request, context in
            await action(request, context) { visit, _ in
                _ = try await transfers.cancel(try transferID(context), context: visit.access)
                return ConsoleRenderer.redirect("/transfers")
            }
        }
    }

    func transferID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("transfer").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such case transfer") }
        return id
    }

    static let transferReasonKeys: [CaseTransferReason: String] = [
        .personMoved: "transfer.reason_person_moved", .betterPlaced: "transfer.reason_better_placed",
        .personAsked: "transfer.reason_person_asked", .other: "transfer.reason_other",
    ]
    static let transferDeclineKeys: [CaseTransferDeclineReason: String] = [
        .noCapacity: "transfer.decline_no_capacity", .outsideMandate: "transfer.decline_outside_mandate",
        .notInArea: "transfer.decline_not_in_area", .other: "transfer.decline_other",
    ]
    static let transferStatusKeys: [CaseTransferStatus: String] = [
        .requested: "transfer.status_requested", .accepted: "transfer.status_accepted",
        .declined: "transfer.status_declined", .cancelled: "transfer.status_cancelled",
    ]
    /// The words for a refused field of the transfer form.
    static let transferFieldKeys = ["organisation": "transfer.error_organisation", "consent": "transfer.error_consent", "reason": "transfer.error_reason"]

    func transferPage(_ id: UUID, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                      status: HTTPResponse.Status = .ok) async throws -> Response {
        let language = visit.language
        let format = visit.format
        let header = try await caseHeader(id, visit)
        let consents = try await cases.consents(of: id, context: visit.access)
        let pending = try await transfers.pending(of: id, context: visit.access)
        let organisations = try await directory.organisations().filter { $0.id != visit.actor.organisationID }
        var model = ConsoleController.errorModel(messages)
        model["case"] = header
        model["organisations"] = organisations.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name,
                                                      "selected": form["organisation"] == $0.id.uuidString.lowercased()] }
        let names = Dictionary(organisations.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
        let now = Date()
        model["consents"] = consents.filter { $0.status(at: now) == .active }.map { consent in
            let recipients = consent.recipients.compactMap { names[$0] }.joined(separator: ", ")
            return ["value": consent.id.uuidString.lowercased(), "selected": form["consent"] == consent.id.uuidString.lowercased(),
                    "label": format.dateTime(consent.grantedAt) + (recipients.isEmpty ? "" : " · " + recipients)] as [String: Any]
        }
        model["reasons"] = CaseTransferReason.allCases.map { reason in
            ["value": reason.rawValue, "label": catalogue.text(Self.transferReasonKeys[reason] ?? "transfer.reason_other", language),
             "selected": form["reason"] == reason.rawValue] as [String: Any]
        }
        if let pending {
            model["has_pending"] = true
            model["pending"] = ["id": pending.id.uuidString.lowercased(), "to": names[pending.toOrganisation] ?? "",
                                "at": format.dateTime(pending.requestedAt),
                                "reason": catalogue.text(Self.transferReasonKeys[pending.reason] ?? "transfer.reason_other", language)]
        }
        model["title_detail"] = header["reference"] as? String ?? ""
        return render("transfer", visit, title: "transfer.title", model, status: status)
    }

    func requestTransfer(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        let language = visit.language
        var messages: [FieldMessage] = []
        let organisation = form.text("organisation").flatMap(UUID.init(text:))
        let consent = form.text("consent").flatMap(UUID.init(text:))
        let reason = form.text("reason").flatMap(CaseTransferReason.init(rawValue:))
        for (field, missing) in [("organisation", organisation == nil), ("consent", consent == nil), ("reason", reason == nil)] where missing {
            messages.append(FieldMessage(field: field, text: catalogue.text(Self.transferFieldKeys[field] ?? "error.invalid", language)))
        }
        guard messages.isEmpty, let organisation, let consent, let reason else {
            return try await transferPage(id, visit, form: form, messages: messages, status: .unprocessableContent)
        }
        let refuse = { (failure: ValidationFailure) in
            let refused = failure.errors.map { FieldMessage(field: $0.field, text: catalogue.text(Self.transferFieldKeys[$0.field] ?? "error.invalid", language)) }
            return try await transferPage(id, visit, form: form, messages: refused, status: .unprocessableContent)
        }
        do {
            _ = try await transfers.request(id, CaseTransferDraft(organisation: organisation, consent: consent, reason: reason), context: visit.access)
        } catch let failure as ValidationFailure {
            return try await refuse(failure)
        } catch StoreError.invalid(let failure) {
            return try await refuse(failure)
        } catch StoreError.conflict {
            return try await transferPage(id, visit, form: form, messages: [FieldMessage(field: "transfer", text: catalogue.text("transfer.error_conflict", language))],
                                          status: .conflict)
        }
        return ConsoleRenderer.redirect("/cases/\(id.uuidString.lowercased())/transfer")
    }

    func transfersPage(_ visit: ConsoleVisit, messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let language = visit.language
        let format = visit.format
        let first = PageRequest(cursor: nil, limit: 100)
        var model = ConsoleController.errorModel(messages)
        func row(_ transfer: CaseTransfer, _ names: DirectoryService.Names) -> [String: Any] {
            var row: [String: Any] = [
                "id": transfer.id.uuidString.lowercased(), "case_id": transfer.caseID.uuidString.lowercased(), "reference": transfer.caseReference,
                "from": names.organisations[transfer.fromOrganisation] ?? "", "to": names.organisations[transfer.toOrganisation] ?? "",
                "by": names.user(transfer.requestedBy) ?? "", "at": format.dateTime(transfer.requestedAt),
                "reason": catalogue.text(Self.transferReasonKeys[transfer.reason] ?? "transfer.reason_other", language),
                "status": catalogue.text(Self.transferStatusKeys[transfer.status] ?? "transfer.status_requested", language),
                "status_code": transfer.status.rawValue, "waiting": transfer.status == .requested,
            ]
            if let decline = transfer.declineReason { row["decline_reason"] = catalogue.text(Self.transferDeclineKeys[decline] ?? "transfer.decline_other", language) }
            return row
        }
        let supervises = AccessPolicy.transferScope(visit.actor, incoming: true) != .nothing
        if supervises {
            let incoming = try await transfers.list(incoming: true, status: nil, page: first, context: visit.access)
            model["can_decide"] = true
            model["incoming"] = incoming.page.items.map { row($0, incoming.names) }
            model["has_incoming"] = !incoming.page.items.isEmpty
            model["decline_reasons"] = CaseTransferDeclineReason.allCases.map { reason in
                ["value": reason.rawValue, "label": catalogue.text(Self.transferDeclineKeys[reason] ?? "transfer.decline_other", language)] as [String: Any]
            }
        }
        let outgoing = try await transfers.list(incoming: false, status: nil, page: first, context: visit.access)
        model["outgoing"] = outgoing.page.items.map { row($0, outgoing.names) }
        model["has_outgoing"] = !outgoing.page.items.isEmpty
        return render("transfers", visit, title: "transfer.list_title", model, status: status)
    }

    func declineTransfer(_ id: UUID, _ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        guard let reason = form.text("decline_reason").flatMap(CaseTransferDeclineReason.init(rawValue:)) else {
            return try await transfersPage(visit, messages: [FieldMessage(field: "decline_reason", text: catalogue.text("transfer.error_decline_reason", visit.language))],
                                           status: .unprocessableContent)
        }
        _ = try await transfers.decline(id, reason: reason, context: visit.access)
        return ConsoleRenderer.redirect("/transfers")
    }
}
