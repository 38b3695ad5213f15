import Foundation
import HavenCore
import Postgres

/// The writes a closure's decisions make, beside the case itself.
public enum ClosureStore {
    /// Cancels one open referral of a closing case with the reason its recipient reads, with its
    /// transition and the service episode it carried. False when it was no longer open.
    public static func cancelReferral(_ id: UUID, reason: ClosureCancellation, actor: Actor, on connection: PGConnection) throws -> Bool {
        try connection.query("""
            WITH open AS (
                SELECT id, status, episode_id FROM referral
                WHERE id = $1 AND status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
                FOR UPDATE
            ), cancelled AS (
                UPDATE referral r SET status = 'cancelled', status_reason = $2, updated_at = now(), version = r.version + 1
                FROM open WHERE r.id = open.id
                RETURNING r.id, open.status AS previous, open.episode_id
            ), moved AS (
                INSERT INTO referral_transition (referral_id, from_status, to_status, actor_user, actor_organisation, reason)
                SELECT id, previous, 'cancelled', $3, $4, $2 FROM cancelled
            ), episodes AS (
                UPDATE service_episode SET status = 'cancelled', end_on = coalesce(end_on, current_date), updated_at = now(), version = version + 1
                WHERE id IN (SELECT episode_id FROM cancelled) AND status IN ('planned', 'in_progress')
            )
            SELECT id FROM cancelled
            """, [id, reason.rawValue, actor.userID, actor.organisationID]).first != nil
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
