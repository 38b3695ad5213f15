import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The worklist, the case list and the case page.
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
        var model: [String: Any] = ["can_cases": can.listCases, "can_referrals": can.listReferrals]
        if can.listReferrals {
            var waiting: [Referral] = []
            for status in [ReferralStatus.requested, .received] {
                waiting += try await referrals.list(direction: .incoming, status: status, page: PageRequest(cursor: nil, limit: 50),
                                                    context: visit.access).items
            }
            waiting.sort { $0.dueAt < $1.dueAt }
            let names = try await directory.names(users: [], organisations: Set(waiting.flatMap { [$0.fromOrganisation, $0.toOrganisation] }),
                                                  viewer: visit.actor)
            model["awaiting"] = waiting.map { referralRow($0, names: names, visit) }
        }
        if can.closesCasesDirectly {
            let waiting = try await cases.list(CaseFilter(status: .open, closureRequested: true, sort: .updatedAsc), page: PageRequest(cursor: nil, limit: 50),
                                               context: visit.access)
            model["has_closures"] = !waiting.items.isEmpty
            model["closures"] = waiting.items.map { caseRow($0, visit) }
        }
        if can.listCases {
            let filter = CaseFilter(status: .open, assignee: visit.actor.role == .caseworker ? nil : visit.actor.userID, sort: .updatedDesc)
            let page = try await cases.list(filter, page: PageRequest(cursor: nil, limit: 20), context: visit.access)
            model["my_cases"] = page.items.map { caseRow($0, visit) }
        }
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

    /// Everything a caseworker needs on one page; each part read and audited as through the API.
    func casePage(_ id: UUID, _ visit: ConsoleVisit, messages: [FieldMessage] = [], status: HTTPResponse.Status = .ok) async throws -> Response {
        let file = try await cases.read(id, context: visit.access)
        let needs = try await cases.needs(of: id, context: visit.access)
        let services = try await cases.services(of: id, context: visit.access)
        let consents = try await cases.consents(of: id, context: visit.access)
        let caseReferrals = try await referrals.list(caseID: id, context: visit.access)
        let history = try await cases.history(id, page: PageRequest(cursor: nil, limit: 100), context: visit.access)
        var users: Set<UUID> = [file.createdBy]
        if let assignee = file.assignee { users.insert(assignee) }
        users.formUnion(history.items.compactMap(\.actorUser))
        var organisations: Set<UUID> = [file.organisationID]
        organisations.formUnion(caseReferrals.map(\.toOrganisation))
        organisations.formUnion(consents.flatMap { $0.provisions.map(\.recipientOrganisation) })
        organisations.formUnion(services.compactMap(\.providerOrganisation))
        let names = try await directory.names(users: users, organisations: organisations, viewer: visit.actor)
        let format = visit.format
        let language = visit.language
        var summary: [String: Any] = [
            "reference": file.reference, "case_type": catalogue.label("case_type", file.caseType.rawValue, language),
            "status": catalogue.label("case_status", file.status.rawValue, language), "status_code": file.status.rawValue,
            "risk": catalogue.label("risk", file.riskLevel.rawValue, language), "risk_code": file.riskLevel.rawValue,
            "identification": catalogue.label("identification", file.identificationStatus.rawValue, language),
            "identified_by": catalogue.label("identified_by", file.identifiedBy.rawValue, language),
            "identified_on": format.date(file.identifiedOn),
            "sex": catalogue.label("sex", file.profile.sex.rawValue, language),
            "assignee": names.user(file.assignee) ?? catalogue.text("case.unassigned", language),
            "updated": format.dateTime(file.updatedAt),
        ]
        if let year = file.profile.birthYear { summary["birth_year"] = String(year) }
        if let citizenship = file.profile.citizenship { summary["citizenship"] = citizenship }
        if let identity = file.identity {
            let name = [identity.givenName, identity.familyName].compactMap { $0 }.joined(separator: " ")
            if !name.isEmpty { summary["name"] = name }
        }
        if file.closureRequestedAt != nil && file.status == .open { summary["closure_requested"] = true }
        summary["id"] = id.uuidString.lowercased()
        summary["open"] = file.status == .open
        summary["version"] = String(file.version)
        var model: [String: Any] = [
            "case": summary,
            "needs": needs.map { need in
                ["service": catalogue.label("service_type", need.serviceType.rawValue, language),
                 "domain": catalogue.label("domain", need.domain.rawValue, language),
                 "priority": catalogue.label("priority", need.priority.rawValue, language), "priority_code": need.priority.rawValue,
                 "due": format.dateTime(need.dueAt), "status": catalogue.label("need_status", need.status, language)] as [String: Any]
            },
            "services": services.map { episode in
                ["type": catalogue.label("service_type", episode.type.rawValue, language),
                 "provider": episode.providerOrganisation.flatMap { names.organisations[$0] } ?? "",
                 "status": catalogue.label("service_status", episode.status.rawValue, language),
                 "due": episode.dueOn.map(format.date) ?? ""] as [String: Any]
            },
            "consents": consents.map { consent in
                ["granted": format.dateTime(consent.grantedAt), "expires": consent.expiresAt.map(format.dateTime) ?? "",
                 "status": catalogue.label("consent_status", consent.status(at: Date()).rawValue, language),
                 "grantor": catalogue.label("grantor", consent.grantor.rawValue, language),
                 "recipients": consent.provisions.map { provision in
                     ["organisation": names.organisations[provision.recipientOrganisation] ?? "",
                      "categories": provision.categories.map { catalogue.label("category", $0.rawValue, language) }.joined(separator: ", ")]
                 }] as [String: Any]
            },
            "referrals": caseReferrals.map { referralRow($0, names: names, visit) },
            "history": history.items.map { record in
                ["at": format.dateTime(record.recorded), "who": names.user(record.actorUser) ?? catalogue.text("history.haven", language),
                 "what": catalogue.label("event", record.subtype, language)] as [String: Any]
            },
        ]
        let can = Capabilities(visit.actor)
        if file.status == .open {
            model["closes_directly"] = can.closesCasesDirectly
            model["approvable"] = can.closesCasesDirectly && file.closureRequestedAt != nil
            model["requestable"] = !can.closesCasesDirectly && file.closureRequestedAt == nil
            model["closure_reasons"] = options("closure_reason", ClosureReason.allCases.map(\.rawValue), selected: nil, visit)
        }
        model.merge(ConsoleController.errorModel(messages)) { _, new in new }
        model["title_detail"] = file.reference
        if can.readAuditTrail { model["audit_link"] = "/audit?case_id=\(id.uuidString.lowercased())" }
        return render("case", visit, title: "case.title", model, status: status)
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
