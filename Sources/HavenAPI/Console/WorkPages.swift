import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The worklist, the case list and the case page (its rendering in CasePage.swift).
extension ConsoleController {
    func registerWorkPages(_ router: Router<HavenRequestContext>) {
        router.get("/worklist") { request, context in await page(request, context) { visit in try await worklist(visit) } }
        registerNeedOutcomes(router)
        router.get("/cases") { request, context in await page(request, context) { visit in try await caseList(request, visit) } }
        // A search by name is posted (CaseListPage.swift): a name never goes in a URL.
        router.post("/cases/search") { request, context in await action(request, context) { visit, form in try await caseSearch(form, visit) } }
        router.get("/cases/:id") { request, context in
            await page(request, context) { visit in
                guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such case") }
                return try await casePage(id, visit)
            }
        }
    }

    /// "Action needed": every part the user's role has, each with a line when it is empty.
    func worklist(_ visit: ConsoleVisit) async throws -> Response {
        let work = try await worklists.actionNeeded(context: visit.access)
        let language = visit.language
        let format = visit.format
        let now = Date()
        var model: [String: Any] = ["can_cases": work.parts.contains(.openCases), "can_referrals": work.parts.contains(.awaitingAnswer)]
        for part in work.parts { model["has_" + part.rawValue] = true }
        model["awaiting"] = work.awaitingAnswer.map { referralRow($0, names: work.names, visit) }
        model["overdue_needs"] = work.overdueNeeds.map { item in
            ["case_id": item.need.caseID.uuidString.lowercased(), "reference": item.reference,
             "service": catalogue.label("service_type", item.need.serviceType.rawValue, language),
             "priority": catalogue.label("priority", item.need.priority.rawValue, language), "priority_code": item.need.priority.rawValue,
             "due": format.dateTime(item.need.dueAt)] as [String: Any]
        }
        model["services_due"] = work.servicesDue.map { item in
            ["case_id": item.service.caseID.uuidString.lowercased(), "reference": item.reference,
             "type": catalogue.label("service_type", item.service.type.rawValue, language),
             "provider": item.service.providerOrganisation.flatMap { work.names.organisations[$0] } ?? "",
             "due": item.service.dueOn.map(format.date) ?? "", "overdue": item.service.isOverdue(today: CalendarDate.of(now))] as [String: Any]
        }
        model["closures"] = work.closuresToApprove.map { caseRow($0, visit) }
        model["grants"] = work.grantsToReview.map { grant in
            ["id": grant.id.uuidString.lowercased(), "holder": work.names.user(grant.holder) ?? work.names.organisations[grant.holderOrganisation] ?? "",
             "granted": format.dateTime(grant.grantedAt), "running": grant.expiresAt > now] as [String: Any]
        }
        model["consents_expiring"] = work.consentsExpiring.map { item in
            ["case_id": item.consent.caseID.uuidString.lowercased(), "reference": item.reference,
             "expires": item.consent.expiresAt.map(format.dateTime) ?? "",
             "grantor": catalogue.label("grantor", item.consent.grantor.rawValue, language)] as [String: Any]
        }
        model["my_cases"] = work.openCases.map { caseRow($0, visit) }
        model["transfers"] = work.transfersToDecide.map { transfer in
            ["id": transfer.id.uuidString.lowercased(), "reference": transfer.caseReference,
             "from": work.names.organisations[transfer.fromOrganisation] ?? "", "at": format.dateTime(transfer.requestedAt)] as [String: Any]
        }
        return render("worklist", visit, title: "worklist.title", model)
    }

    func caseRow(_ file: CaseFile, _ visit: ConsoleVisit) -> [String: Any] {
        let language = visit.language
        return ["id": file.id.uuidString.lowercased(), "reference": file.reference,
                "case_type": catalogue.label("case_type", file.caseType.rawValue, language),
                "status": catalogue.label("case_status", file.status.rawValue, language), "status_code": file.status.rawValue,
                "risk": catalogue.label("risk", file.riskLevel.rawValue, language), "risk_code": file.riskLevel.rawValue,
                "identification": catalogue.label("identification", file.identificationStatus.rawValue, language),
                "updated": visit.format.dateTime(file.updatedAt)]
    }

    func options(_ prefix: String, _ codes: [String], selected: String?, _ visit: ConsoleVisit) -> [[String: Any]] {
        codes.map { ["value": $0, "label": catalogue.label(prefix, $0, visit.language), "selected": $0 == selected] }
    }
}
