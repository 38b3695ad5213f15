import Foundation
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Testing

/// Row-level security as the application's database role: a query that forgot its filter
/// still sees only the rows in the acting user's scope, and nothing without one.
@Suite("Cases: row-level security")
struct CasesRowLevelSecurityTests {
    struct Scene {
        var ownOrg: UUID
        var otherOrg: UUID
        var recipientOrg: UUID
        var first: CaseKit.Member
        var second: CaseKit.Member
        var supervisor: CaseKit.Member
        var outsider: CaseKit.Member
        var partner: CaseKit.Member
        var idlePartner: CaseKit.Member
        /// first's two cases, second's one, the other organisation's one.
        var firstCases: [UUID]
        var secondCase: UUID
        var otherCase: UUID
        var openReferral: UUID
        var endedReferral: UUID
        var secondReferral: UUID
    }

    static func scene(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Scene {
        let own = try await app.organisation(country: "MD")
        let other = try await app.organisation(country: "RO")
        let recipient = try await app.organisation(type: .shelter, country: "UA", services: [.safeAccommodation])
        let idle = try await app.organisation(type: .shelter, country: "UA", services: [.safeAccommodation])
        let first = try await CaseKit.member(app, client, .caseworker, in: own.id)
        let second = try await CaseKit.member(app, client, .caseworker, in: own.id)
        let supervisor = try await CaseKit.member(app, client, .supervisor, in: own.id)
        let outsider = try await CaseKit.member(app, client, .caseworker, in: other.id)
        let partner = try await CaseKit.member(app, client, .partner, in: recipient.id)
        let idlePartner = try await CaseKit.member(app, client, .partner, in: idle.id)

        func fill(_ member: CaseKit.Member, refer: Bool) async throws -> (UUID, UUID?) {
            let id = try await CaseKit.createCase(client, member, CaseKit.intake(CaseKit.Person())).id
            let base = "/v1/cases/\(id.uuidString)"
            let need = try await CaseKit.create(client, member.token, base + "/needs", ["domain": "personal", "service_type": "safe_accommodation", "priority": "urgent"])
            _ = try await CaseKit.create(client, member.token, base + "/services", ["type": "medical"])
            let consent = try await CaseKit.create(client, member.token, base + "/consents", CaseKit.consent(to: [recipient.id], categories: ["profile", "needs"]))
            guard refer else { return (id, nil) }
            let referral = try await CaseKit.create(client, member.token, base + "/referrals", [
                "to_organisation": recipient.id.uuidString, "need_id": need.uuidString, "consent_id": consent.uuidString, "shared_categories": ["profile", "needs"],
            ])
            return (id, referral)
        }
        let (a, openReferral) = try await fill(first, refer: true)
        let (b, endedReferral) = try await fill(first, refer: true)
        let (c, secondReferral) = try await fill(second, refer: true)
        let (d, _) = try await fill(outsider, refer: false)
        // b's referral ends; c's stays open but belongs to the second caseworker.
        let cancel = try await CaseKit.transition(client, first.token, endedReferral!, ["to": "cancelled", "reason": "client-declined"])
        #expect(cancel.status == .ok, "\(cancel.text)")
        return Scene(ownOrg: own.id, otherOrg: other.id, recipientOrg: recipient.id, first: first, second: second, supervisor: supervisor,
                     outsider: outsider, partner: partner, idlePartner: idlePartner, firstCases: [a, b], secondCase: c, otherCase: d,
                     openReferral: openReferral!, endedReferral: endedReferral!, secondReferral: secondReferral!)
    }

    /// An application-role connection acting as `member` (or as nobody).
    static func connection(_ app: TestApp, as member: CaseKit.Member?) throws -> PGConnection {
        let connection = try app.database.connect()
        if let member {
            _ = try connection.query(
                "SELECT set_config('haven.user_id', $1, false), set_config('haven.org_id', $2, false), set_config('haven.role', $3, false)",
                [member.id.uuidString, member.organisation.uuidString, member.role.rawValue])
        }
        return connection
    }

    /// `SELECT <column> FROM <table>` with no filter at all.
    static func all(_ connection: PGConnection, _ table: String, _ column: String = "id") throws -> Set<UUID> {
        Set(try connection.query("SELECT \(column) FROM \(table)").rows.map { try $0.decode(UUID.self, at: 0) })
    }

    /// The same, as the owner, for the cases given.
    static func owned(_ app: TestApp, _ table: String, cases: [UUID]) throws -> Set<UUID> {
        Set(try CaseKit.ownerRows(app, "SELECT id::text FROM \(table) WHERE case_id = ANY($1::uuid[])", [PGTextArray(cases.map(\.uuidString))])
            .compactMap { $0[0].flatMap(UUID.init(uuidString:)) })
    }

    @Test("a caseworker sees the rows of their own cases only")
    func caseworker() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let connection = try Self.connection(app, as: scene.first)
            #expect(try Self.all(connection, "case_file") == Set(scene.firstCases))
            for table in ["need", "consent", "service_episode"] {
                #expect(try Self.all(connection, table) == Self.owned(app, table, cases: scene.firstCases), "\(table) as a caseworker")
                #expect(try Self.all(connection, table, "case_id").isSubset(of: Set(scene.firstCases)), "\(table) as a caseworker")
            }
            #expect(try Self.all(connection, "referral", "case_id").isDisjoint(with: [scene.otherCase]))
            // Changes without a filter reach only the rows in scope.
            #expect(try connection.execute("UPDATE case_file SET risk_level = risk_level") == 2)
            #expect(try connection.execute("UPDATE need SET status = status") == 2)
        }
    }

    @Test("a caseworker's referral rows are those of their own cases")
    func caseworkerReferrals() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let connection = try Self.connection(app, as: scene.first)
            #expect(try Self.all(connection, "referral") == [scene.openReferral, scene.endedReferral],
                    "the second caseworker's referral is outside the first's scope, as the API's policy says")
        }
    }

    @Test("a supervisor sees the whole organisation and nothing of another")
    func supervisor() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let connection = try Self.connection(app, as: scene.supervisor)
            let organisation = scene.firstCases + [scene.secondCase]
            #expect(try Self.all(connection, "case_file") == Set(organisation))
            for table in ["need", "consent", "service_episode"] {
                #expect(try Self.all(connection, table) == Self.owned(app, table, cases: organisation), "\(table) as a supervisor")
            }
            #expect(try Self.all(connection, "referral") == [scene.openReferral, scene.endedReferral, scene.secondReferral])
            let outsider = try Self.connection(app, as: scene.outsider)
            #expect(try Self.all(outsider, "case_file") == [scene.otherCase])
            #expect(try Self.all(outsider, "referral").isEmpty)
            #expect(try Self.all(outsider, "need") == Self.owned(app, "need", cases: [scene.otherCase]))
        }
    }

    @Test("a partner sees only cases with an open referral to its organisation")
    func partner() async throws {
        try await TestApp.run { app, client in
            let scene = try await Self.scene(app, client)
            let connection = try Self.connection(app, as: scene.partner)
            let referred = [scene.firstCases[0], scene.secondCase]
            #expect(try Self.all(connection, "case_file") == Set(referred), "the ended referral's case is gone")
            #expect(try Self.all(connection, "need") == Self.owned(app, "need", cases: referred))
            #expect(try Self.all(connection, "consent", "case_id").isSubset(of: Set(referred)))
            #expect(try Self.all(connection, "referral") == [scene.openReferral, scene.endedReferral, scene.secondReferral],
                    "referrals addressed to the organisation stay visible after they end")
            #expect(try connection.execute("UPDATE case_file SET risk_level = risk_level") == 0, "a partner changes no case")

            let idle = try Self.connection(app, as: scene.idlePartner)
            for table in ["case_file", "need", "consent", "referral", "service_episode"] {
                #expect(try Self.all(idle, table).isEmpty, "\(table) for a partner with no referral")
            }

            // Withdrawing the consent removes the case from the partner's rows.
            let consent = try #require(try CaseKit.ownerRows(app, "SELECT consent_id::text FROM referral WHERE id = $1", [scene.openReferral]).first?[0])
            let withdraw = try await CaseKit.call(client, .post, "/v1/cases/\(scene.firstCases[0].uuidString)/consents/\(consent)/withdraw", scene.first.token)
            #expect(withdraw.status == .ok, "\(withdraw.text)")
            #expect(try Self.all(connection, "case_file") == [scene.secondCase])
        }
    }

    @Test("with no settings, nothing at all")
    func nobody() async throws {
        try await TestApp.run { app, client in
            _ = try await Self.scene(app, client)
            let connection = try Self.connection(app, as: nil)
            for table in ["case_file", "need", "consent", "referral", "service_episode", "session_note", "referral_transition", "break_glass_grant", "idempotency_key"] {
                let rows = Int(try connection.query("SELECT count(*)::text FROM \(table)")[0].decode(String.self, at: 0)) ?? -1
                #expect(rows == 0, "\(table) without an actor: \(rows) rows")
            }
            #expect(try connection.execute("UPDATE case_file SET risk_level = risk_level") == 0)
            // Settings of a transaction end with it.
            try connection.run(script: "BEGIN")
            _ = try connection.query("SELECT set_config('haven.user_id', $1, true), set_config('haven.org_id', $2, true), set_config('haven.role', 'supervisor', true)",
                                     [UUID().uuidString, UUID().uuidString])
            try connection.run(script: "COMMIT")
            #expect(try Self.all(connection, "case_file").isEmpty)
            #expect(try CaseKit.count(app, "case_file") == 4, "the owner sees all four")
        }
    }
}
