import Foundation
import HavenCore
import HavenServices
import HavenStore
import HTTPTypes
import Hummingbird

/// The administrator's pages: organisations with their mandates, and users. No case content.
extension ConsoleController {
    func registerAdminPages(_ router: Router<HavenRequestContext>) {
        router.get("/organisations") { request, context in await page(request, context) { visit in try await organisationsPage(request, visit) } }
        router.post("/organisations") { request, context in
            await action(request, context) { visit, form in try await createOrganisation(form, request, visit) }
        }
        router.post("/organisations/:id") { request, context in
            await action(request, context) { visit, form in try await updateOrganisation(try recordID(context), form, request, visit) }
        }
        router.get("/users") { request, context in await page(request, context) { visit in try await usersPage(request, visit) } }
        router.post("/users") { request, context in await action(request, context) { visit, form in try await createUser(form, request, visit) } }
        router.post("/users/:id") { request, context in
            await action(request, context) { visit, form in try await updateUser(try recordID(context), form, request, visit) }
        }
        router.post("/users/:id/second-factor") { request, context in
            await action(request, context) { visit, _ in try await resetSecondFactor(try recordID(context), visit) }
        }
    }

    func recordID(_ context: HavenRequestContext) throws -> UUID {
        guard let id = context.parameters.get("id").flatMap(UUID.init(text:)) else { throw StoreError.notFound("no such record") }
        return id
    }

    var organisations: OrganisationService { OrganisationService(store: store) }

    // MARK: Organisations

    func organisationsPage(_ request: Request, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                           status: HTTPResponse.Status = .ok) async throws -> Response {
        let page = try await organisations.list(page: PageRequest(cursor: request.uri.queryParameters.get("cursor").map { String($0) }, limit: 100),
                                                context: visit.access)
        let language = visit.language
        var model = ConsoleController.errorModel(messages)
        model["organisations"] = page.items.map { organisation in
            ["id": organisation.id.uuidString.lowercased(), "name": organisation.name,
             "type": catalogue.label("organisation_type", organisation.type.rawValue, language), "country": organisation.country,
             "region": organisation.region ?? "", "active": organisation.active, "accepts": organisation.mandate.acceptsReferrals,
             "services": organisation.mandate.serviceTypes.map { catalogue.label("service_type", $0.rawValue, language) }.joined(separator: ", "),
             "service_boxes": checkboxes("service_type", ServiceType.allCases.map(\.rawValue), ticked: organisation.mandate.serviceTypes.map(\.rawValue), visit)
                .map { box in box.merging(["id": "\(organisation.id.uuidString.lowercased())-\(box["value"] ?? "")"]) { _, new in new } },
             "population_boxes": checkboxes("population", Population.allCases.map(\.rawValue), ticked: organisation.mandate.populations.map(\.rawValue), visit)
                .map { box in box.merging(["id": "\(organisation.id.uuidString.lowercased())-population-\(box["value"] ?? "")"]) { _, new in new } },
             "self": organisation.id == visit.actor.organisationID] as [String: Any]
        }
        model["types"] = options("organisation_type", OrganisationType.allCases.map(\.rawValue), selected: form["type"] ?? "ngo", visit)
        model["services"] = checkboxes("service_type", ServiceType.allCases.map(\.rawValue), ticked: form.all("service_types"), visit)
        model["population_boxes"] = checkboxes("population", Population.allCases.map(\.rawValue), ticked: form.all("populations"), visit)
        model["form"] = ["name": form["name"] ?? "", "country": form["country"] ?? visit.session.organisation.country, "region": form["region"] ?? ""]
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        if let next = page.nextCursor { model["next"] = "/organisations?cursor=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
        return render("organisations", visit, title: "organisations.title", model, status: status)
    }

    func createOrganisation(_ form: ConsoleForm, _ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        var body: [String: Any] = ["mandate": ["service_types": form.all("service_types"), "populations": form.all("populations"),
                                               "accepts_referrals": form["accepts_referrals"] != nil]]
        for name in ["name", "type", "country", "region"] { body[name] = form.text(name) }
        let bytes = try JSONSerialization.data(withJSONObject: body, options: [.sortedKeys])
        do {
            let draft = try decode(OrganisationDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: new organisation", body: Array(bytes))
            let outcome = try await organisations.create(draft, request: key, context: visit.access) { organisation in
                Idempotent.Answer(body: [], location: "/organisations#org-\(organisation.id.uuidString.lowercased())", caseID: nil)
            }
            return created(outcome, fallback: "/organisations")
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            return try await organisationsPage(request, visit, form: form, messages: messages.map { message in
                var message = message
                message.field = message.field.replacingOccurrences(of: "mandate.", with: "")
                return message
            }, status: .unprocessableContent)
        }
    }

    func updateOrganisation(_ id: UUID, _ form: ConsoleForm, _ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        var patch: [String: Any] = ["active": form["active"] != nil]
        if form["mandate"] != nil {
            // Populations are sent as ticked: the mandate is replaced whole, never left half the old one.
            patch["mandate"] = ["service_types": form.all("service_types"), "populations": form.all("populations"),
                                "accepts_referrals": form["accepts_referrals"] != nil]
        }
        do {
            _ = try await organisations.update(id, try decode(OrganisationPatch.self, from: patch), expectedVersion: form["version"].flatMap { Int($0) },
                                               context: visit.access)
        } catch StoreError.conflict {
            return try await organisationsPage(request, visit, messages: [FieldMessage(field: "active", text: catalogue.text("error.own_organisation", visit.language))],
                                               status: .conflict)
        } catch StoreError.preconditionFailed {
            return try await organisationsPage(request, visit, messages: [FieldMessage(field: "active", text: catalogue.text("error.stale", visit.language))],
                                               status: .preconditionFailed)
        }
        return ConsoleRenderer.redirect("/organisations#org-\(id.uuidString.lowercased())")
    }

    // MARK: Users

    func usersPage(_ request: Request, _ visit: ConsoleVisit, form: ConsoleForm = ConsoleForm(), messages: [FieldMessage] = [],
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        let users = UserService(store: store, hasher: hasher)
        let page = try await users.list(organisation: nil, role: nil, page: PageRequest(cursor: request.uri.queryParameters.get("cursor").map { String($0) },
                                                                                        limit: 100), context: visit.access)
        let names = try await directory.names(users: [], organisations: Set(page.items.map(\.organisationID)), viewer: visit.actor)
        let language = visit.language
        var model = ConsoleController.errorModel(messages)
        model["users"] = page.items.map { user in
            ["id": user.id.uuidString.lowercased(), "username": user.username, "name": user.displayName ?? "",
             "role": catalogue.label("role", user.role.rawValue, language), "organisation": names.organisations[user.organisationID] ?? "",
             "active": user.active, "version": String(user.version), "self": user.id == visit.actor.userID,
             "second_factor": user.hasSecondFactor, "needs_second_factor": user.role.requiresSecondFactor] as [String: Any]
        }
        let all = try await directory.organisations()
        model["organisations"] = all.map { ["value": $0.id.uuidString.lowercased(), "label": $0.name,
                                            "selected": form["organisation_id"] == $0.id.uuidString.lowercased()] as [String: Any] }
        model["roles"] = options("role", Role.allCases.map(\.rawValue), selected: form["role"] ?? "caseworker", visit)
        model["form"] = ["username": form["username"] ?? "", "display_name": form["display_name"] ?? ""]
        model["idempotency_key"] = form["idempotency_key"] ?? UUID().uuidString.lowercased()
        model["minimum"] = String(PasswordPolicy.minimumLength)
        return render("users", visit, title: "users.title", model, status: status)
    }

    func createUser(_ form: ConsoleForm, _ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        var body: [String: Any] = [:]
        for name in ["organisation_id", "role", "username", "display_name", "password"] { body[name] = form.text(name) }
        if let password = form["password"], !password.isEmpty { body["password"] = password }
        var fingerprint = body
        fingerprint["password"] = nil
        let bytes = try JSONSerialization.data(withJSONObject: fingerprint, options: [.sortedKeys])
        do {
            let draft = try decode(UserDraft.self, from: body)
            let key = Idempotent.Request(key: form["idempotency_key"], scope: "console: new user", body: Array(bytes))
            let outcome = try await UserService(store: store, hasher: hasher).create(draft, request: key, context: visit.access) { _ in
                Idempotent.Answer(body: [], location: "/users", caseID: nil)
            }
            return created(outcome, fallback: "/users")
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            var kept = form
            kept.values["password"] = nil
            return try await usersPage(request, visit, form: kept, messages: messages, status: .unprocessableContent)
        }
    }

    func updateUser(_ id: UUID, _ form: ConsoleForm, _ request: Request, _ visit: ConsoleVisit) async throws -> Response {
        var patch: [String: Any] = [:]
        if let active = form["active"] { patch["active"] = active == "true" }
        if let password = form["password"], !password.isEmpty { patch["password"] = password }
        do {
            _ = try await UserService(store: store, hasher: hasher).update(id, try decode(UserPatch.self, from: patch),
                                                                        expectedVersion: form["version"].flatMap { Int($0) }, context: visit.access)
            sessions.forget(user: id)
        } catch {
            guard let messages = refusal(error, visit.language) else { throw error }
            return try await usersPage(request, visit, messages: messages.map { message in
                var message = message
                if message.field == "password" { message.field = "reset_password" }
                return message
            }, status: .unprocessableContent)
        }
        return ConsoleRenderer.redirect("/users")
    }

    /// A lost authenticator: the user's second factor is cleared and they enrol anew at their
    /// next login.
    func resetSecondFactor(_ id: UUID, _ visit: ConsoleVisit) async throws -> Response {
        _ = try await UserService(store: store, hasher: hasher).resetSecondFactor(id, context: visit.access)
        sessions.forget(user: id)
        return ConsoleRenderer.redirect("/users")
    }
}
