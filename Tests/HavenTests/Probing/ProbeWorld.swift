import Foundation
import HavenCore
import HummingbirdTesting
import Testing

/// Three organisations for authorisation probing:
/// - **home** (A): one logged-in member of every role, and a case of its own with a need, a
///   service and a consent (so "own parent, foreign child" paths can be tried);
/// - **other** (B): the organisation whose data must never reach home's members — users of every
///   role, a case whose synthetic person carries a unique marker in every identifying value,
///   its need, overdue service (with a counselling note), consent, an open referral to third, a
///   break-glass grant on it (held by third's supervisor) and a grant held by B's supervisor on
///   third's case;
/// - **third** (C): the referral's recipient and the other side of the two grants.
///
/// Every value of B and C a response could leak is a `Marker`; the probe searches every answer
/// for all of them.
struct ProbeWorld: Sendable {
    struct Marker: Sendable, Hashable {
        enum Kind: String, Sendable, CaseIterable {
            /// An organisation's id.
            case organisationID = "organisation id"
            /// An organisation's name.
            case organisationName = "organisation name"
            case userID = "user id"
            case username
            /// The id of a case or anything hanging off it (need, service, consent, referral, grant).
            case recordID = "record id"
            /// A case's pseudonymous reference.
            case reference
            /// A person's identifying value (name, alias, contact, address, document number).
            case identifying
            /// Free text written into the other organisation's records (notes, reasons, purposes).
            case text
        }

        var value: String
        var kind: Kind
        var label: String
    }

    /// The ids a request is built from: the other organisation's, or random ones (the twin
    /// request that must get the same answer when the other organisation's records are out of
    /// the caller's scope).
    struct IDs: Sendable {
        var organisation: UUID
        var user: UUID
        var caseID: UUID
        var need: UUID
        var service: UUID
        var consent: UUID
        var referral: UUID
        var grant: UUID
        var heldGrant: UUID
        var username: String

        static func random() -> IDs {
            IDs(organisation: UUID(), user: UUID(), caseID: UUID(), need: UUID(), service: UUID(), consent: UUID(), referral: UUID(),
                grant: UUID(), heldGrant: UUID(), username: "nobody-\(UUID().uuidString.prefix(8).lowercased())")
        }
    }

    var tag: String
    var home: UUID
    var other: UUID
    var third: UUID
    /// Home's members by role, logged in.
    var members: [Role: CaseKit.Member]
    var homeCase: UUID
    var homeNeed: UUID
    var homeService: UUID
    var homeConsent: UUID
    var otherIDs: IDs
    /// The other organisation's caseworker, who works its case (for the positive control).
    var otherCaseworker: CaseKit.Member
    var markers: [Marker]

    static let roles: [Role] = [.admin, .supervisor, .caseworker, .partner, .auditor]

    static func build(_ app: TestApp, _ client: any TestClientProtocol) async throws -> ProbeWorld {
        let person = CaseKit.Person()
        let tag = person.tag
        let home = try await app.organisation("Homeorg \(tag)", type: .ngo, country: "MD", services: [.counselling, .legalAid])
        let other = try await app.organisation("Otherorgqx\(tag)", type: .ngo, country: "RO", services: [.counselling, .medical])
        let third = try await app.organisation("Thirdorgqx\(tag)", type: .shelter, country: "UA", services: [.safeAccommodation, .medical])

        var markers: [Marker] = [
            Marker(value: other.id.uuidString, kind: .organisationID, label: "B organisation id"),
            Marker(value: other.name, kind: .organisationName, label: "B organisation name"),
            Marker(value: third.id.uuidString, kind: .organisationID, label: "C organisation id"),
            Marker(value: third.name, kind: .organisationName, label: "C organisation name"),
        ]

        var members: [Role: CaseKit.Member] = [:]
        for role in roles { members[role] = try await CaseKit.member(app, client, role, in: home.id) }

        // The other organisation's users, every role, usernames carrying the marker.
        var otherUsers: [Role: TestApp.TestUser] = [:]
        for role in roles {
            let user = try await app.user(role, in: other.id, username: "bqx\(tag)-\(role.rawValue)")
            otherUsers[role] = user
            markers.append(Marker(value: user.id.uuidString, kind: .userID, label: "B \(role.rawValue) user id"))
            markers.append(Marker(value: user.user.username, kind: .username, label: "B \(role.rawValue) username"))
        }
        let thirdSupervisor = try await app.user(.supervisor, in: third.id, username: "cqx\(tag)-supervisor")
        let thirdCaseworker = try await app.user(.caseworker, in: third.id, username: "cqx\(tag)-caseworker")
        for user in [thirdSupervisor, thirdCaseworker] {
            markers.append(Marker(value: user.id.uuidString, kind: .userID, label: "C \(user.user.role.rawValue) user id"))
            markers.append(Marker(value: user.user.username, kind: .username, label: "C \(user.user.role.rawValue) username"))
        }
        let otherCaseworker = CaseKit.Member(user: otherUsers[.caseworker]!, token: try await app.login(client, otherUsers[.caseworker]!))
        let otherSupervisor = CaseKit.Member(user: otherUsers[.supervisor]!, token: try await app.login(client, otherUsers[.supervisor]!))
        let thirdSupervisorMember = CaseKit.Member(user: thirdSupervisor, token: try await app.login(client, thirdSupervisor))
        let thirdCaseworkerMember = CaseKit.Member(user: thirdCaseworker, token: try await app.login(client, thirdCaseworker))

        // The other organisation's case, with everything that hangs off it.
        let text = { (what: String) in "\(what)qx\(tag)" }
        let created = try await CaseKit.createCase(client, otherCaseworker, CaseKit.intake(person, note: text("Casenote")))
        let base = "/v1/cases/\(created.id.uuidString)"
        let token = otherCaseworker.token
        let need = try await CaseKit.create(client, token, base + "/needs",
                                            ["domain": "health", "service_type": "medical", "priority": "urgent", "note": text("Neednote")])
        let service = try await CaseKit.create(client, token, base + "/services", [
            "type": "counselling", "start_on": CaseKit.daysAgo(20), "due_on": CaseKit.daysAgo(2),
            "detail": ["counselling": [["date": CaseKit.daysAgo(15), "counsellor": text("Counsellor"), "minutes": 50, "modality": "individual",
                                        "note": text("Sessionnote")]]],
        ])
        let consent = try await CaseKit.create(client, token, base + "/consents", [
            "grantor": "self", "method": "written", "statistics": true,
            "provisions": [["recipient_organisation": third.id.uuidString, "purpose": text("Purpose"),
                            "categories": ["contact", "identity", "profile", "needs", "services", "notes"]]],
        ])
        let referral = try await CaseKit.create(client, token, base + "/referrals", [
            "to_organisation": third.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString,
            "shared_categories": ["contact", "identity", "profile", "needs", "services", "notes"], "note": text("Referralnote"),
        ])
        let grant = try await CaseKit.create(client, thirdSupervisorMember.token, base + "/break-glass",
                                             ["reason": text("Grantreason") + " unconscious, need contacts now"])

        // Third's case, on which the other organisation's supervisor holds a grant.
        let thirdPerson = CaseKit.Person()
        let thirdCase = try await CaseKit.createCase(client, thirdCaseworkerMember, CaseKit.intake(thirdPerson, note: text("Thirdnote")))
        let heldGrant = try await CaseKit.create(client, otherSupervisor.token, "/v1/cases/\(thirdCase.id.uuidString)/break-glass",
                                                 ["reason": text("Heldreason") + " emergency at the border post"])

        for (value, label) in [(created.id, "B case id"), (need, "B need id"), (service, "B service id"), (consent, "B consent id"),
                               (referral, "B referral id"), (grant, "grant id (C supervisor on B case)"),
                               (heldGrant, "grant id (B supervisor on C case)"), (thirdCase.id, "C case id")] {
            markers.append(Marker(value: value.uuidString, kind: .recordID, label: label))
        }
        markers.append(Marker(value: created.reference, kind: .reference, label: "B case reference"))
        markers.append(Marker(value: thirdCase.reference, kind: .reference, label: "C case reference"))
        for value in person.identifyingValues { markers.append(Marker(value: value, kind: .identifying, label: "B person")) }
        for value in thirdPerson.identifyingValues { markers.append(Marker(value: value, kind: .identifying, label: "C person")) }
        for what in ["Casenote", "Neednote", "Counsellor", "Sessionnote", "Purpose", "Referralnote", "Grantreason", "Heldreason", "Thirdnote"] {
            markers.append(Marker(value: text(what), kind: .text, label: "B/C free text \(what)"))
        }

        // Home's own case, to try "own case, the other organisation's need/service/consent" paths.
        let homeWorker = members[.caseworker]!
        let homeCase = try await CaseKit.createCase(client, homeWorker, CaseKit.intake(CaseKit.Person()))
        let homeBase = "/v1/cases/\(homeCase.id.uuidString)"
        let homeNeed = try await CaseKit.create(client, homeWorker.token, homeBase + "/needs", ["domain": "personal", "service_type": "legal_aid", "priority": "normal"])
        let homeService = try await CaseKit.create(client, homeWorker.token, homeBase + "/services", ["type": "legal_aid"])
        let homeConsent = try await CaseKit.create(client, homeWorker.token, homeBase + "/consents",
                                                   CaseKit.consent(to: [third.id], categories: ["profile"]))

        let ids = IDs(organisation: other.id, user: otherUsers[.caseworker]!.id, caseID: created.id, need: need, service: service, consent: consent,
                      referral: referral, grant: grant, heldGrant: heldGrant, username: otherUsers[.caseworker]!.user.username)
        return ProbeWorld(tag: tag, home: home.id, other: other.id, third: third.id, members: members, homeCase: homeCase.id, homeNeed: homeNeed,
                          homeService: homeService, homeConsent: homeConsent, otherIDs: ids,
                          otherCaseworker: otherCaseworker, markers: markers)
    }
}
