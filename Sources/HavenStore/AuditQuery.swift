import Foundation
import HavenCore
import Postgres

/// An audit event as supervisors and auditors read it.
public struct AuditRecord: Sendable {
    public var id: Int64
    public var recorded: Date
    public var action: String
    public var type: String
    public var subtype: String
    public var outcome: String
    public var actorUser: UUID?
    public var actorOrganisation: UUID?
    public var actorRole: String?
    public var actorAddress: String?
    public var entityKind: String?
    public var entityID: String?
    public var caseID: UUID?
    public var subjectOrganisation: UUID?
    public var purpose: String
    public var detailJSON: String
    public var requestID: String?
}

public struct AuditFilter: Sendable {
    public var caseID: UUID?
    public var actor: UUID?
    public var organisation: UUID?
    public var subtype: String?
    public var outcome: AuditEvent.Outcome?
    public var from: Date?
    public var to: Date?

    /// The names of the filters given, for the audit event of the read.
    public var usedFields: [String] {
        var fields: [String] = []
        if caseID != nil { fields.append("case_id") }
        if actor != nil { fields.append("actor") }
        if organisation != nil { fields.append("organisation") }
        if subtype != nil { fields.append("subtype") }
        if outcome != nil { fields.append("outcome") }
        if from != nil { fields.append("from") }
        if to != nil { fields.append("to") }
        return fields
    }

    public init(caseID: UUID? = nil, actor: UUID? = nil, organisation: UUID? = nil, subtype: String? = nil,
                outcome: AuditEvent.Outcome? = nil, from: Date? = nil, to: Date? = nil) {
        self.caseID = caseID
        self.actor = actor
        self.organisation = organisation
        self.subtype = subtype
        self.outcome = outcome
        self.from = from
        self.to = to
    }
}

public enum AuditQuery {
    static let select = """
        SELECT id, recorded, action, subtype, outcome, actor_user, actor_org, actor_role, actor_ip,
               entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id
        FROM audit_event
        """

    static func decode(_ row: PGRow) throws -> AuditRecord {
        // The type is the subtype's first word, which the MAC covers; the stored column is not signed.
        let subtype: String = try row.decode(at: 3)
        return AuditRecord(
            id: try row.decode(at: 0), recorded: try row.decode(at: 1), action: try row.decode(at: 2),
            type: AuditEvent.type(of: subtype), subtype: subtype, outcome: try row.decode(at: 4),
            actorUser: try row.decode(at: 5), actorOrganisation: try row.decode(at: 6), actorRole: try row.decode(at: 7),
            actorAddress: try row.decode(at: 8), entityKind: try row.decode(at: 9), entityID: try row.decode(at: 10),
            caseID: try row.decode(at: 11), subjectOrganisation: try row.decode(at: 12), purpose: try row.decode(at: 13),
            detailJSON: try row.decode(at: 14), requestID: try row.decode(at: 15))
    }

    /// The changes made to a case (no reads, no denials), oldest first.
    public static func caseHistory(_ caseID: UUID, after cursor: String?, limit: Int, on connection: PGConnection) throws -> Page<AuditRecord> {
        var sql = SQLFilter()
        sql.add("case_id = ? AND action <> 'R' AND outcome = 'success'", caseID)
        if let cursor {
            guard let id = Int64(try Cursor.decode(cursor, count: 1)[0]) else {
                throw Cursor.invalid
            }
            sql.add("id > ?", id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        var items = try connection.query(select + sql.whereClause + " ORDER BY id LIMIT " + limitPlaceholder, sql.parameters).rows.map(decode)
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last.map { Cursor.encode([String($0.id)]) }
        }
        return Page(items: items, nextCursor: next)
    }

    /// Newest first. `scopeOrganisation` limits a supervisor to events by or about their
    /// organisation (row-level security enforces the same).
    /// A supervisor (`scopeOrganisation`) sees what their staff did and what was done to their
    /// organisation's records; of their staff's attempts on another organisation's records they
    /// see no case or owner (that would tell which ids exist there), and filters by case or
    /// organisation match only their own records.
    public static func list(_ filter: AuditFilter, scopeOrganisation: UUID?, after cursor: String?, limit: Int, on connection: PGConnection) throws -> Page<AuditRecord> {
        var sql = SQLFilter()
        if let scopeOrganisation { sql.add("(actor_org = ? OR subject_org = ?)", scopeOrganisation, scopeOrganisation) }
        if let caseID = filter.caseID {
            sql.add("case_id = ?", caseID)
            if let scopeOrganisation { sql.add("subject_org = ?", scopeOrganisation) }
        }
        if let actor = filter.actor { sql.add("actor_user = ?", actor) }
        if let organisation = filter.organisation {
            if let scopeOrganisation {
                sql.add("(actor_org = ? OR (subject_org = ? AND subject_org = ?))", organisation, organisation, scopeOrganisation)
            } else {
                sql.add("(actor_org = ? OR subject_org = ?)", organisation, organisation)
            }
        }
        if let subtype = filter.subtype { sql.add("subtype = ?", subtype) }
        if let outcome = filter.outcome { sql.add("outcome = ?", outcome.rawValue) }
        if let from = filter.from { sql.add("recorded >= ?", from) }
        if let to = filter.to { sql.add("recorded < ?", to) }
        if let cursor {
            guard let id = Int64(try Cursor.decode(cursor, count: 1)[0]) else {
                throw Cursor.invalid
            }
            sql.add("id < ?", id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        let result = try connection.query(select + sql.whereClause + " ORDER BY id DESC LIMIT " + limitPlaceholder, sql.parameters)
        var items: [AuditRecord] = try result.rows.map(decode).map { record in
            // A denial with no owner was for an id that does not exist: shown like a denial on
            // another organisation's record, so the two cannot be told apart.
            let unowned = record.subtype == "access.denied" && record.subjectOrganisation == nil
            guard let scopeOrganisation, unowned || (record.subjectOrganisation.map { $0 != scopeOrganisation } ?? false) else { return record }
            var redacted = record
            redacted.caseID = nil
            redacted.subjectOrganisation = nil
            redacted.entityID = nil
            return redacted
        }
        var next: String?
        if items.count > limit {
            items.removeLast()
            next = items.last.map { Cursor.encode([String($0.id)]) }
        }
        return Page(items: items, nextCursor: next)
    }
}
