import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The case list with its search: filters and a reference in the query string (`GET /cases`),
/// a person's name and birth year only in a posted form (`POST /cases/search`) whose answer is
/// the result page itself, so a name never appears in a URL, a redirect or the history (S12).
extension ConsoleController {
    /// The filters' fields, kept in the "next page" link and carried along by the person search.
    static let caseFilterFields = [
        "reference", "status", "case_type", "risk_level", "identification_status", "assignee", "identified_from", "identified_to",
        "updated_since", "sort",
    ]
    static let personFields = ["name", "birth_year"]

    func caseList(_ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        let query = request.uri.queryParameters
        var typed: [String: String] = [:]
        for name in ConsoleController.caseFilterFields + ["cursor"] {
            if let value = query.get(name).map({ $0.trimmingCharacters(in: .whitespaces) }), !value.isEmpty { typed[name] = value }
        }
        return try await caseListPage(typed, posted: false, visit)
    }

    /// The person search, answered with the page of results (never a redirect carrying the name).
    func caseSearch(_ form: ConsoleForm, _ visit: ConsoleVisit) async throws -> Response {
        var typed: [String: String] = [:]
        for name in ConsoleController.caseFilterFields + ConsoleController.personFields + ["cursor"] {
            if let value = form.text(name) { typed[name] = value }
        }
        return try await caseListPage(typed, posted: true, visit)
    }

    /// Lists through the same service as the API (`CaseService.search`); refused input comes back
    /// next to its fields, as typed, with status 422.
    func caseListPage(_ typed: [String: String], posted: Bool, _ visit: ConsoleVisit) async throws -> Response {
        var input = CaseListInput({ typed[$0] }, updatedSinceIsDay: true)
        input.page.limit = 50
        let language = visit.language
        var model: [String: Any] = [:]
        var status: HTTPResponse.Status = .ok
        do {
            let page = try await cases.search(input.terms, filter: input.filter, page: input.page, context: visit.access)
            model["cases"] = page.items.map { caseRow($0, visit) }
            model["empty"] = page.items.isEmpty
            if let next = page.nextCursor {
                if posted {
                    // The next page of a person search is posted again, name included, in the page's body.
                    var carried = typed
                    carried["cursor"] = next
                    model["has_next_search"] = true
                    model["next_search"] = carried.sorted { $0.key < $1.key }.map { ["name": $0.key, "value": $0.value] }
                } else {
                    var components = URLComponents()
                    components.path = "/cases"
                    components.queryItems = ConsoleController.caseFilterFields.compactMap { name in typed[name].map { URLQueryItem(name: name, value: $0) } }
                        + [URLQueryItem(name: "cursor", value: next)]
                    model["next"] = components.string
                }
            }
        } catch let failure as ValidationFailure {
            model.merge(ConsoleController.errorModel(messages(for: failure, language))) { _, new in new }
            model["refused"] = true
            status = .unprocessableContent
        }
        model["filter"] = Dictionary(uniqueKeysWithValues: (ConsoleController.caseFilterFields + ConsoleController.personFields).map { ($0, typed[$0] ?? "") })
        // The person search runs within the filters shown, so it carries them along.
        model["carried"] = ConsoleController.caseFilterFields.compactMap { name in typed[name].map { ["name": name, "value": $0] } }
        model["status_options"] = options("case_status", CaseStatus.allCases.map(\.rawValue), selected: typed["status"], visit)
        model["type_options"] = options("case_type", CaseType.allCases.map(\.rawValue), selected: typed["case_type"], visit)
        model["risk_options"] = options("risk", RiskLevel.allCases.map(\.rawValue), selected: typed["risk_level"], visit)
        model["identification_options"] = options("identification", IdentificationStatus.allCases.map(\.rawValue),
                                                  selected: typed["identification_status"], visit)
        model["sort_options"] = CaseSort.allCases.map { sort in
            ["value": sort.rawValue, "label": catalogue.text(ConsoleController.sortKey(sort), language),
             "selected": sort.rawValue == (typed["sort"] ?? CaseSort.updatedDesc.rawValue)] as [String: Any]
        }
        model["assignee_options"] = try await assigneeOptions(selected: typed["assignee"], visit)
        return render("cases", visit, title: "cases.title", model, status: status)
    }

    /// The catalogue's key for an order, from the fixed list.
    static func sortKey(_ sort: CaseSort) -> String {
        switch sort {
        case .updatedDesc: return "cases.sort_updated_desc"
        case .updatedAsc: return "cases.sort_updated_asc"
        case .createdDesc: return "cases.sort_created_desc"
        case .createdAsc: return "cases.sort_created_asc"
        case .referenceAsc: return "cases.sort_reference_asc"
        case .referenceDesc: return "cases.sort_reference_desc"
        }
    }

    /// Whose cases: the visitor; for a supervisor, who may list the organisation's users, each
    /// caseworker and supervisor by name.
    func assigneeOptions(selected: String?, _ visit: ConsoleVisit) async throws -> [[String: Any]] {
        var people: [(UUID, String)] = [(visit.actor.userID, catalogue.text("cases.assignee_me", visit.language))]
        if Capabilities(visit.actor).listUsers {
            let users = try await UserService(store: store, hasher: hasher)
                .list(organisation: visit.actor.organisationID, role: nil, page: PageRequest(cursor: nil, limit: 200), context: visit.access).items
            people += users.filter { $0.active && $0.id != visit.actor.userID && ($0.role == .caseworker || $0.role == .supervisor) }
                .map { ($0.id, $0.displayName ?? $0.username) }
                .sorted { $0.1.localizedStandardCompare($1.1) == .orderedAscending }
        }
        return people.map { id, name in
            let value = id.uuidString.lowercased()
            return ["value": value, "label": name, "selected": value == selected?.lowercased()]
        }
    }
}
