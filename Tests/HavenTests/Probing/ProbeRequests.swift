import Foundation
import HavenCore

/// What the probe sends: paths with the other organisation's ids (or random twins) in their
/// parameters, list queries filtered by the other organisation's ids, and plausible bodies.
enum ProbeRequests {
    static let methods = ["GET", "POST", "PATCH", "PUT", "DELETE"]

    /// A way to fill a route's parameters. Each is sent twice: with the other organisation's ids
    /// and with random ids, which must get the same answer (the record is out of scope).
    struct Variant {
        var label: String
        var adjust: (ProbeWorld.IDs, ProbeWorld) -> ProbeWorld.IDs
        var homeCase = false
    }

    static func variants(for pattern: String) -> [Variant] {
        var variants = [Variant(label: "other organisation's ids", adjust: { ids, _ in ids })]
        let parameters = pattern.split(separator: "/").filter { $0.hasPrefix("{") }.count
        if pattern.hasPrefix("/v1/cases/{id}/") && parameters == 2 {
            variants.append(Variant(label: "own case, other organisation's record", adjust: { ids, _ in ids }, homeCase: true))
        }
        if pattern.hasPrefix("/v1/break-glass/{id}") {
            variants.append(Variant(label: "grant held by the other organisation", adjust: { ids, _ in
                var ids = ids
                ids.grant = ids.heldGrant
                return ids
            }))
        }
        return variants
    }

    /// The path with its parameters filled; nil (a test failure) for a parameter the probe does
    /// not know how to fill — a new route must be taught here.
    static func path(_ pattern: String, _ ids: ProbeWorld.IDs, homeCase: UUID?) -> String? {
        var previous = ""
        var parts: [String] = []
        for segment in pattern.split(separator: "/").map(String.init) {
            guard segment.hasPrefix("{") else {
                parts.append(segment)
                previous = segment
                continue
            }
            // A counselling session is named by its index in the episode.
            if previous == "sessions" {
                parts.append("0")
                continue
            }
            let id: UUID
            switch previous {
            case "organisations": id = ids.organisation
            case "users": id = ids.user
            case "cases": id = homeCase ?? ids.caseID
            case "needs": id = ids.need
            case "services", "episodes": id = ids.service
            case "consents": id = ids.consent
            case "referrals": id = ids.referral
            case "break-glass": id = ids.grant
            // The world holds no transfer: another organisation's would be as unknown as this one (404).
            case "transfers": id = UUID(uuidString: "00000000-0000-4000-8000-0000000007f0") ?? UUID()
            // The world has no webhook: an id nobody holds is 404 for every role (the other
            // organisation's webhooks are the administrator's to see, as its directory entry is).
            case "webhooks", "dead-letters": id = UUID(uuidString: "00000000-0000-4000-8000-00000000beef") ?? UUID()
            // A notification is its user's alone: an id another user holds is as unknown as this one (404).
            case "notifications": id = UUID(uuidString: "00000000-0000-4000-8000-0000000000aa") ?? UUID()
            default: return nil
            }
            parts.append(id.uuidString)
        }
        return "/" + parts.joined(separator: "/")
    }

    /// Query strings to try on a GET: the plain list, lists filtered by the other organisation's
    /// ids, and one-item pages (so cursors appear and are followed).
    static func queries(_ pattern: String, _ ids: ProbeWorld.IDs) -> [String] {
        switch pattern {
        case "/v1/users": return ["", "organisation_id=\(ids.organisation.uuidString)", "limit=1"]
        case "/v1/audit-events":
            return ["", "organisation=\(ids.organisation.uuidString)", "case_id=\(ids.caseID.uuidString)", "actor=\(ids.user.uuidString)", "limit=1"]
        case "/v1/cases": return ["", "assignee=\(ids.user.uuidString)", "limit=1"]
        case "/v1/referrals": return ["direction=incoming&limit=1", "direction=outgoing&limit=1", "direction=outgoing&status=requested"]
        case "/v1/break-glass": return ["limit=1", "reviewed=false&limit=1"]
        case "/v1/services/overdue": return ["", "limit=1"]
        case "/v1/organisations": return ["limit=1"]
        case "/v1/organisations/match": return ["service_type=medical", "service_type=counselling&region=Nord"]
        case "/v1/cases/{id}/history": return ["limit=1"]
        case "/v1/reports/cases": return ["", "by=case_type,risk_level", "format=csv"]
        case "/v1/reports/referrals": return ["", "by=status,service_type"]
        case "/v1/reports/turnaround": return ["", "by=recipient_type", "by=priority&format=csv"]
        default: return [""]
        }
    }

    /// A plausible body for the route (nil: none); bodies name the other organisation's records
    /// where the route takes a reference, so validation answers are probed too.
    static func body(_ method: String, _ pattern: String, _ ids: ProbeWorld.IDs, _ world: ProbeWorld) -> [String: Any]? {
        let key = "\(method) \(pattern)"
        switch key {
        case "POST /v1/auth/login":
            return ["username": ids.username, "password": "Not-the-password-\(world.tag)"]
        case "POST /v1/me/password":
            return ["current_password": "not-my-current-password", "new_password": "Probe-new-passphrase-4242"]
        case "POST /v1/organisations":
            return ["name": "Probe organisation \(UUID().uuidString.prefix(8))", "type": "ngo", "country": "MD"]
        case "PATCH /v1/organisations/{id}":
            return ["region": "Probe region"]
        case "POST /v1/users":
            return ["organisation_id": ids.organisation.uuidString, "role": "caseworker", "username": "probe-\(UUID().uuidString.prefix(8).lowercased())",
                    "password": "Probe-passphrase-4242-xyz"]
        case "PATCH /v1/users/{id}":
            return ["display_name": "Probe display"]
        case "POST /v1/cases":
            return CaseKit.intake(CaseKit.Person(), assignee: ids.user)
        case "PATCH /v1/cases/{id}":
            return ["risk_level": "low"]
        case "POST /v1/cases/{id}/assign":
            return ["assignee": ids.user.uuidString]
        case "POST /v1/cases/{id}/close":
            return ["reason": "services-completed"]
        case "POST /v1/cases/{id}/transfer":
            return ["organisation": ids.organisation.uuidString, "consent": ids.consent.uuidString, "reason": "person-moved"]
        case "POST /v1/transfers/{id}/decline":
            return ["reason": "no-capacity"]
        case "POST /v1/referrals/{id}/episodes":
            return ["type": "medical"]
        case "POST /v1/referrals/{id}/episodes/{eid}/extensions":
            return ["until": "2030-01-01"]
        case "POST /v1/referrals/{id}/episodes/{eid}/sessions":
            return ["date": "2026-01-05", "counsellor": "Probe counsellor", "minutes": 30, "modality": "individual", "note": "probe"]
        case "PATCH /v1/referrals/{id}/episodes/{eid}/sessions/{index}":
            return ["minutes": 30]
        case "PATCH /v1/referrals/{id}/episodes/{eid}":
            return ["outcome": "probe"]
        case "POST /v1/cases/{id}/reopen":
            return ["reason": "new-needs"]
        case "POST /v1/cases/{id}/close/decline":
            return ["reason": "work-still-open"]
        case "POST /v1/referrals/{id}/handler":
            return ["user": ids.user.uuidString]
        case "POST /v1/cases/{id}/break-glass":
            return ["reason": "Probe emergency: unconscious, need contacts now"]
        case "POST /v1/cases/{id}/needs":
            return ["domain": "health", "service_type": "medical", "priority": "urgent"]
        case "POST /v1/cases/{id}/services":
            return ["type": "medical", "need_id": ids.need.uuidString, "provider_organisation": world.third.uuidString]
        case "PATCH /v1/cases/{id}/services/{sid}":
            return ["status": "in_progress"]
        case "POST /v1/cases/{id}/consents":
            return CaseKit.consent(to: [world.home], categories: ["profile"])
        case "POST /v1/cases/{id}/referrals":
            return ["to_organisation": world.third.uuidString, "need_id": ids.need.uuidString, "consent_id": ids.consent.uuidString,
                    "shared_categories": ["profile"], "previous_referral_id": ids.referral.uuidString]
        case "POST /v1/referrals/{id}/transitions":
            return ["to": "accepted"]
        case "POST /v1/break-glass/{id}/review":
            return ["note": "Probe review"]
        case "POST /v1/cases/search":
            // The other organisation's person by name and birth year (its first two markers are
            // the given and family names): a search must find nothing of theirs.
            let names = world.markers.filter { $0.label == "B person" }.prefix(2).map(\.value)
            return ["name": names.joined(separator: " "), "birth_year": 1999]
        case "POST /v1/cases/{id}/erase":
            return ["reason": "subject-request"]
        case "POST /v1/cases/{id}/close/approve", "POST /v1/cases/{id}/consents/{cid}/withdraw", "POST /v1/auth/logout":
            return nil
        default:
            return method == "POST" || method == "PATCH" || method == "PUT" ? ["note": "probe"] : nil
        }
    }

    /// The bodies a write is tried with: the plausible one, `{}`, and one that decodes but
    /// breaks validation (a handler that validates after finding the record but before asking
    /// the policy would answer it 422 for an existing record and 404 for a missing one).
    enum BodyKind: CaseIterable {
        case plausible, empty, invalid

        var label: String {
            switch self {
            case .plausible: return ""
            case .empty: return ", body {}"
            case .invalid: return ", invalid body"
            }
        }
    }

    /// A body that decodes but breaks validation. For PATCH /v1/users/{id} it is a new password
    /// containing the target's username (the password policy refuses that), so an answer that
    /// differs from a random id's would also confirm a guessed username.
    static func invalidBody(_ method: String, _ pattern: String, _ ids: ProbeWorld.IDs) -> [String: Any] {
        if "\(method) \(pattern)" == "PATCH /v1/users/{id}" { return ["password": "Xy-\(ids.username)-Long-Enough-42"] }
        return ["password": "x", "display_name": "bell\u{7}", "note": "bell\u{7}", "reason": "bell\u{7}"]
    }

    static func headers(_ method: String, _ pattern: String, _ member: CaseKit.Member) -> [String: String] {
        switch "\(method) \(pattern)" {
        case "PATCH /v1/cases/{id}": return ["If-Match": "W/\"1\""]
        case "GET /v1/cases/{id}/export": return ["X-Reauthenticate": "password \(member.user.password)"]
        default: return [:]
        }
    }
}

/// Where another organisation's data appears by design. Each names the routes, the roles, the
/// kinds of marker it lets through, and why. Everything else must show nothing of it.
enum ProbeExceptions {
    struct Exception {
        var routes: Set<String>
        var roles: Set<Role>
        var kinds: Set<ProbeWorld.Marker.Kind>
        /// The role may tell the other organisation's record from a missing one here (so the
        /// answer may differ from the one a random id gets).
        var revealsExistence = true
        var reason: String
    }

    static let all: [Exception] = [
        Exception(
            routes: ["GET /v1/organisations", "GET /v1/organisations/match", "GET /v1/organisations/{id}"],
            roles: Set(ProbeWorld.roles), kinds: [.organisationID, .organisationName],
            reason: "the organisation directory (name, type, country, mandate) is what referrals are made from: everyone logged in reads it"),
        Exception(
            routes: ["PATCH /v1/organisations/{id}"], roles: [.admin], kinds: [.organisationID, .organisationName],
            reason: "admins maintain every organisation's directory entry and mandate (AccessPolicy: updateOrganisation is the admin's)"),
        Exception(
            routes: ["PATCH /v1/organisations/{id}"], roles: [.supervisor, .caseworker, .partner, .auditor], kinds: [],
            reason: "organisations are public (the directory above), so refusing another role's change with 403 rather than 404 tells nothing new"),
        Exception(
            routes: ["GET /v1/users", "GET /v1/users/{id}", "PATCH /v1/users/{id}", "POST /v1/users", "POST /v1/users/{id}/second-factor/reset"],
            roles: [.admin],
            kinds: [.organisationID, .userID, .username],
            reason: "admins manage the users of every organisation (AccessPolicy.decideUser: an admin sees every user); no case content"),
        Exception(
            routes: ["GET /v1/organisations/{id}/webhooks", "POST /v1/organisations/{id}/webhooks",
                     "DELETE /v1/organisations/{id}/webhooks/{webhook}", "POST /v1/organisations/{id}/webhooks/{webhook}/rotate",
                     "GET /v1/organisations/{id}/webhooks/{webhook}/dead-letters",
                     "POST /v1/organisations/{id}/webhooks/{webhook}/dead-letters/{message}/replay"],
            roles: [.admin], kinds: [.organisationID],
            reason: "admins register every organisation's webhooks (AccessPolicy: webhooks are the admin's); that an organisation "
                + "exists is public (the directory above), and a webhook holds no case content"),
        Exception(
            routes: ["GET /v1/audit-events"], roles: [.auditor], kinds: [.organisationID, .userID, .recordID],
            reason: "auditors read the national audit trail: who did what to which record, by id; never case content "
                + "(no names, references, identifying values or free text)"),
        Exception(
            routes: ["POST /v1/cases/{id}/break-glass"], roles: [.supervisor], kinds: [.organisationID, .recordID],
            reason: "break-glass (S19) is the designed, audited emergency route into a case outside the supervisor's scope; "
                + "the grant names the case and its organisation, nothing more"),
    ]

    /// The marker kinds a role may see on a route, by design.
    static func allowed(_ route: String, _ role: Role) -> Set<ProbeWorld.Marker.Kind> {
        all.filter { $0.routes.contains(route) && $0.roles.contains(role) }.reduce(into: []) { $0.formUnion($1.kinds) }
    }

    /// Whether the role may, by design, tell the other organisation's record from a missing one.
    static func revealsExistence(_ route: String, _ role: Role) -> Bool {
        all.contains { $0.routes.contains(route) && $0.roles.contains(role) && $0.revealsExistence }
    }
}
