import Foundation
import HavenCore
import Postgres
import Sealing

public enum NeedStore {
    static let columns = """
        id, case_id, domain, service_type, priority, due_at, status, note_sealed, created_by, created_at, reason_sealed, superseded_by,
        met_by_referral, closed_by, closed_at, version
        """

    static func noteLabel(_ id: UUID) -> String { "need:\(id.lowercasedString):note" }
    static func reasonLabel(_ id: UUID) -> String { "need:\(id.lowercasedString):reason" }

    static func decode(_ row: PGRow, keys: KeyRing, open: Bool) throws -> Need {
        let id: UUID = try row.decode(at: 0)
        return Need(
            id: id, caseID: try row.decode(at: 1), domain: try row.code(SecurityDomain.self, at: 2),
            serviceType: try row.code(ServiceType.self, at: 3), priority: try row.code(NeedPriority.self, at: 4),
            dueAt: try row.decode(at: 5), status: try row.decode(at: 6),
            note: open ? try FieldSealing.openText(try row.decode([UInt8]?.self, at: 7), noteLabel(id), keys: keys) : nil,
            createdBy: try row.decode(at: 8), createdAt: try row.decode(at: 9),
            reason: open ? try FieldSealing.openText(try row.decode([UInt8]?.self, at: 10), reasonLabel(id), keys: keys) : nil,
            supersededBy: try row.decode(at: 11), metByReferral: try row.decode(at: 12), closedBy: try row.decode(at: 13),
            closedAt: try row.decode(at: 14), version: try row.decode(at: 15))
    }

    public static func create(caseID: UUID, _ draft: NeedDraft, actor: Actor, keys: KeyRing, now: Date, on connection: PGConnection) throws -> Need {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO need (id, case_id, domain, service_type, priority, due_at, note_sealed, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING
            """ + " " + columns, [
                id, caseID, draft.domain.rawValue, draft.serviceType.rawValue, draft.priority.rawValue,
                draft.priority.deadline(from: now), try FieldSealing.sealText(draft.note, noteLabel(id), keys: keys), actor.userID,
            ])
        return try decode(result[0], keys: keys, open: true)
    }

    public static func list(caseID: UUID, keys: KeyRing, open: Bool = true, on connection: PGConnection) throws -> [Need] {
        try connection.query("SELECT " + columns + " FROM need WHERE case_id = $1 ORDER BY created_at, id", [caseID]).rows.map {
            try decode($0, keys: keys, open: open)
        }
    }

    public static func find(_ id: UUID, caseID: UUID, keys: KeyRing, forUpdate: Bool = false, on connection: PGConnection) throws -> Need? {
        try connection.query("SELECT " + columns + " FROM need WHERE id = $1 AND case_id = $2" + (forUpdate ? " FOR UPDATE" : ""), [id, caseID]).first.map {
            try decode($0, keys: keys, open: true)
        }
    }

    /// Ends an open need (the closure already checked); nil when it is no longer open at that version.
    public static func close(_ need: Need, _ closure: NeedClosure, actor: Actor, keys: KeyRing, on connection: PGConnection) throws -> Need? {
        try connection.query("""
            UPDATE need SET status = $3, reason_sealed = $4, superseded_by = $5, closed_by = $6, closed_at = now(), version = version + 1
            WHERE id = $1 AND version = $2 AND status = 'open' RETURNING
            """ + " " + columns, [
                need.id, need.version, closure.outcome.status.rawValue, try FieldSealing.sealText(closure.reason, reasonLabel(need.id), keys: keys),
                closure.supersededBy, actor.userID,
            ]).first.map { try decode($0, keys: keys, open: true) }
    }

    /// The referral serving a need completed: the need is met, if still open. Returns whether it was.
    public static func meet(_ id: UUID, byReferral referral: UUID, actor: Actor?, on connection: PGConnection) throws -> Bool {
        try connection.query("""
            UPDATE need SET status = 'met', met_by_referral = $2, closed_by = $3, closed_at = now(), version = version + 1
            WHERE id = $1 AND status = 'open' RETURNING id
            """, [id, referral, actor?.userID]).first != nil
    }

    /// The worklist's open needs past their deadline in the actor's cases (a caseworker's own,
    /// a supervisor's organisation's) on open cases, soonest due first, with their case's reference.
    public static func overdue(actor: Actor, now: Date, limit: Int, keys: KeyRing, on connection: PGConnection) throws -> [(Need, String)] {
        var sql = SQLFilter()
        sql.add("n.status = 'open' AND n.due_at < ?", now)
        sql.add("c.status = 'open'")
        sql.restrict(to: AccessPolicy.scope(actor, .listCases), organisation: "c.organisation_id = ?", ownCases: "(c.assigned_to = ? OR c.created_by = ?)")
        let limitPlaceholder = sql.bind(limit)
        let text = "SELECT " + columns.split(separator: ",").map { "n." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
            + ", c.reference FROM need n JOIN case_file c ON c.id = n.case_id" + sql.whereClause + " ORDER BY n.due_at, n.id LIMIT " + limitPlaceholder
        // Notes and reasons stay sealed: the worklist names the need, not what was written about it.
        return try connection.query(text, sql.parameters).rows.map { (try decode($0, keys: keys, open: false), try $0.decode(String.self, at: 16)) }
    }
}
