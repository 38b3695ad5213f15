import Foundation
import HavenCore
import Postgres
import Sealing

extension ConsentStore {
    /// The worklist's consents still running that end before `before`, on open cases in the
    /// actor's scope (a caseworker's own, a supervisor's organisation's), soonest first, with
    /// their case's reference: renewed in time, the referrals relying on them go on.
    public static func expiring(actor: Actor, now: Date, before: Date, limit: Int, keys: KeyRing, on connection: PGConnection) throws -> [(Consent, String)] {
        var sql = SQLFilter()
        // A superseded version is not renewed: its latest version is.
        sql.add("k.withdrawn_at IS NULL AND k.superseded_at IS NULL AND k.expires_at > ? AND k.expires_at <= ?", now, before)
        sql.add("c.status = 'open'")
        sql.restrict(to: AccessPolicy.scope(actor, .listCases), organisation: "c.organisation_id = ?", ownCases: "(c.assigned_to = ? OR c.created_by = ?)")
        let limitPlaceholder = sql.bind(limit)
        let text = "SELECT " + sealedColumns.split(separator: ",").map { "k." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }.joined(separator: ", ")
            + ", c.reference FROM consent k JOIN case_file c ON c.id = k.case_id" + sql.whereClause + " ORDER BY k.expires_at, k.id LIMIT " + limitPlaceholder
        return try connection.query(text, sql.parameters).rows.map { (try decode($0, keys: keys), try $0.decode(String.self, at: 11)) }
    }
}
