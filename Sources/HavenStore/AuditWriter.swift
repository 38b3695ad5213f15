import Foundation
import HavenCore
import Postgres
import Sealing

/// Inserts audit events, each with an HMAC over its canonical bytes under a key the database
/// does not hold: an event written or changed outside Haven fails verification.
enum AuditWriter {
    static func insert(_ event: AuditEvent, key: (id: String, key: [UInt8]), on connection: PGConnection) throws {
        let mac = HMAC.sha256(event.canonicalBytes, key: key.key)
        try connection.execute("""
            INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
                actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
            VALUES (timestamptz 'epoch' + $1::bigint * interval '1 microsecond', $2, $3, $4, $5, $6, $7, $8,
                $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
            """,
            [
                event.recordedMicroseconds, event.action.rawValue, event.type, event.subtype, event.outcome.rawValue,
                event.actorUser, event.actorOrganisation, event.actorRole?.rawValue, event.actorAddress,
                event.entityKind, event.entityID, event.caseID, event.subjectOrganisation, event.purpose.rawValue,
                event.detailJSON, event.requestID, key.id, mac,
            ])
    }
}
