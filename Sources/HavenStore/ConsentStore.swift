import Foundation
import HavenCore
import Postgres

public enum ConsentStore {
    static let columns = "id, case_id, grantor, method, granted_at, expires_at, withdrawn_at, statistics, provisions::text, version"

    static func decode(_ row: PGRow) throws -> Consent {
        let provisions = (try? FieldSealing.decoder.decode([Consent.Provision].self, from: Data((try row.decode(String.self, at: 8)).utf8))) ?? []
        return Consent(
            id: try row.decode(at: 0), caseID: try row.decode(at: 1),
            grantor: try row.code(ConsentGrantor.self, at: 2), method: try row.code(ConsentMethod.self, at: 3),
            grantedAt: try row.decode(at: 4), expiresAt: try row.decode(at: 5), withdrawnAt: try row.decode(at: 6),
            statistics: try row.decode(at: 7), provisions: provisions, version: try row.decode(at: 9))
    }

    public static func create(caseID: UUID, _ draft: ConsentDraft, actor: Actor, now: Date, on connection: PGConnection) throws -> Consent {
        let provisions = String(decoding: try FieldSealing.encoder.encode(draft.provisions), as: UTF8.self)
        let result = try connection.query("""
            INSERT INTO consent (id, case_id, grantor, method, granted_at, expires_at, statistics, provisions, created_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9) RETURNING
            """ + " " + columns, [
                UUID(), caseID, draft.grantor.rawValue, draft.method.rawValue, draft.grantedAt ?? now, draft.expiresAt,
                draft.statistics ?? false, PGJSON(text: provisions), actor.userID,
            ])
        if draft.statistics == true { try StatisticsConsent.refresh(caseID: caseID, on: connection) }
        return try decode(result[0])
    }

    public static func list(caseID: UUID, on connection: PGConnection) throws -> [Consent] {
        try connection.query("SELECT " + columns + " FROM consent WHERE case_id = $1 ORDER BY granted_at, id", [caseID]).rows.map(decode)
    }

    public static func find(_ id: UUID, caseID: UUID, forUpdate: Bool = false, on connection: PGConnection) throws -> Consent? {
        let sql = "SELECT " + columns + " FROM consent WHERE id = $1 AND case_id = $2" + (forUpdate ? " FOR UPDATE" : "")
        return try connection.query(sql, [id, caseID]).first.map(decode)
    }

    /// Withdraws the consent and, in the same transaction, cancels every open referral relying
    /// on it (S16). Returns the ids of the cancelled referrals.
    public static func withdraw(_ consent: Consent, actor: Actor, on connection: PGConnection) throws -> (Consent, [UUID]) {
        let result = try connection.query(
            "UPDATE consent SET withdrawn_at = now(), version = version + 1 WHERE id = $1 AND withdrawn_at IS NULL RETURNING " + columns,
            [consent.id])
        guard let row = result.first else { throw StoreError.conflict("the consent is already withdrawn", field: nil) }
        let cancelled = try ReferralStore.cancelOpen(.relyingOn(consent: consent.id), reason: .consentWithdrawn, actor: actor, on: connection)
        try StatisticsConsent.refresh(caseID: consent.caseID, on: connection)
        return (try decode(row), cancelled)
    }
}
