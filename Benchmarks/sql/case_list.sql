-- GET /v1/cases?status=open&limit=50 for a caseworker: the statements haven runs per request,
-- with the same round trips (pipelines): one, since the list's audit event is known before it runs.
-- The token check is served from the session cache. (\x3a is a colon pgbench would read as a variable.)
\startpipeline
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'caseworker', true);
SELECT id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level, status,
    assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
    retention_due, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
    exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
    violence_types, perpetrator_relation, violence_location, created_at, updated_at, version
FROM case_file WHERE organisation_id = :org_id AND (assigned_to = :user_id OR created_by = :user_id) AND status = 'open'
ORDER BY updated_at DESC, id DESC LIMIT 51;
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'R', 'case', 'case.list', 'success', :user_id, :org_id, 'caseworker',
    '127.0.0.1', 'case', NULL, NULL, :org_id, 'case-management', E'{"filters"\x3a["status"],"limit"\x3a50,"next_page"\x3afalse,"sort"\x3a"-updated_at"}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
\endpipeline
