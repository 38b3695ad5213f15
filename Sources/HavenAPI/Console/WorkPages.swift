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

    func caseList(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = request.uri.queryParameters
        let status = query.get("status").flatMap(CaseStatus.init(rawValue:))
        let caseType = query.get("case_type").flatMap(CaseType.init(rawValue:))
        let risk = query.get("risk_level").flatMap(RiskLevel.init(rawValue:))
        let filter = CaseFilter(status: status, caseType: caseType, riskLevel: risk, sort: .updatedDesc)
        let page = try await cases.list(filter, page: PageRequest(cursor: query.get("cursor").map { String($0) }, limit: 50), context: visit.access)
        var model: [String: Any] = ["cases": page.items.map { caseRow($0, visit) }, "empty": page.items.isEmpty]
        model["status_options"] = options("case_status", CaseStatus.allCases.map(\.rawValue), selected: status?.rawValue, visit)
        model["type_options"] = options("case_type", CaseType.allCases.map(\.rawValue), selected: caseType?.rawValue, visit)
        model["risk_options"] = options("risk", RiskLevel.allCases.map(\.rawValue), selected: risk?.rawValue, visit)
        if let next = page.nextCursor {
            var items = [URLQueryItem(name: "cursor", value: next)]
            if let status { items.append(URLQueryItem(name: "status", value: status.rawValue)) }
            if let caseType { items.append(URLQueryItem(name: "case_type", value: caseType.rawValue)) }
            if let risk { items.append(URLQueryItem(name: "risk_level", value: risk.rawValue)) }
            var components = URLComponents()
            components.path = "/cases"
            components.queryItems = items
            model["next"] = components.string
        }
        return render("cases", visit, title: "cases.title", model)
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
