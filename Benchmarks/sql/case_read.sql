-- GET /v1/cases/{id}: the statements haven runs per request, with the same round trips
-- (pipelines). The token check is served from haven's one-second session cache.
\startpipeline
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'caseworker', true);
SELECT organisation_id, assigned_to, created_by, status, haven_has_break_glass(id) FROM haven_case_facts(:case_id);
SELECT id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level, status,
    assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
    retention_due, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
    exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
    violence_types, perpetrator_relation, violence_location, created_at, updated_at, version, identity_sealed, note_sealed
FROM case_file WHERE id = :case_id;
\endpipeline
\startpipeline
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'R', 'case', 'case.read', 'success', :user_id, :org_id, 'caseworker',
    '127.0.0.1', 'case', :case_id, :case_id, :org_id, 'case-management', '{}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
\endpipeline
