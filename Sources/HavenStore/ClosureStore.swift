import Foundation
import HavenCore
import Postgres

/// The writes a closure's decisions make, beside the case itself.
public enum ClosureStore {
    /// Cancels one open referral of a closing case with the reason its recipient reads, with its
    /// transition and the service episode it carried. False when it was no longer open.
    public static func cancelReferral(_ id: UUID, reason: ClosureCancellation, actor: Actor, on connection: PGConnection) throws -> Bool {
        try !ReferralStore.cancelOpen(.listed([id]), reasonCode: reason.rawValue, actor: actor, on: connection).isEmpty
    }

    /// Ends an unfinished service episode of a closing case, completed or cancelled, ending today
    /// unless it already has an end date. False when it was already finished.
    public static func endService(_ id: UUID, caseID: UUID, as status: ServiceStatus, on connection: PGConnection) throws -> Bool {
        try connection.query("""
            UPDATE service_episode SET status = $3, end_on = coalesce(end_on, current_date), updated_at = now(), version = version + 1
            WHERE id = $1 AND case_id = $2 AND status IN ('planned', 'in_progress') RETURNING id
            """, [id, caseID, status.rawValue]).first != nil
    }
}
