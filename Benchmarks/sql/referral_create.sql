-- POST /v1/cases/{id}/referrals: the policy's facts, the case, the recipient, the consent, the
-- referral and its first transition, the message to the recipient's inbox (the notification
-- outbox), the audit event; same statements and round trips as haven.
\startpipeline
BEGIN;
SELECT set_config('haven.user_id', :user_id, true), set_config('haven.org_id', :org_id, true), set_config('haven.role', 'caseworker', true);
SELECT organisation_id, assigned_to, created_by, status, haven_has_break_glass(id) FROM haven_case_facts(:case_id);
\endpipeline
SELECT id, organisation_id, reference, case_type, identification_status, identified_by, identified_on, risk_level, status,
    assigned_to, created_by, closure_requested_at, closure_requested_by, closure_reason, closed_at, closed_by, reopened_count,
    retention_due, anonymised_at, sex, birth_year, age_band, citizenship, languages, minor, disability,
    exploitation_types, labour_sector, means_of_control, recruiter_relation, country_of_exploitation, months_exploited,
    violence_types, perpetrator_relation, violence_location, created_at, updated_at, version, identity_sealed, note_sealed
FROM case_file WHERE id = :case_id;
SELECT id, name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note, active, version FROM organisation WHERE id = :recipient;
SELECT id, case_id, grantor, method, granted_at, expires_at, withdrawn_at, statistics, provisions::text, version FROM consent WHERE id = :consent_id AND case_id = :case_id;
INSERT INTO referral (id, case_id, case_organisation_id, case_reference, need_id, service_type, from_organisation_id,
    from_user_id, to_organisation_id, consent_id, shared_categories, priority, due_at, note_sealed, previous_referral_id)
VALUES (gen_random_uuid(), :case_id, :org_id, 'MD-2026-000001', NULL, :service, :org_id, :user_id, :recipient, :consent_id,
    '{profile}', 'normal', now() + interval '14 days', NULL, NULL)
RETURNING id AS new_referral, case_id AS returned_case, case_organisation_id, case_reference, need_id, service_type, from_organisation_id, from_user_id,
    to_organisation_id, consent_id AS returned_consent, shared_categories, priority, due_at, status, business_status, status_reason, outcome, note_sealed,
    previous_referral_id, episode_id, created_at, updated_at, version \gset
INSERT INTO referral_transition (referral_id, from_status, to_status, actor_user, actor_organisation, reason, business_status, outcome, note_sealed)
VALUES (:new_referral, NULL, 'requested', :user_id, :org_id, NULL, NULL, NULL, NULL);
\startpipeline
INSERT INTO notification_outbox (id, kind, recipient_organisation_id, recipient_user_id, case_reference, priority, link, created_at, once_key)
VALUES (gen_random_uuid(), 'referral.arrived', :recipient, NULL, 'MD-2026-000001', 'normal', '/referrals/' || :new_referral, now(), NULL);
INSERT INTO audit_event (recorded, action, type, subtype, outcome, actor_user, actor_org, actor_role,
    actor_ip, entity_kind, entity_id, case_id, subject_org, purpose, detail, request_id, mac_key, mac)
VALUES (now(), 'C', 'referral', 'referral.create', 'success', :user_id, :org_id, 'caseworker',
    '127.0.0.1', 'referral', :case_id, :case_id, :org_id, 'case-management', '{}', '0123456789abcdef', 'k1', sha256('benchmark'::bytea));
COMMIT;
\endpipeline
