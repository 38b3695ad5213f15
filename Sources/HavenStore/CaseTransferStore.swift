import Foundation
import HavenCore
import Postgres

/// Case transfers (`Schema/0028_case_transfer.sql`). Rows are visible to both organisations;
/// the policy decides who of them sees which.
public enum CaseTransferStore {
    static let columns = """
        id, case_id, case_reference, from_organisation_id, to_organisation_id, consent_id, reason, status, decline_reason,
        requested_by, requested_at, decided_by, decided_at, version
        """

    static func decode(_ row: PGRow) throws -> CaseTransfer {
        let decline: String? = try row.decode(at: 8)
        return CaseTransfer(
            id: try row.decode(at: 0), caseID: try row.decode(at: 1), caseReference: try row.decode(at: 2),
            fromOrganisation: try row.decode(at: 3), toOrganisation: try row.decode(at: 4), consentID: try row.decode(at: 5),
            reason: try row.code(CaseTransferReason.self, at: 6), status: try row.code(CaseTransferStatus.self, at: 7),
            declineReason: try decline.map { text in
                guard let reason = CaseTransferDeclineReason(rawValue: text) else { throw StoreError.configuration("unexpected decline reason") }
                return reason
            },
            requestedBy: try row.decode(at: 9), requestedAt: try row.decode(at: 10), decidedBy: try row.decode(at: 11),
            decidedAt: try row.decode(at: 12), version: try row.decode(at: 13))
    }

    public static func create(_ draft: CaseTransferDraft, caseID: UUID, reference: String, actor: Actor,
                              on connection: PGConnection) throws -> CaseTransfer {
        let result = try connection.query("""
            INSERT INTO case_transfer (id, case_id, case_reference, from_organisation_id, to_organisation_id, consent_id, reason, requested_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING
            """ + " " + columns, [
                UUID(), caseID, reference, actor.organisationID, draft.organisation, draft.consent, draft.reason.rawValue, actor.userID,
            ])
        return try decode(result[0])
    }

    public static func find(_ id: UUID, forUpdate: Bool = false, on connection: PGConnection) throws -> CaseTransfer? {
        try connection.query("SELECT " + columns + " FROM case_transfer WHERE id = $1" + (forUpdate ? " FOR UPDATE" : ""), [id])
            .first.map(decode)
    }

    /// The transfer waiting for an answer on a case, if any (at most one: a unique index).
    public static func pending(caseID: UUID, on connection: PGConnection) throws -> CaseTransfer? {
        try connection.query("SELECT " + columns + " FROM case_transfer WHERE case_id = $1 AND status = 'requested'", [caseID])
            .first.map(decode)
    }

    /// Transfers waiting for the actor's organisation's answer, oldest first (the worklist).
    public static func awaitingDecision(actor: Actor, limit: Int, on connection: PGConnection) throws -> [CaseTransfer] {
        var sql = SQLFilter()
        sql.restrict(to: AccessPolicy.transferScope(actor, incoming: true), organisation: "to_organisation_id = ?", ownCases: "false")
        sql.add("status = 'requested'")
        let limitPlaceholder = sql.bind(limit)
        return try connection.query("SELECT " + columns + " FROM case_transfer" + sql.whereClause
                                    + " ORDER BY requested_at, id LIMIT " + limitPlaceholder, sql.parameters).rows.map(decode)
    }

    /// Incoming (to the actor's organisation) or outgoing transfers as far as the policy's scope
    /// reaches, newest request first.
    public static func list(incoming: Bool, status: CaseTransferStatus?, actor: Actor, after cursor: String?, limit: Int,
                            on connection: PGConnection) throws -> Page<CaseTransfer> {
        var sql = SQLFilter()
        let scope = AccessPolicy.transferScope(actor, incoming: incoming)
        if incoming {
            sql.restrict(to: scope, organisation: "to_organisation_id = ?", ownCases: "false")
        } else {
            sql.restrict(to: scope, organisation: "from_organisation_id = ?",
                         ownCases: """
                (requested_by = ? OR EXISTS (SELECT 1 FROM case_file c WHERE c.id = case_id
                                             AND c.organisation_id = from_organisation_id AND ? IN (c.assigned_to, c.created_by)))
                """)
        }
        if let status { sql.add("status = ?", status.rawValue) }
        if let cursor {
            let (micros, id) = try Cursor.timeAndID(cursor)
            sql.add("(requested_at, id) < (timestamptz 'epoch' + ?::bigint * interval '1 microsecond', ?::uuid)", micros, id)
        }
        let limitPlaceholder = sql.bind(limit + 1)
        var items = try connection.query("SELECT " + columns + " FROM case_transfer" + sql.whereClause
                                          + " ORDER BY requested_at DESC, id DESC LIMIT " + limitPlaceholder, sql.parameters).rows.map(decode)
        var next: String?
        if items.count > limit {
            items.removeLast()
            if let last = items.last { next = Cursor.encode([String(AuditEvent.microseconds(last.requestedAt)), last.id.uuidString]) }
        }
        return Page(items: items, nextCursor: next)
    }

    /// Moves the case to the receiving organisation and marks the transfer accepted, as the
    /// database's owner (`haven_accept_case_transfer`). False when nothing moved.
    public static func accept(_ id: UUID, on connection: PGConnection) throws -> Bool {
        try connection.query("SELECT haven_accept_case_transfer($1)", [id]).first?.decode(UUID?.self, at: 0) != nil
    }

    /// Ends a requested transfer declined or cancelled. Nil when it was no longer requested.
    public static func end(_ id: UUID, as status: CaseTransferStatus, declineReason: CaseTransferDeclineReason?, actor: Actor,
                           on connection: PGConnection) throws -> CaseTransfer? {
        try connection.query("""
            UPDATE case_transfer SET status = $2, decline_reason = $3, decided_by = $4, decided_at = now(), version = version + 1
            WHERE id = $1 AND status = 'requested' RETURNING
            """ + " " + columns, [id, status.rawValue, declineReason?.rawValue, actor.userID]).first.map(decode)
    }
}

extension StoreTransaction {
    /// Finds a transfer and asks the policy with the case's facts as they stand now; one out of
    /// the actor's sight answers 404 like a missing one, audited as a denial. Locked for a change.
    public func authorizeTransfer(_ id: UUID, _ operation: AccessOperation) throws -> (transfer: CaseTransfer, purpose: Purpose) {
        guard let actor, let transfer = try CaseTransferStore.find(id, forUpdate: operation != .readCaseTransfer, on: connection),
              let found = try CaseStore.facts(transfer.caseID, actor: actor, on: connection)
        else { throw missing(.caseTransfer, id, operation) }
        let purpose = try authorize(operation, .transfer(transfer.facts(case: found.facts)), entityKind: .caseTransfer,
                                    entityID: id.lowercasedString, caseID: transfer.caseID, subjectOrganisation: transfer.fromOrganisation)
        return (transfer, purpose)
    }
}
