import Foundation
import HavenCore
import Logging
import Postgres

/// The periodic side of the notification outbox: deadlines pass without anyone acting, so a
/// sweep (every minute in `haven serve`) writes a message for each consent that now ends within
/// `NotificationKind.consentNotice`, each open need past its priority's deadline and each
/// unfinished service past its due date, of open cases. Each is announced once (a `once_key`
/// per consent, need, and service and due date: a service given a later date is announced
/// again when that passes), to the case's caseworker (its assignee, else its creator).
/// Deadlines that passed more than `lookBack` ago are left to the worklist: a sweep that starts
/// on an old database announces what is new, not years of history.
public struct NotificationSweep: Sendable {
    let store: Store
    public static let lookBack: TimeInterval = 30 * 86_400

    public init(store: Store) {
        self.store = store
    }

    /// Writes the messages now due, in one transaction as Haven. Returns how many it wrote.
    @discardableResult
    public func sweep(now: Date = Date()) async throws -> Int {
        let since = now.addingTimeInterval(-Self.lookBack)
        let today = CalendarDate.of(now).description, firstDay = CalendarDate.of(since).description
        return try await store.transaction(.system) { transaction in
            let connection = transaction.connection
            let consents = try connection.execute("""
                INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link, once_key)
                SELECT gen_random_uuid(), 'consent.expiring', c.organisation_id, coalesce(c.assigned_to, c.created_by), c.reference, 'normal',
                       '/cases/' || c.id::text, 'consent.expiring:' || k.id::text
                FROM consent k JOIN case_file c ON c.id = k.case_id
                WHERE k.withdrawn_at IS NULL AND k.superseded_at IS NULL AND k.expires_at > $1 AND k.expires_at <= $2 AND c.status = 'open'
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.once_key = 'consent.expiring:' || k.id::text)
                ON CONFLICT (once_key) DO NOTHING
                """, [now, now.addingTimeInterval(NotificationKind.consentNotice)])
            let needs = try connection.execute("""
                INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link, once_key)
                SELECT gen_random_uuid(), 'need.overdue', c.organisation_id, coalesce(c.assigned_to, c.created_by), c.reference, n.priority,
                       '/cases/' || c.id::text, 'need.overdue:' || n.id::text
                FROM need n JOIN case_file c ON c.id = n.case_id
                WHERE n.status = 'open' AND n.due_at < $1 AND n.due_at >= $2 AND c.status = 'open'
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.once_key = 'need.overdue:' || n.id::text)
                ON CONFLICT (once_key) DO NOTHING
                """, [now, since])
            let services = try connection.execute("""
                INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link, once_key)
                SELECT gen_random_uuid(), 'service.overdue', c.organisation_id, coalesce(c.assigned_to, c.created_by), c.reference, 'normal',
                       '/cases/' || c.id::text, 'service.overdue:' || s.id::text || ':' || s.due_on::text
                FROM service_episode s JOIN case_file c ON c.id = s.case_id
                WHERE s.status IN ('planned', 'in_progress') AND s.due_on < $1::date AND s.due_on >= $2::date AND c.status = 'open'
                  AND NOT EXISTS (SELECT 1 FROM notification_outbox o WHERE o.once_key = 'service.overdue:' || s.id::text || ':' || s.due_on::text)
                ON CONFLICT (once_key) DO NOTHING
                """, [today, firstDay])
            return consents + needs + services
        }
    }

    public func run(every interval: Duration, logger: Logger) async {
        while !Task.isCancelled {
            do {
                try await sweep()
            } catch is CancellationError {
                return
            } catch {
                logger.warning("notification sweep failed; will retry", metadata: ["error": "\(PGError.loggable(error))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
