-- GET /v1/referrals/{id} for the recipient: the policy's facts, the referral, the consented part
-- of the case (profile and needs), the audit event; same statements and round trips as haven.
\startpipeline
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'partner', true);
SELECT from_organisation_id, to_organisation_id, case_id, case_organisation_id, assigned_to, created_by, status, consent_state, haven_has_break_glass(case_id) FROM haven_referral_facts(:referral_id);
\endpipeline
SELECT id, case_id, case_organisation_id, case_reference, need_id, service_type, from_organisation_id, from_user_id, to_organisation_id,
    consent_id, shared_categories, priority, due_at, status, business_status, status_reason, outcome, note_sealed,
    previous_referral_id, episode_id, created_at, updated_at, version
FROM referral WHERE id = :referral_id;
SELECT id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level, status,
    assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
    retention_due, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
    exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
    violence_types, perpetrator_relation, violence_location, created_at, updated_at, version, identity_sealed, note_sealed
FROM case_file WHERE id = :case_id;
SELECT id, case_id, domain, service_type, priority, due_at, status, note_sealed, created_by, created_at FROM need WHERE case_id = :case_id ORDER BY created_at, id;
\startpipeline
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'R', 'referral', 'referral.read', 'success', :user_id, :org_id, 'partner',
    '127.0.0.1', 'referral', :referral_id, :case_id, :case_org, 'referral', '{}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
\endpipeline
