-- POST /v1/cases (intake): the reference, then the assignee check, the case with its sealed
-- identity, the blind index and duplicate lookup, the audit event; same statements and round trips.
WITH next AS (
    INSERT INTO case_reference_counter (organisation_id, year, last_number) VALUES (:org_id, 2026, 1)
    ON CONFLICT (organisation_id, year) DO UPDATE SET last_number = case_reference_counter.last_number + 1
    RETURNING last_number
)
SELECT o.country, next.last_number FROM next, organisation o WHERE o.id = :org_id;
\startpipeline
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'caseworker', true);
SELECT id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version FROM app_user WHERE id = :user_id;
\endpipeline
\set n random(1, 2000000000)
INSERT INTO case_file (id, organisation_id, reference, case_type, identification_status, identified_by, identified_on,
    risk_level, assigned_to, created_by, sex, birth_year, age_band, citizenship, languages, minor, disability,
    identity_sealed, exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation,
    months_exploited, violence_types, perpetrator_relation, violence_location, note_sealed)
VALUES (gen_random_uuid(), :org_id, 'BENCH-' || :n || '-' || clock_timestamp()::text, 'trafficking', 'presumed', 'hotline', '2026-11-01',
    'high', :user_id, :user_id, 'female', 1999, '27-29', 'MD', '{ro}', false, NULL,
    sha512(:n::text::bytea) || sha256(:n::text::bytea), '{forced_labour}', NULL, '{}', NULL, NULL, 7, '{}', NULL, NULL, NULL)
RETURNING id AS new_case \gset
UPDATE case_file SET blind_index = sha256(:n::text::bytea) WHERE id = :new_case;
SELECT same_organisation, reference FROM haven_possible_duplicates(ARRAY[sha256(:n::text::bytea), sha256((:n + 1)::text::bytea)], NULL);
\startpipeline
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'C', 'case', 'case.create', 'success', :user_id, :org_id, 'caseworker',
    '127.0.0.1', 'case', NULL, NULL, :org_id, 'case-management', '{"fields":["case_type"]}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
\endpipeline
