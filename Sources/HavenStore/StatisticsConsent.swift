import Foundation
import Postgres

/// Keeps `case_file.statistics_consent` true while some consent of the case allows
/// non-identifying statistics and has neither been withdrawn, superseded by a later version
/// (which says for itself) nor expired (S18: reports count only consenting cases).
enum StatisticsConsent {
    static func refresh(caseID: UUID, on connection: PGConnection) throws {
        try connection.execute("""
            UPDATE case_file SET statistics_consent = EXISTS (
                SELECT 1 FROM consent
                WHERE case_id = $1 AND statistics AND withdrawn_at IS NULL AND superseded_at IS NULL
                  AND (expires_at IS NULL OR expires_at > now()))
            WHERE id = $1
            """, [caseID])
    }

    /// Cases whose last statistics consent has expired since: out of the reports from now on.
    /// Returns how many.
    static func endExpired(on connection: PGConnection) throws -> Int {
        // Only cases with an expired statistics consent are looked at (a partial index holds
        // those consents), not every case.
        try connection.execute("""
            UPDATE case_file c SET statistics_consent = false
            WHERE c.id IN (SELECT case_id FROM consent
                           WHERE statistics AND withdrawn_at IS NULL AND expires_at IS NOT NULL AND expires_at <= now())
              AND c.statistics_consent
              AND NOT EXISTS (SELECT 1 FROM consent
                              WHERE case_id = c.id AND statistics AND withdrawn_at IS NULL AND superseded_at IS NULL
                                AND (expires_at IS NULL OR expires_at > now()))
            """)
    }
}
