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

    /// "Action needed": referrals awaiting my organisation's answer, and my open cases.
    func worklist(_ visit: ConsoleVisit) async throws -> Response {
        let can = Capabilities(visit.actor)
        let work = try await worklists.actionNeeded(context: visit.access)
        var model: [String: Any] = ["can_cases": can.listCases, "can_referrals": can.listReferrals]
        if can.listReferrals { model["awaiting"] = work.awaitingAnswer.map { referralRow($0, names: work.names, visit) } }
        if can.closesCasesDirectly {
            model["has_closures"] = !work.closuresToApprove.isEmpty
            model["closures"] = work.closuresToApprove.map { caseRow($0, visit) }
        }
        if can.listCases { model["my_cases"] = work.openCases.map { caseRow($0, visit) } }
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
