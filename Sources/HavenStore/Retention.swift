import Foundation
import HavenCore
import Logging
import Postgres

/// Anonymisation (S17): identifying fields and every free-text note of a case are erased;
/// what statistics need (type, status, profile without birth year, dates) stays. The violence
/// profile's incident and report dates are coarsened to their month, as the birth date is to
/// nothing but an age band: an exact day can single out an incident. Nothing else is deleted.
public enum Retention {
    /// Erases a case's identifying data now. Returns false when it was already anonymised.
    @discardableResult
    public static func anonymise(_ caseID: UUID, on connection: PGConnection) throws -> Bool {
        let updated = try connection.execute("""
            UPDATE case_file SET identity_sealed = NULL, note_sealed = NULL, blind_index = NULL, birth_year = NULL,
                labour_sector = NULL, labour_sector_sealed = NULL, violence_location = NULL, violence_location_sealed = NULL,
                incident_date = date_trunc('month', incident_date)::date, reported_on = date_trunc('month', reported_on)::date,
                anonymised_at = now(), updated_at = now(), version = version + 1
            WHERE id = $1 AND anonymised_at IS NULL
            """, [caseID])
        guard updated == 1 else { return false }
        try connection.execute("UPDATE need SET note_sealed = NULL, reason_sealed = NULL WHERE case_id = $1", [caseID])
        // First answers kept for retries may hold the identifying part as it was.
        try connection.execute("SELECT haven_forget_case_answers($1)", [caseID])
        try connection.execute("DELETE FROM session_note WHERE case_id = $1", [caseID])
        // Outcomes, consent purposes and counsellors' names are free text, like notes.
        try connection.execute("UPDATE referral SET note_sealed = NULL, outcome = NULL, outcome_sealed = NULL WHERE case_id = $1", [caseID])
        try connection.execute("""
            UPDATE referral_transition SET note_sealed = NULL, outcome = NULL, outcome_sealed = NULL
            WHERE (note_sealed IS NOT NULL OR outcome IS NOT NULL OR outcome_sealed IS NOT NULL)
              AND referral_id IN (SELECT id FROM referral WHERE case_id = $1)
            """, [caseID])
        try connection.execute("""
            UPDATE service_episode SET outcome = NULL, outcome_sealed = NULL, counsellors_sealed = NULL,
                detail = CASE WHEN jsonb_typeof(detail -> 'counselling') = 'array' THEN jsonb_set(detail, '{counselling}',
                    (SELECT coalesce(jsonb_agg(session || '{"counsellor": ""}'::jsonb ORDER BY position), '[]'::jsonb)
                     FROM jsonb_array_elements(detail -> 'counselling') WITH ORDINALITY AS sessions (session, position)))
                    ELSE detail END
            WHERE case_id = $1
            """, [caseID])
        try connection.execute("""
            UPDATE consent SET purposes_sealed = NULL,
                provisions = (SELECT coalesce(jsonb_agg(provision || '{"purpose": ""}'::jsonb ORDER BY position), '[]'::jsonb)
                              FROM jsonb_array_elements(provisions) WITH ORDINALITY AS listed (provision, position))
            WHERE case_id = $1
            """, [caseID])
        try connection.execute("UPDATE break_glass_grant SET reason_sealed = NULL, review_note_sealed = NULL WHERE case_id = $1", [caseID])
        return true
    }

    /// Anonymises closed cases whose retention date has passed, a batch at a time, each with
    /// its audit event. Returns how many.
    public static func runDue(store: Store, today: CalendarDate, batch: Int = 500) async throws -> Int {
        var total = 0
        while true {
            let done = try await store.transaction(.system) { transaction in
                let due = try transaction.connection.query("""
                    SELECT id, organisation_id FROM case_file
                    WHERE status = 'closed' AND anonymised_at IS NULL AND retention_due <= $1::date
                    ORDER BY retention_due LIMIT $2 FOR UPDATE SKIP LOCKED
                    """, [today.description, batch])
                for row in due.rows {
                    let id: UUID = try row.decode(at: 0)
                    let organisation: UUID = try row.decode(at: 1)
                    if try anonymise(id, on: transaction.connection) {
                        try transaction.audit(.update, .caseAnonymise, entityKind: .caseFile, entityID: id.lowercasedString, caseID: id,
                                              subjectOrganisation: organisation, purpose: .retention, detail: ["reason": "retention-due"])
                    }
                }
                return due.rowCount
            }
            total += done
            if done < batch { return total }
        }
    }

    /// Runs `runDue` every `interval` (a background task of `haven serve`).
    public static func run(store: Store, every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                let count = try await runDue(store: store, today: CalendarDate.of(Date()))
                if count > 0 { logger.info("anonymised cases past their retention date", metadata: ["count": "\(count)"]) }
                try await store.transaction(.system) { transaction in
                    // First answers to creating requests are only needed for retries.
                    try transaction.connection.execute("DELETE FROM idempotency_key WHERE created_at < now() - interval '1 day'")
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("retention run failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
