import Foundation
import HavenCore
import Postgres
import Sealing

extension ReferralStore {
    /// Referrals waiting for the organisation's answer (requested or received), soonest due
    /// first, through row-level security like every list.
    public static func awaitingAnswer(organisation: UUID, limit: Int, keys: KeyRing, on connection: PGConnection) throws -> [Referral] {
        try connection.query(
            "SELECT " + columns + " FROM referral WHERE to_organisation_id = $1 AND status IN ('requested', 'received')"
                + " ORDER BY due_at, id LIMIT $2", [organisation, limit]
        ).rows.map { try decode($0, keys: keys, openNote: false) }
    }
}
