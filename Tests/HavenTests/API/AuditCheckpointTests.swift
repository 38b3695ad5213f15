import Foundation
import HavenAPI
import HavenCore
import HavenStore
import HTTPTypes
import HummingbirdTesting
import Postgres
import Sealing
import Testing

/// The audit trail against its own database owner: after a checkpoint is signed and kept
/// outside the database, the owner (triggers off) cuts the tail, empties the trail, rebuilds the
/// chain after a deletion or inserts a copy of an event, and verification must name what
/// happened and where. Each runs on a fresh application, database and checkpoint folder.
@Suite struct AuditCheckpointTests {
    static func run(_ body: @Sendable @escaping (TestApp, any TestClientProtocol, AuditTamperTests.Trail, AuditCheckpoint) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("haven-checkpoints-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = AppConfiguration(host: "127.0.0.1", port: 0)
        configuration.auditCheckpointDirectory = folder
        try await TestApp.run(configuration: configuration) { app, client in
            let trail = try await AuditTamperTests.prepare(app, client)
            let answer = try await client.send(.get, "/v1/audit/checkpoint", token: trail.auditorToken)
            #expect(answer.status == .ok, "\(answer.text)")
            let checkpoint = try #require(try AuditCheckpoint.parse(answer.text).first)
            #expect(checkpoint.length >= Int64(trail.sealed.count))
            #expect(try AuditCheckpointFolder(path: folder).latest() == checkpoint, "kept in the folder as served")
            let publicKey = try AuditCheckpoint.publicKey(TestKeys.ring).key
            #expect(checkpoint.isSigned(by: publicKey))
            try await AuditTamperTests.sealEverything(app)
            try await body(app, client, trail, checkpoint)
        }
    }

    static func sealedIDs(_ app: TestApp) throws -> [Int64] {
        try app.ownerRows("SELECT event_id::text FROM audit_seal ORDER BY seq").compactMap { $0[0].flatMap { Int64($0) } }
    }

    @Test func untouchedTrailExtendsItsCheckpoints() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            let verify = try await client.send(.get, "/v1/audit/verify", token: trail.auditorToken).json()
            #expect(verify["ok"] as? Bool == true, "\(verify)")
            #expect(verify["checkpoints_checked"] as? Int == 1 && verify["keyed_from_seq"] as? Int == 1, "\(verify)")
            // A second party with only the old checkpoint and the public key, later.
            _ = try await client.send(.get, "/v1/me", token: trail.auditorToken)
            try await AuditTamperTests.sealEverything(app)
            let report = try await AuditVerifier(store: app.store).verify(checkpoints: [checkpoint], publicKey: AuditCheckpoint.publicKey(TestKeys.ring).key)
            #expect(report.ok && report.checked > Int(checkpoint.length), "\(report)")
        }
    }

    /// (a) The newest events deleted with their seal rows.
    @Test func deletedTailIsDetected() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("DELETE FROM audit_event WHERE id IN (SELECT event_id FROM audit_seal WHERE seq > $1)", [checkpoint.length - 2])
                _ = try owner.execute("DELETE FROM audit_seal WHERE seq > $1", [checkpoint.length - 2])
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "truncated", "\(body)")
            #expect(eventID == checkpoint.eventID, "\(body)")
        }
    }

    /// (b) The whole trail truncated.
    @Test func emptiedTrailIsDetected() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            try AuditTamperTests.tamper(app) { owner in
                try owner.run(script: "TRUNCATE audit_seal, audit_event")
            }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "truncated", "\(body)")
            #expect(eventID == checkpoint.eventID, "\(body)")
            #expect(body.contains("emptied") || body.contains("cut"), "\(body)")
        }
    }

    /// (c) An event deleted, the chain renumbered and every link recomputed with the old,
    /// unkeyed formula and no key named: every link follows from the one before, but the chain
    /// no longer reaches the checkpoint's head.
    @Test func chainRebuiltAfterADeletionIsDetected() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            let victim = trail.sealed[trail.sealed.count / 2]
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("DELETE FROM audit_event WHERE id = $1", [victim])
                _ = try owner.execute("DELETE FROM audit_seal WHERE event_id = $1", [victim])
                _ = try owner.execute("UPDATE audit_seal SET seq = -seq")
                _ = try owner.execute("""
                    UPDATE audit_seal s SET seq = r.n, link_key = NULL
                    FROM (SELECT seq, row_number() OVER (ORDER BY seq DESC) AS n FROM audit_seal) r WHERE s.seq = r.seq
                    """)
                var previous = [UInt8](repeating: 0, count: 32)
                for row in try owner.query("SELECT s.seq, s.event_id, e.mac FROM audit_seal s JOIN audit_event e ON e.id = s.event_id ORDER BY s.seq").rows {
                    let seq: Int64 = try row.decode(at: 0), eventID: Int64 = try row.decode(at: 1), mac: [UInt8] = try row.decode(at: 2)
                    var input = previous
                    for value in [seq, eventID] {
                        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
                    }
                    previous = Digest.sha256(input + mac)
                    _ = try owner.execute("UPDATE audit_seal SET hash = $1 WHERE seq = $2", [previous, seq])
                }
            }
            let (kind, _, body) = try await AuditTamperTests.brokenReport(client, trail)
            #expect(kind == "rebuilt", "\(body)")
            #expect(body.contains("link 1 "), "named where the rebuilt chain starts: \(body)")
        }
    }

    /// (c') The same rebuild from the deletion on, keeping the key names, checked with no
    /// checkpoint at all: the keyed links alone name the first rebuilt link.
    @Test func rebuiltLinksFailWithoutTheChainKey() async throws {
        try await AuditCheckpointTests.run { app, client, trail, _ in
            let index = trail.sealed.count / 2
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("DELETE FROM audit_event WHERE id = $1", [trail.sealed[index]])
                _ = try owner.execute("DELETE FROM audit_seal WHERE event_id = $1", [trail.sealed[index]])
                _ = try owner.execute("UPDATE audit_seal SET seq = seq - 1 WHERE seq > $1", [Int64(index + 1)])
                var previous: [UInt8] = try owner.query("SELECT hash FROM audit_seal WHERE seq = $1", [Int64(index)])[0].decode(at: 0)
                for row in try owner.query("SELECT s.seq, s.event_id, e.mac FROM audit_seal s JOIN audit_event e ON e.id = s.event_id WHERE s.seq > $1 ORDER BY s.seq", [Int64(index)]).rows {
                    let seq: Int64 = try row.decode(at: 0), eventID: Int64 = try row.decode(at: 1), mac: [UInt8] = try row.decode(at: 2)
                    var input = previous
                    for value in [seq, eventID] {
                        for shift in stride(from: 56, through: 0, by: -8) { input.append(UInt8(truncatingIfNeeded: value >> Int64(shift))) }
                    }
                    previous = Digest.sha256(input + mac)
                    _ = try owner.execute("UPDATE audit_seal SET hash = $1 WHERE seq = $2", [previous, seq])
                }
            }
            let report = try await AuditVerifier(store: app.store).verify()
            #expect(report.problem?.kind == .rebuilt, "\(report)")
            #expect(report.problem?.seq == Int64(index + 1), "\(report)")
            #expect(report.problem?.eventID == trail.sealed[index + 1], "\(report)")
        }
    }

    /// (d) A copy of a genuine event inserted under a new id, in its own transaction or in the
    /// original's: its MAC does not cover the new place, and the original is named.
    @Test(arguments: [false, true])
    func copiedEventIsDetected(keepingTransactionID: Bool) async throws {
        try await AuditCheckpointTests.run { app, client, trail, _ in
            let original = trail.sealed[trail.sealed.count / 2]
            var copy: Int64 = 0
            try AuditTamperTests.tamper(app) { owner in
                let xid = keepingTransactionID ? "xid, " : ""
                copy = try owner.query("""
                    INSERT INTO audit_event (\(xid)recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                        actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
                    SELECT \(xid)recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                        actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac
                    FROM audit_event WHERE id = $1 RETURNING id
                    """, [original])[0].decode(at: 0)
            }
            if !keepingTransactionID { try await AuditTamperTests.sealEverything(app) }
            let (kind, eventID, body) = try await AuditTamperTests.brokenReport(client, trail)
            if keepingTransactionID {
                // Behind the sealed head: not in the chain at all.
                #expect(kind == "inserted" || kind == "duplicated", "\(body)")
            } else {
                #expect(kind == "duplicated", "\(body)")
                #expect(body.contains("copy of event \(original)"), "\(body)")
            }
            #expect(eventID == copy, "\(body)")
        }
    }

    /// A checkpoint whose numbers were edited, or one signed by another key, is refused as forged.
    @Test func forgedCheckpointIsRefused() async throws {
        try await AuditCheckpointTests.run { app, _, _, checkpoint in
            var edited = checkpoint
            edited.length += 5
            let report = try await AuditVerifier(store: app.store).verify(checkpoints: [edited])
            #expect(report.problem?.kind == .forgedCheckpoint, "\(report)")
            let stranger = try Ed25519.SigningKey(seed: [UInt8](repeating: 7, count: 32)).publicKey
            let other = try await AuditVerifier(store: app.store).verify(checkpoints: [checkpoint], publicKey: stranger)
            #expect(other.problem?.kind == .forgedCheckpoint, "\(other)")
        }
    }

    /// Seal rows deleted but their events kept: the sealer chains the events again, and the
    /// keyed links come out the same, so the trail still extends its checkpoint and a new one is
    /// signed (this answered 500 while the sealer had not caught up).
    @Test func sealRowsDeletedAloneAreResealedIdentically() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            let links = "SELECT seq::text, encode(hash, 'hex') FROM audit_seal WHERE seq >= $1 ORDER BY audit_seal.seq"
            let before = try app.ownerRows(links, [checkpoint.length - 2])
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("DELETE FROM audit_seal WHERE seq >= $1", [checkpoint.length - 2])
            }
            let early = try await client.send(.get, "/v1/audit/checkpoint", token: trail.auditorToken)
            #expect(early.status == .ok || early.status == .conflict || early.status == .serviceUnavailable, "\(early.status) \(early.text)")
            try await AuditTamperTests.sealEverything(app)
            let after = try app.ownerRows(links, [checkpoint.length - 2]).prefix(before.count)
            #expect(!before.isEmpty && after.map { $0[1] } == before.map { $0[1] }, "the same links again")
            let answer = try await client.send(.get, "/v1/audit/checkpoint", token: trail.auditorToken)
            #expect(answer.status == .ok, "\(answer.text)")
            let verify = try await client.send(.get, "/v1/audit/verify", token: trail.auditorToken).json()
            #expect(verify["ok"] as? Bool == true, "\(verify)")
        }
    }

    /// Haven refuses to sign a chain that no longer extends its last checkpoint.
    @Test func checkpointerRefusesACutChain() async throws {
        try await AuditCheckpointTests.run { app, client, trail, checkpoint in
            try AuditTamperTests.tamper(app) { owner in
                _ = try owner.execute("DELETE FROM audit_event WHERE id IN (SELECT event_id FROM audit_seal WHERE seq >= $1)", [checkpoint.length])
                _ = try owner.execute("DELETE FROM audit_seal WHERE seq >= $1", [checkpoint.length])
            }
            let answer = try await client.send(.get, "/v1/audit/checkpoint", token: trail.auditorToken)
            #expect(answer.status == .conflict, "\(answer.text)")
        }
    }
}
