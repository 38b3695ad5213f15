-- The statements of GET /v1/cases?status=open&limit=50 for a caseworker.
WITH found AS (
    SELECT u.id, u.organisation_id, u.role, u.username, u.password_must_change
    FROM session s JOIN app_user u ON u.id = s.user_id
    WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - 1800::bigint * interval '1 second' AND u.active
), touched AS (
    UPDATE session SET last_seen_at = now()
    WHERE token_hash = :token_hash AND last_seen_at < now() - interval '30 seconds' AND EXISTS (SELECT 1 FROM found)
)
SELECT id, organisation_id, role, username, password_must_change FROM found;
SELECT id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version FROM app_user WHERE id = :user_id;
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'caseworker', true);
SELECT id, organisation_id, reference, case_type, identification_status, identified_by, identified_on::text, risk_level, status,
    assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
    retention_due::text, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
    exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
    violence_types, perpetrator_relation, violence_location, created_at, updated_at, version, identity_sealed, note_sealed
FROM case_file WHERE organisation_id = :org_id AND (assigned_to = :user_id OR created_by = :user_id) AND status = 'open'
ORDER BY updated_at DESC, id DESC LIMIT 51;
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'R', 'case', 'case.list', 'success', :user_id, :org_id, 'caseworker',
    '127.0.0.1', 'case', NULL, NULL, :org_id, 'case-management', '{"count":50}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
