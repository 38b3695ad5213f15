import Foundation
import HavenCore
import Postgres
import Sealing

public enum NeedStore {
    static let columns = "id, case_id, domain, service_type, priority, due_at, status, note_sealed, created_by, created_at"

    static func noteLabel(_ id: UUID) -> String { "need:\(id.lowercasedString):note" }

    static func decode(_ row: PGRow, keys: KeyRing, open: Bool) throws -> Need {
        let id: UUID = try row.decode(at: 0)
        return Need(
            id: id, caseID: try row.decode(at: 1), domain: try row.code(SecurityDomain.self, at: 2),
            serviceType: try row.code(ServiceType.self, at: 3), priority: try row.code(NeedPriority.self, at: 4),
            dueAt: try row.decode(at: 5), status: try row.decode(at: 6),
            note: open ? try FieldSealing.openText(try row.decode([UInt8]?.self, at: 7), noteLabel(id), keys: keys) : nil,
            createdBy: try row.decode(at: 8), createdAt: try row.decode(at: 9))
    }

    public static func create(caseID: UUID, _ draft: NeedDraft, actor: Actor, keys: KeyRing, now: Date, on connection: PGConnection) throws -> Need {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO need (id, case_id, domain, service_type, priority, due_at, note_sealed, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING
            """ + " " + columns, [
                id, caseID, draft.domain.rawValue, draft.serviceType.rawValue, draft.priority.rawValue,
                now.addingTimeInterval(draft.priority.responseTime), try FieldSealing.sealText(draft.note, noteLabel(id), keys: keys), actor.userID,
            ])
        return try decode(result[0], keys: keys, open: true)
    }

    public static func list(caseID: UUID, keys: KeyRing, open: Bool = true, on connection: PGConnection) throws -> [Need] {
        try connection.query("SELECT " + columns + " FROM need WHERE case_id = $1 ORDER BY created_at, id", [caseID]).rows.map {
            try decode($0, keys: keys, open: open)
        }
    }

    public static func find(_ id: UUID, caseID: UUID, keys: KeyRing, on connection: PGConnection) throws -> Need? {
        try connection.query("SELECT " + columns + " FROM need WHERE id = $1 AND case_id = $2", [id, caseID]).first.map {
            try decode($0, keys: keys, open: true)
        }
    }
}
