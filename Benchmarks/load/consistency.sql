-- Nothing half-written since :'since' (a timestamptz): every record a drill's load created has its
-- audit event and every such event its record; referrals have their first transition and a status
-- that is their last transition's; every later transition has its audit event; accepted referrals
-- have their service episode. Run as superuser (row-level security would hide rows):
--   psql -v since="2026-11-22 19:00:00+00" -f Benchmarks/load/consistency.sql "host=<data-dir> port=5432 user=postgres dbname=haven"
-- Prints "check|count|bad": bad must be 0 everywhere.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
\pset fieldsep '|'
BEGIN ISOLATION LEVEL REPEATABLE READ;  -- temp views only; rolled back at the end
CREATE TEMP VIEW created_events AS
    SELECT subtype, entity_id, count(*) AS n FROM audit_event
    WHERE recorded >= :'since'::timestamptz - interval '1 second' AND outcome = 'success'
      AND subtype IN ('case.create', 'need.create', 'consent.create', 'referral.create')
    GROUP BY 1, 2;
CREATE TEMP VIEW created_rows AS
    SELECT 'case.create' AS subtype, id::text AS entity_id FROM case_file WHERE created_at >= :'since'
    UNION ALL SELECT 'need.create', id::text FROM need WHERE created_at >= :'since'
    UNION ALL SELECT 'consent.create', id::text FROM consent WHERE created_at >= :'since'
    UNION ALL SELECT 'referral.create', id::text FROM referral WHERE created_at >= :'since';

-- A record without its create event, or with more than one.
SELECT 'record without exactly one create event', (SELECT count(*) FROM created_rows),
       (SELECT count(*) FROM created_rows r LEFT JOIN created_events e USING (subtype, entity_id) WHERE coalesce(e.n, 0) <> 1);
-- A create event whose record is not there (the event committed without its record).
SELECT 'create event without its record', (SELECT coalesce(sum(n), 0) FROM created_events),
       (SELECT count(*) FROM created_events e LEFT JOIN created_rows r USING (subtype, entity_id) WHERE r.entity_id IS NULL);
-- A referral without its first transition (NULL -> requested).
SELECT 'referral without its first transition', (SELECT count(*) FROM referral WHERE created_at >= :'since'),
       (SELECT count(*) FROM referral r WHERE r.created_at >= :'since' AND NOT EXISTS (
            SELECT 1 FROM referral_transition t WHERE t.referral_id = r.id AND t.from_status IS NULL AND t.to_status = 'requested'));
-- A referral whose status is not the one its last transition reached.
SELECT 'referral status differs from its last transition', (SELECT count(DISTINCT referral_id) FROM referral_transition WHERE at >= :'since'),
       (SELECT count(*) FROM referral r JOIN LATERAL (
            SELECT to_status FROM referral_transition t WHERE t.referral_id = r.id ORDER BY t.id DESC LIMIT 1) last ON true
        WHERE r.id IN (SELECT referral_id FROM referral_transition WHERE at >= :'since') AND last.to_status <> r.status);
-- A transition whose referral.transition audit event is missing, or an event without its transition
-- (per referral: transitions since :'since' other than the first = events since :'since').
SELECT 'referral transitions and their audit events differ', (SELECT count(*) FROM referral_transition WHERE at >= :'since' AND from_status IS NOT NULL),
       (SELECT count(*) FROM (
            SELECT referral_id::text AS id, count(*) AS n FROM referral_transition WHERE at >= :'since' AND from_status IS NOT NULL GROUP BY 1) t
        FULL JOIN (
            SELECT entity_id AS id, count(*) AS n FROM audit_event
            WHERE subtype = 'referral.transition' AND recorded >= :'since'::timestamptz - interval '1 second' GROUP BY 1) e USING (id)
        WHERE coalesce(t.n, 0) <> coalesce(e.n, 0));
-- A referral accepted since :'since' without its service episode.
SELECT 'accepted referral without its service episode', (SELECT count(*) FROM referral_transition WHERE at >= :'since' AND to_status = 'accepted'),
       (SELECT count(*) FROM referral_transition t JOIN referral r ON r.id = t.referral_id
        WHERE t.at >= :'since' AND t.to_status = 'accepted'
          AND NOT EXISTS (SELECT 1 FROM service_episode s WHERE s.id = r.episode_id));
-- Audit events since :'since' that the sealer has not chained (after `haven audit verify`, none).
SELECT 'audit events not yet sealed', (SELECT count(*) FROM audit_event WHERE recorded >= :'since'),
       (SELECT count(*) FROM audit_event e WHERE e.recorded >= :'since' AND NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id));
ROLLBACK;
