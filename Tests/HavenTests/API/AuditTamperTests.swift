import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Postgres
import Testing

/// Tamper evidence: after some activity the trail is sealed and verifies; then, as the schema
/// owner with the append-only triggers switched off, one event is edited, deleted, forged or
/// swapped, and `GET /v1/audit/verify` must say which event and how. Each case runs on a fresh
/// application and database.
@Suite struct AuditTamperTests {
    /// A sealed trail with a gap in its ids (for a forged insert), and an auditor's token.
    struct Trail {
        var auditorToken: String
        /// Event ids in chain order (by seal sequence).
        var sealed: [Int64]
        /// An id no event holds, lower than the last sealed event.
        var gap: Int64
    }

    static func prepare(_ app: TestApp, _ client: any TestClientProtocol) async throws -> Trail {
        let (admin, adminToken) = try await app.admin(client)
        _ = try await client.send(.post, "/v1/organisations", token: adminToken, json: ["name": "Tamper Org \(UUID().uuidString.prefix(6))", "type": "ngo", "country": "MD"])
        let caseworker = try await app.user(.caseworker, in: admin.organisationID)
        _ = try await LoginTests.login(client, caseworker.user.username, "not-the-password")
        // Burn one identity value: an id below later events that no event holds.
        let gap = try #require(Int64(try app.ownerRows("SELECT nextval(pg_get_serial_sequence('audit_event', 'id'))::text")[0][0] ?? ""))
        let token = try await app.login(client, caseworker)
        _ = try await client.send(.post, "/v1/organisations", token: token, json: ["name": "Denied", "type": "ngo", "country": "MD"])
        _ = try await client.send(.post, "/v1/auth/logout", token: token)
        let (_, auditorToken) = try await app.loggedIn(.auditor, in: admin.organisationID, client)
        try await sealEverything(app)

        let sealed = try app.ownerRows("SELECT event_id::text FROM audit_seal ORDER BY seq").compactMap { $0[0].flatMap { Int64($0) } }
        #expect(sealed.count >= 7, "\(sealed)")
        #expect(sealed.contains { $0 > gap } && sealed.contains { $0 < gap })
        #expect(!sealed.contains(gap))

        // Untouched, the trail verifies.
        let verify = try await client.send(.get, "/v1/audit/verify", token: auditorToken)
        #expect(verify.status == .ok, "\(verify.text)")
        let report = try verify.json()
        #expect(report["ok"] as? Bool == true, "\(verify.text)")
        #expect((report["checked"] as? Int ?? 0) >= sealed.count, "\(verify.text)")
        #expect(report["problem"] == nil || report["problem"] is NSNull, "\(verify.text)")
        #expect((report["last_sealed"] as? [String: Any])?["event_id"] as? Int != nil, "\(verify.text)")
        return Trail(auditorToken: auditorToken, sealed: sealed, gap: gap)
    }

    /// Seals until every committed event is chained. Waiting (not timing): the sealer only
    /// chains events older than every running transaction in the cluster, and other tests share
    /// the cluster.
    static func sealEverything(_ app: TestApp) async throws {
        let sealer = AuditSealer(store: app.store)
        for _ in 0..<600 {
            _ = try await sealer.sealAll()
            if try app.count("audit_event e", where: "NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)") == 0 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("audit events stayed unsealed")
    }

    /// Runs `body` as the owner with the append-only triggers of both tables switched off.
    static func tamper(_ app: TestApp, _ body: (PGConnection) throws -> Void) throws {
        let owner = try app.database.connect(as: DatabaseSetup.ownerRole)
        try owner.run(script: """
            ALTER TABLE audit_event DISABLE TRIGGER audit_event_append_only;
            ALTER TABLE audit_seal DISABLE TRIGGER audit_seal_append_only;
            """)
        try body(owner)
        try owner.run(script: """
            ALTER TABLE audit_event ENABLE TRIGGER audit_event_append_only;
            ALTER TABLE audit_seal ENABLE TRIGGER audit_seal_append_only;
            """)
    }

    /// The verification report after tampering: not OK, and its problem.
    static func brokenReport(_ client: any TestClientProtocol, _ trail: Trail, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (kind: String?, eventID: Int64?, body: String) {
        let verify = try await client.send(.get, "/v1/audit/verify", token: trail.auditorToken)
        #expect(verify.status == .ok, "\(verify.text)", sourceLocation: sourceLocation)
        let report = try verify.json()
        #expect(report["ok"] as? Bool == false, "tampering went unnoticed: \(verify.text)", sourceLocation: sourceLocation)
        let problem = report["problem"] as? [String: Any]
        #expect(problem != nil, "\(verify.text)", sourceLocation: sourceLocation)
        return (problem?["kind"] as? String, (problem?["event_id"] as? Int).map(Int64.init), verify.text)
    }

    static let editedColumns: [String: String] = [
        "outcome": "outcome = CASE WHEN outcome = 'success' THEN 'denied' ELSE 'success' END",
        "recorded": "recorded = recorded - interval '1 second'",
        // Out of every real date's range: must be reported, not crash the walk (or the server).
        "recorded-infinity": "recorded = 'infinity'",
        "detail": #"detail = '{"reason":"nothing-happened"}'"#,
        "actor_ip": "actor_ip = '10.9.8.7'",
        "action": "action = CASE WHEN action = 'R' THEN 'U' ELSE 'R' END",
        // Not signed itself, but the subtype's first word: a changed one is still caught.
        "type": "type = type || 'x'",
        "subtype": "subtype = subtype || 'x'",
        "actor_user": "actor_user = CASE WHEN actor_user IS NULL THEN gen_random_uuid() ELSE NULL END",
        "actor_org": "actor_org = CASE WHEN actor_org IS NULL THEN gen_random_uuid() ELSE NULL END",
        "actor_role": "actor_role = coalesce(actor_role, '') || 'x'",
        "entity_kind": "entity_kind = coalesce(entity_kind, '') || 'x'",
        "entity_id": "entity_id = coalesce(entity_id, '') || 'x'",
        "case_id": "case_id = CASE WHEN case_id IS NULL THEN gen_random_uuid() ELSE NULL END",
        "subject_org": "subject_org = CASE WHEN subject_org IS NULL THEN gen_random_uuid() ELSE NULL END",
        "purpose": "purpose = purpose || 'x'",
        "request_id": "request_id = coalesce(request_id, '') || 'x'",
        "mac_key": "mac_key = mac_key || 'x'",
        "mac": "mac = sha256(mac)",
    ]

    /// Every stored column but the id and transaction id (whose edits show as deletions and
    /// reorderings, tested below).
    @Test(arguments: editedColumns.keys.sorted())
    func editedEventIsDetected(column: String) async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let victim = trail.sealed[trail.sealed.count / 2]
            try AuditTamperTests.tamper(app) { owner in
                let changed = try owner.execute("UPDATE audit_event SET \(AuditTamperTests.editedColumns[column]!) WHERE id = $1", [victim])
                #expect(changed == 1)
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "changed", "\(body)")
            #expect(eventID == victim, "\(body)")
        }
    }

    @Test func deletedEventIsDetected() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let victim = trail.sealed[trail.sealed.count / 2]
            try AuditTamperTests.tamper(app) { owner in
                let deleted = try owner.execute("DELETE FROM audit_event WHERE id = $1", [victim])
                #expect(deleted == 1)
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "deleted", "\(body)")
            #expect(eventID == victim, "\(body)")
        }
    }

    /// A careful attacker removes the event and its chain link together.
    @Test func deletedEventAndItsSealAreDetected() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let victim = trail.sealed[trail.sealed.count / 2]
            try AuditTamperTests.tamper(app) { owner in
                let events = try owner.execute("DELETE FROM audit_event WHERE id = $1", [victim])
                let seals = try owner.execute("DELETE FROM audit_seal WHERE event_id = $1", [victim])
                #expect(events == 1 && seals == 1)
            }
            let (kind, _, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "deleted", "\(body)")
        }
    }

    /// A forged event slipped in with an old id (and an old transaction id), carrying a genuine
    /// MAC copied from its neighbour: only the chain can tell.
    @Test func forgedEventWithAnOldIdIsDetected() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let neighbour = try #require(trail.sealed.filter { $0 < trail.gap }.max())
            try AuditTamperTests.tamper(app) { owner in
                let inserted = try owner.execute("""
                    INSERT INTO audit_event (id, xid, recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                        actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
                    OVERRIDING SYSTEM VALUE
                    SELECT $1, xid, recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                        actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac
                    FROM audit_event WHERE id = $2
                    """, [trail.gap, neighbour])
                #expect(inserted == 1)
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "inserted", "\(body)")
            #expect(eventID == trail.gap, "\(body)")
        }
    }

    /// A forged event with an old id written plainly: the current transaction id and a made-up MAC.
    @Test func forgedEventWithoutAValidMACIsDetected() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            try AuditTamperTests.tamper(app) { owner in
                let inserted = try owner.execute("""
                    INSERT INTO audit_event (id, recorded, action, type, subtype, outcome, purpose, mac_key, mac)
                    OVERRIDING SYSTEM VALUE
                    VALUES ($1, now() - interval '1 hour', 'E', 'auth', 'auth.login', 'success', 'authentication', 'k1', '\\x00'::bytea)
                    """, [trail.gap])
                #expect(inserted == 1)
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "inserted" || kind == "changed", "\(body)")
            #expect(eventID == trail.gap, "\(body)")
        }
    }

    /// Two events trade places (every column but the id). With their transaction ids, each
    /// keeps a valid MAC and only the keyed chain can tell; without them, the MAC (which covers
    /// the transaction id) already fails. Either way the first of the pair is named.
    @Test(arguments: [true, false])
    func swappedEventsAreDetected(includingTransactionID: Bool) async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let index = trail.sealed.count / 2
            let (first, second) = (trail.sealed[index], trail.sealed[index + 1])
            let columns = (includingTransactionID ? ["xid"] : []) + [
                "recorded", "action", "type", "subtype", "outcome", "actor_user", "actor_org", "actor_role", "actor_ip",
                "entity_kind", "entity_id", "case_id", "subject_org", "purpose", "detail", "request_id", "mac_key", "mac",
            ]
            let contentSQL = "SELECT coalesce(request_id, '') || '|' || subtype || '|' || recorded::text FROM audit_event WHERE id = $1"
            let before = (try app.ownerRows(contentSQL, [first])[0][0], try app.ownerRows(contentSQL, [second])[0][0])
            #expect(before.0 != before.1)
            try AuditTamperTests.tamper(app) { owner in
                let swapped = try owner.execute("""
                    UPDATE audit_event a SET \(columns.map { "\($0) = b.\($0)" }.joined(separator: ", "))
                    FROM audit_event b
                    WHERE (a.id = $1 AND b.id = $2) OR (a.id = $2 AND b.id = $1)
                    """, [first, second])
                #expect(swapped == 2)
            }
            // The swap really moved the content.
            #expect(try app.ownerRows(contentSQL, [first])[0][0] == before.1)
            #expect(try app.ownerRows(contentSQL, [second])[0][0] == before.0)
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == (includingTransactionID ? "reordered" : "changed"), "\(body)")
            #expect(eventID == first, "\(body)")
        }
    }

    /// The verifier the CLI uses reaches the same verdict as the endpoint.
    @Test func verifierReportsTheSameProblemDirectly() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let victim = trail.sealed[1]
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("UPDATE audit_event SET subtype = 'auth.logout' WHERE id = $1", [victim])
            }
            let report = try await AuditVerifier(store: app.store).verify()
            #expect(!report.ok)
            #expect(report.problem?.kind == .changed)
            #expect(report.problem?.eventID == victim)
            #expect(report.checked == 1, "the first event verified, the second did not")
        }
    }

    /// Page by page (the next page read while the current one is checked): the whole chain
    /// verifies, a change on a later page is found, and the connection is usable afterwards.
    @Test func verifierWalksManyPages() async throws {
        try await TestApp.run { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            for pageSize in [1, 2, 3, trail.sealed.count, trail.sealed.count + 1] {
                let report = try await AuditVerifier(store: app.store).verify(pageSize: pageSize)
                #expect(report.ok && report.checked == trail.sealed.count, "page size \(pageSize): \(report)")
            }
            let victim = trail.sealed[trail.sealed.count - 2]
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("UPDATE audit_event SET subtype = 'case.tampered' WHERE id = $1", [victim])
            }
            for pageSize in [2, 3] {
                let report = try await AuditVerifier(store: app.store).verify(pageSize: pageSize)
                #expect(report.problem?.kind == .changed && report.problem?.eventID == victim, "page size \(pageSize): \(report)")
                #expect(report.checked == trail.sealed.count - 2)
            }
            #expect(try await AuditVerifier(store: app.store).verify(pageSize: 2).problem?.eventID == victim, "the pool's connections still work")
        }
    }
}
