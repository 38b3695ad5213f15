import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// Every event someone must act on reaches them once, as an in-app notification, through the
/// outbox written with the action: referrals arriving and answered, closures asked and decided,
/// emergency access, consents ending, deadlines passing. An action that rolls back tells
/// nobody, and a user reads only their own notifications.
@Suite struct NotificationEventTests {
    struct Scene {
        var sender: UUID
        var shelter: UUID
        var caseworker: CaseKit.Member
        var supervisor: CaseKit.Member
        var partner: CaseKit.Member
        var shelterSupervisor: CaseKit.Member
        var caseID: UUID
        var reference: String
        var needID: UUID
        var consentID: UUID
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let sender = try await app.organisation("Sender NGO \(UUID().uuidString.prefix(6))", type: .ngo, services: [.counselling])
        let shelter = try await app.organisation("Shelter \(UUID().uuidString.prefix(6))", type: .shelter, services: [.safeAccommodation])
        let caseworker = try await CaseKit.member(app, client, .caseworker, in: sender.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: sender.id)
        let partner = try await CaseKit.member(app, client, .partner, in: shelter.id)
        let shelterSupervisor = try await CaseKit.member(app, client, .supervisor, in: shelter.id)
        let created = try await CaseKit.createCase(client, caseworker, CaseKit.intake(CaseKit.Person()))
        let needID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(created.id.uuidString)/needs",
                                              ["domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"])
        let consentID = try await CaseKit.create(client, caseworker.token, "/v1/cases/\(created.id.uuidString)/consents", [
            "grantor": "self", "method": "written",
            "provisions": [["recipient_organisation": shelter.id.uuidString, "purpose": "accommodation", "categories": ["profile", "needs"]]],
        ] as [String: Any])
        return Scene(sender: sender.id, shelter: shelter.id, caseworker: caseworker, supervisor: supervisor, partner: partner,
                     shelterSupervisor: shelterSupervisor, caseID: created.id, reference: created.reference, needID: needID, consentID: consentID)
    }

    static func refer(_ client: any TestClientProtocol, _ scene: Scene) async throws -> UUID {
        try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/referrals", [
            "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": scene.consentID.uuidString,
            "shared_categories": ["profile", "needs"],
        ])
    }

    static func deliver(_ app: TestApp) async throws {
        try await NotificationDeliverer(store: app.store, channels: [InAppChannel()]).deliverDue()
    }

    /// The member's notifications of `kind`, as the API lists them.
    static func notifications(_ client: any TestClientProtocol, _ member: CaseKit.Member, _ kind: NotificationKind) async throws -> [[String: Any]] {
        let response = try await CaseKit.call(client, .get, "/v1/notifications?limit=200", member.token)
        #expect(response.status == .ok, "\(response.text)")
        return try response.jsonArray().filter { $0["kind"] as? String == kind.rawValue }
    }

    static func messages(_ app: TestApp, _ kind: NotificationKind) throws -> Int {
        try CaseKit.count(app, "notification_outbox", where: "kind = $1", [kind.rawValue])
    }

    @Test func referralsArriveAndTheirAnswersGoBackOnce() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let accepted = try await Self.refer(client, scene)
            try await Self.deliver(app)
            let arrived = try await Self.notifications(client, scene.partner, .referralArrived)
            #expect(arrived.count == 1)
            #expect(arrived.first?["link"] as? String == "/referrals/" + accepted.lowercasedString)
            #expect(arrived.first?["case_reference"] as? String == scene.reference)
            #expect(arrived.first?["priority"] as? String == "emergency")
            #expect(try await Self.notifications(client, scene.shelterSupervisor, .referralArrived).count == 1)
            #expect(try await Self.notifications(client, scene.caseworker, .referralArrived).isEmpty, "the sender is not told of its own referral")

            #expect(try await CaseKit.transition(client, scene.partner.token, accepted, ["to": "accepted"]).status == .ok)
            #expect(try await CaseKit.transition(client, scene.partner.token, accepted, ["to": "in-progress"]).status == .ok)
            #expect(try await CaseKit.transition(client, scene.partner.token, accepted, ["to": "completed", "outcome": "stayed two weeks"]).status == .ok)
            let rejected = try await Self.refer(client, scene)
            #expect(try await CaseKit.transition(client, scene.partner.token, rejected, ["to": "rejected", "reason": "no-capacity"]).status == .ok)
            let cancelled = try await Self.refer(client, scene)
            #expect(try await CaseKit.transition(client, scene.caseworker.token, cancelled, ["to": "cancelled", "reason": "client-declined"]).status == .ok)
            try await Self.deliver(app)
            try await Self.deliver(app)

            // Answers go to the sender who referred, nobody else of the organisation.
            for kind in [NotificationKind.referralAccepted, .referralCompleted, .referralRejected] {
                #expect(try Self.messages(app, kind) == 1, "\(kind)")
                #expect(try await Self.notifications(client, scene.caseworker, kind).count == 1, "\(kind)")
                #expect(try await Self.notifications(client, scene.supervisor, kind).isEmpty, "\(kind)")
            }
            let told = try await Self.notifications(client, scene.partner, .referralCancelled)
            #expect(told.map { $0["link"] as? String } == ["/referrals/" + cancelled.lowercasedString])
            #expect(try Self.messages(app, .referralArrived) == 3)
            #expect(try await Self.notifications(client, scene.partner, .referralArrived).count == 3)
            // No value about the person travels: the message is the kind, the reference, a priority and a link.
            let rows = try CaseKit.ownerRows(app, "SELECT row_to_json(m)::text FROM notification_outbox m")
            CaseKit.expectAbsent(["Synthetic", "given_name", "note"], in: rows.compactMap { $0[0] }.joined(), "the outbox")
        }
    }

    @Test func closuresAreAskedOfSupervisorsAndTheirAnswersGoBack() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let base = "/v1/cases/\(scene.caseID.uuidString)"
            // Nothing open to decide: the need is met first.
            _ = try CaseKit.ownerRows(app, "UPDATE need SET status = 'met' WHERE id = $1", [scene.needID])
            #expect(try await CaseKit.call(client, .post, base + "/close", scene.caseworker.token, ["reason": "services-completed"]).status == .accepted)
            try await Self.deliver(app)
            let asked = try await Self.notifications(client, scene.supervisor, .closureRequested)
            #expect(asked.map { $0["link"] as? String } == [base.replacingOccurrences(of: "/v1", with: "").lowercased() + "/closure"])
            #expect(try await Self.notifications(client, scene.caseworker, .closureRequested).isEmpty)

            let declined = try await CaseKit.call(client, .post, base + "/close/decline", scene.supervisor.token, ["reason": "work-still-open"])
            #expect(declined.status == .ok, "\(declined.text)")
            #expect(try await CaseKit.call(client, .post, base + "/close", scene.caseworker.token, ["reason": "services-completed"]).status == .accepted)
            let approved = try await CaseKit.call(client, .post, base + "/close/approve", scene.supervisor.token, [String: Any]())
            #expect(approved.status == .ok, "\(approved.text)")
            try await Self.deliver(app)
            #expect(try await Self.notifications(client, scene.caseworker, .closureDeclined).count == 1)
            #expect(try await Self.notifications(client, scene.caseworker, .closureApproved).count == 1)
            #expect(try await Self.notifications(client, scene.supervisor, .closureRequested).count == 2)
            #expect(try Self.messages(app, .closureDeclined) == 1)
            #expect(try Self.messages(app, .closureApproved) == 1)
        }
    }

    @Test func emergencyAccessIsToldToTheSupervisorsOfBothOrganisations() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let granted = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/break-glass", scene.shelterSupervisor.token,
                                                 ["reason": "unconscious at the border post; need allergies and contacts now"])
            #expect(granted.status == .created, "\(granted.text)")
            try await Self.deliver(app)
            let owners = try await Self.notifications(client, scene.supervisor, .breakGlassStarted)
            #expect(owners.count == 1)
            #expect(owners.first?["case_reference"] as? String == scene.reference)
            #expect(owners.first?["link"] as? String == "/break-glass")
            #expect(try await Self.notifications(client, scene.shelterSupervisor, .breakGlassStarted).count == 1)
            #expect(try await Self.notifications(client, scene.caseworker, .breakGlassStarted).isEmpty)
        }
    }

    @Test func aTransferRequestIsToldToTheReceivingSupervisorsOnce() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let covering = try await CaseKit.create(client, scene.caseworker.token, "/v1/cases/\(scene.caseID.uuidString)/consents", [
                "grantor": "self", "method": "written",
                "provisions": [["recipient_organisation": scene.shelter.uuidString, "purpose": "the person moved",
                                "categories": DataCategory.allCases.map(\.rawValue)]],
            ] as [String: Any])
            let asked = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/transfer", scene.caseworker.token,
                                               ["organisation": scene.shelter.uuidString, "consent": covering.uuidString, "reason": "person-moved"])
            #expect(asked.status == .created, "\(asked.text)")
            try await Self.deliver(app)
            try await Self.deliver(app)
            let told = try await Self.notifications(client, scene.shelterSupervisor, .caseTransferred)
            #expect(told.count == 1)
            #expect(told.first?["case_reference"] as? String == scene.reference)
            #expect(told.first?["link"] as? String == "/transfers")
            #expect(try await Self.notifications(client, scene.partner, .caseTransferred).isEmpty)
            #expect(try await Self.notifications(client, scene.supervisor, .caseTransferred).isEmpty)
        }
    }

    @Test func consentsEndingAndDeadlinesPassedAreAnnouncedOnceToTheCaseworker() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let base = "/v1/cases/\(scene.caseID.uuidString)"
            _ = try await CaseKit.create(client, scene.caseworker.token, base + "/consents",
                                         CaseKit.consent(to: [scene.shelter], categories: ["profile"], expiresAt: Date().addingTimeInterval(3 * 86_400)))
            _ = try await CaseKit.create(client, scene.caseworker.token, base + "/services",
                                         ["type": "medical", "status": "planned", "start_on": CaseKit.daysAgo(30), "due_on": CaseKit.daysAgo(2)])
            _ = try CaseKit.ownerRows(app, "UPDATE need SET due_at = now() - interval '1 hour' WHERE id = $1", [scene.needID])
            let sweep = NotificationSweep(store: app.store)
            #expect(try await sweep.sweep() == 3)
            #expect(try await sweep.sweep() == 0, "each is announced once")
            try await Self.deliver(app)
            for kind in [NotificationKind.consentExpiring, .needOverdue, .serviceOverdue] {
                let mine = try await Self.notifications(client, scene.caseworker, kind)
                #expect(mine.count == 1, "\(kind)")
                #expect(mine.first?["link"] as? String == "/cases/" + scene.caseID.lowercasedString, "\(kind)")
                #expect(try await Self.notifications(client, scene.supervisor, kind).isEmpty, "\(kind): the case's caseworker is told")
            }
            #expect(try await Self.notifications(client, scene.caseworker, .needOverdue).first?["priority"] as? String == "emergency")
        }
    }

    @Test func anActionThatRollsBackTellsNobody() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            // The referral's audit event cannot be written, so the whole action rolls back.
            _ = try CaseKit.ownerRows(app, """
                CREATE FUNCTION refuse_referral_event() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN IF NEW.subtype = 'referral.create' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$
                """)
            _ = try CaseKit.ownerRows(app, "CREATE TRIGGER refuse_referral_event BEFORE INSERT ON audit_event FOR EACH ROW EXECUTE FUNCTION refuse_referral_event()")
            let refused = try await CaseKit.call(client, .post, "/v1/cases/\(scene.caseID.uuidString)/referrals", scene.caseworker.token, [
                "to_organisation": scene.shelter.uuidString, "need_id": scene.needID.uuidString, "consent_id": scene.consentID.uuidString,
                "shared_categories": ["profile", "needs"],
            ])
            #expect(refused.status.code >= 500, "\(refused.text)")
            try await Self.deliver(app)
            #expect(try CaseKit.count(app, "referral") == 0)
            #expect(try CaseKit.count(app, "notification_outbox") == 0)
            #expect(try await Self.notifications(client, scene.partner, .referralArrived).isEmpty)
        }
    }

    @Test func aUserReadsAndMarksOnlyTheirOwn() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            _ = try await Self.refer(client, scene)
            _ = try await Self.refer(client, scene)
            try await Self.deliver(app)
            let list = try await CaseKit.call(client, .get, "/v1/notifications?limit=1", scene.partner.token)
            #expect(list.status == .ok, "\(list.text)")
            #expect(try list.json()["unread"] as? Int == 2)
            let first = try list.jsonArray()
            #expect(first.count == 1)
            let cursor = try #require(try list.json()["next_cursor"] as? String)
            let second = try await CaseKit.call(client, .get, "/v1/notifications?limit=1&cursor=\(cursor)", scene.partner.token).jsonArray()
            #expect(second.count == 1 && second.first?["id"] as? String != first.first?["id"] as? String)
            let id = try #require(first.first?["id"] as? String)

            // Another user of the same organisation neither sees nor marks it.
            #expect(try await CaseKit.call(client, .get, "/v1/notifications", scene.shelterSupervisor.token).jsonArray()
                .allSatisfy { $0["id"] as? String != id })
            CaseKit.expectProblem(try await CaseKit.call(client, .post, "/v1/notifications/\(id)/read", scene.shelterSupervisor.token), .notFound)
            CaseKit.expectProblem(try await CaseKit.call(client, .post, "/v1/notifications/\(id)/read", scene.caseworker.token), .notFound)

            let read = try await CaseKit.call(client, .post, "/v1/notifications/\(id)/read", scene.partner.token)
            #expect(read.status == .ok, "\(read.text)")
            #expect(try read.json()["read_at"] is String)
            #expect(try await CaseKit.call(client, .get, "/v1/notifications?unread=true", scene.partner.token).jsonArray().count == 1)
            let all = try await CaseKit.call(client, .post, "/v1/notifications/read-all", scene.partner.token)
            #expect(try all.json()["marked"] as? Int == 1)
            #expect(try await CaseKit.call(client, .get, "/v1/notifications", scene.partner.token).json()["unread"] as? Int == 0)
            #expect(try await CaseKit.call(client, .get, "/v1/notifications", scene.shelterSupervisor.token).json()["unread"] as? Int == 2)
            CaseKit.expectProblem(try await CaseKit.call(client, .get, "/v1/notifications?unread=maybe", scene.partner.token), .badRequest, field: "unread")
        }
    }
}
