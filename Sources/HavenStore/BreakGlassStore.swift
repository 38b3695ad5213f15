import Foundation
import HavenCore
import Postgres
import Sealing

public enum BreakGlassStore {
    static let columns = """
        id, case_id, case_organisation_id, user_id, user_organisation_id, reason_sealed, granted_at, expires_at,
        reviewed_by, reviewed_at, review_note_sealed
        """

    static func reasonLabel(_ id: UUID) -> String { "grant:\(id.lowercasedString):reason" }
    static func reviewLabel(_ id: UUID) -> String { "grant:\(id.lowercasedString):review" }

    static func decode(_ row: PGRow, keys: KeyRing) throws -> BreakGlassGrant {
        let id: UUID = try row.decode(at: 0)
        return BreakGlassGrant(
            id: id, caseID: try row.decode(at: 1), caseOrganisation: try row.decode(at: 2), holder: try row.decode(at: 3),
            holderOrganisation: try row.decode(at: 4),
            reason: try FieldSealing.openText(try row.decode([UInt8]?.self, at: 5), reasonLabel(id), keys: keys),
            grantedAt: try row.decode(at: 6), expiresAt: try row.decode(at: 7), reviewedBy: try row.decode(at: 8),
            reviewedAt: try row.decode(at: 9),
            reviewNote: try FieldSealing.openText(try row.decode([UInt8]?.self, at: 10), reviewLabel(id), keys: keys))
    }

    public static func create(caseID: UUID, caseOrganisation: UUID, reason: String, actor: Actor, duration: Duration, keys: KeyRing, on connection: PGConnection) throws -> BreakGlassGrant {
        let id = UUID()
        let result = try connection.query("""
            INSERT INTO break_glass_grant (id, case_id, case_organisation_id, user_id, user_organisation_id, reason_sealed, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, now() + $7::bigint * interval '1 second') RETURNING
            """ + " " + columns, [
                id, caseID, caseOrganisation, actor.userID, actor.organisationID,
                try FieldSealing.sealText(reason, reasonLabel(id), keys: keys), Int(duration.components.seconds),
            ])
        return try decode(result[0], keys: keys)
    }

    /// What the policy needs to decide on a grant, seen past row-level security.
    static func facts(_ id: UUID, on connection: PGConnection) throws -> (facts: GrantFacts, caseID: UUID)? {
        guard let row = try connection.query("SELECT case_id, user_id, user_organisation_id, case_organisation_id FROM haven_grant_facts($1)", [id]).first
        else { return nil }
        return (GrantFacts(holder: try row.decode(at: 1), holderOrganisation: try row.decode(at: 2), caseOrganisation: try row.decode(at: 3)),
                try row.decode(at: 0))
    }

    /// The case a supervisor was given the reference of, past row-level security (nil for
    /// anyone else, and for a reference no case has).
    public static func caseID(reference: String, on connection: PGConnection) throws -> UUID? {
        try connection.query("SELECT haven_case_by_reference($1)", [reference]).first?.decode(UUID?.self, at: 0)
    }

    /// When the actor's running grant on the case ends (nil when none runs).
    public static func runningUntil(caseID: UUID, holder: UUID, on connection: PGConnection) throws -> Date? {
        try connection.query("SELECT max(expires_at) FROM break_glass_grant WHERE case_id = $1 AND user_id = $2 AND expires_at > now()",
                             [caseID, holder]).first?.decode(Date?.self, at: 0)
    }

    public static func find(_ id: UUID, keys: KeyRing, on connection: PGConnection) throws -> BreakGlassGrant? {
        try connection.query("SELECT " + columns + " FROM break_glass_grant WHERE id = $1", [id]).first.map { try decode($0, keys: keys) }
    }

    /// The review queue: grants on the actor's organisation's cases or held by its users.
    public static func list(actor: Actor, reviewed: Bool?, after cursor: String?, limit: Int, keys: KeyRing, on connection: PGConnection) throws -> Page<BreakGlassGrant> {
        var sql = SQLFilter()
        sql.add("(case_organisation_id = ? OR user_organisation_id = ?)", actor.organisationID, actor.organisationID)
        if reviewed == true { sql.add("reviewed_at IS NOT NULL") }
        if reviewed == false { sql.add("reviewed_at IS NULL") }
        if let cursor {
            let (micros, id) = try Cursor.timeAndID(cursor)
            sql.add("(granted_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)", micros, id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        var items = try connection.query("SELECT " + columns + " FROM break_glass_grant" + sql.whereClause
                                          + " ORDER BY granted_at DESC, id DESC LIMIT " + limitPlaceholder, sql.parameters).rows.map { try decode($0, keys: keys) }
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last { next = Cursor.encode([String(AuditEvent.microseconds(last.grantedAt)), last.id.uuidString]) }
        }
        return Page(items: items, nextCursor: next)
    }

    public static func review(_ grant: BreakGlassGrant, note: String?, actor: Actor, keys: KeyRing, on connection: PGConnection) throws -> BreakGlassGrant {
        let result = try connection.query("""
            UPDATE break_glass_grant SET reviewed_by = $2, reviewed_at = now(), review_note_sealed = $3
            WHERE id = $1 AND reviewed_at IS NULL RETURNING
            """ + " " + columns, [grant.id, actor.userID, try FieldSealing.sealText(note, reviewLabel(grant.id), keys: keys)])
        guard let row = result.first else { throw StoreError.conflict("the grant is already reviewed", field: nil) }
        return try decode(row, keys: keys)
    }
}
