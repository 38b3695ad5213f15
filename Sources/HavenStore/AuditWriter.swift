import Foundation
import HavenCore
import Postgres
import Sealing

/// Inserts audit events, each with an HMAC under a key the database does not hold over its
/// canonical bytes and its position (transaction id, index in the transaction): an event written,
/// changed or copied outside Haven fails verification.
enum AuditWriter {
    /// The event is written with the transaction's COMMIT, in the same round trip: nothing in a
    /// transaction reads its own audit events back, and a failed write still stops the commit.
    static func insert(_ event: AuditEvent, key: (id: String, key: [UInt8]), position: AuditPosition, on connection: PGConnection) throws {
        let detail = event.detailJSON
        var signed = event.canonicalBytes(detailJSON: detail)
        position.append(to: &signed)
        let mac = HMAC.sha256(signed, key: key.key)
        connection.deferUntilCommit(PGStatement("""
            INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
            VALUES (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2, $3, $4, $5, $6, $7, $8,
                $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            """,
            [
                event.recordedMicroseconds, event.action.rawValue, event.type, event.subtype.rawValue, event.outcome.rawValue,
                event.actorUser, event.actorOrganisation, event.actorRole?.rawValue, event.actorAddress,
                event.entityKind?.rawValue, event.entityID, event.caseID, event.subjectOrganisation, event.purpose.rawValue,
                detail, event.requestID, key.id, mac,
            ]))
    }

    /// Many events in one statement (bulk loads), each with its own MAC. In the given order, so
    /// the ids follow the indexes the MACs cover.
    static func insertBatch(_ events: [AuditEvent], key: (id: String, key: [UInt8]), positions: [AuditPosition], on connection: PGConnection) throws {
        guard !events.isEmpty else { return }
        func column(_ value: (AuditEvent) -> String?) -> PGTextArray { PGTextArray(events.map(value)) }
        try connection.execute("""
            INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role, actor_ip, entity_kind,
                entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
            SELECT timestamptz 'epoch' + rec::bigint * interval '1 microsecond', act, typ, sub, outc, au::uuid, ao::uuid, ar, ip, ek, eid,
                   cid::uuid, so::uuid, pur, det, rid, $17, mac::bytea
            FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $18::text[])
                 WITH ORDINALITY AS t(rec, act, typ, sub, outc, au, ao, ar, ip, ek, eid, cid, so, pur, det, rid, mac, n)
            ORDER BY n
            """, [
                column { String($0.recordedMicroseconds) }, column(\.action.rawValue), column(\.type), column(\.subtype.rawValue), column(\.outcome.rawValue),
                column { $0.actorUser?.uuidString }, column { $0.actorOrganisation?.uuidString }, column { $0.actorRole?.rawValue },
                column(\.actorAddress), column(\.entityKind?.rawValue), column(\.entityID), column { $0.caseID?.uuidString },
                column { $0.subjectOrganisation?.uuidString }, column(\.purpose.rawValue), column(\.detailJSON), column(\.requestID),
                key.id, PGTextArray(zip(events, positions).map { event, position in
                    var signed = event.canonicalBytes
                    position.append(to: &signed)
                    return "\\x" + Hex.encode(HMAC.sha256(signed, key: key.key))
                }),
            ])
    }
}
