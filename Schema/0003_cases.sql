-- Cases, the person (identifying part sealed), needs, services, consents, referrals,
-- break-glass grants and idempotent creation. Every table holding case data has row-level
-- security keyed on the transaction's haven.* settings.

CREATE TABLE case_reference_counter (
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    year integer NOT NULL,
    last_number integer NOT NULL DEFAULT 0,
    PRIMARY KEY (organisation_id, year)
);

CREATE TABLE case_file (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    reference text NOT NULL,
    case_type text NOT NULL CHECK (case_type IN ('trafficking', 'domestic_violence', 'both')),
    identification_status text NOT NULL CHECK (identification_status IN ('potential', 'presumed', 'identified')),
    identified_by text NOT NULL CHECK (identified_by IN ('police', 'ngo', 'hotline', 'consulate', 'self', 'other')),
    identified_on date NOT NULL,
    risk_level text NOT NULL CHECK (risk_level IN ('high', 'medium', 'low')),
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
    assigned_to uuid REFERENCES app_user (id),
    created_by uuid NOT NULL REFERENCES app_user (id),
    closure_requested_at timestamptz,
    closure_requested_by uuid REFERENCES app_user (id),
    closure_reason text,
    closed_at timestamptz,
    closed_by uuid REFERENCES app_user (id),
    reopened_count integer NOT NULL DEFAULT 0,
    retention_due date,
    anonymised_at timestamptz,
    -- The person, non-identifying part, in clear.
    sex text NOT NULL DEFAULT 'unknown' CHECK (sex IN ('female', 'male', 'other', 'unknown')),
    birth_year integer CHECK (birth_year BETWEEN 1900 AND 2200),
    age_band text,
    citizenship text CHECK (citizenship ~ '^[A-Z]{2}$'),
    languages text[] NOT NULL DEFAULT '{}',
    minor boolean,
    disability boolean,
    -- The person's identifying part: AES-256-GCM, key id and nonce inside, case id as
    -- associated data.
    identity_sealed bytea,
    -- Trafficking profile (CTDC/HTCDS) and violence profile (GBVIMS).
    exploitation_types text[] NOT NULL DEFAULT '{}',
    labour_sector text,
    means_of_control text[] NOT NULL DEFAULT '{}',
    recruiter_relation text,
    country_of_exploitation text,
    months_exploited integer,
    violence_types text[] NOT NULL DEFAULT '{}',
    perpetrator_relation text,
    violence_location text,
    note_sealed bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1,
    UNIQUE (organisation_id, reference)
);
CREATE INDEX case_file_org_updated_idx ON case_file (organisation_id, updated_at DESC, id);
CREATE INDEX case_file_assignee_idx ON case_file (assigned_to, updated_at DESC, id);
CREATE INDEX case_file_creator_idx ON case_file (created_by);
CREATE INDEX case_file_retention_idx ON case_file (retention_due) WHERE status = 'closed' AND anonymised_at IS NULL;

CREATE TABLE need (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    domain text NOT NULL CHECK (domain IN ('economic', 'food', 'health', 'environmental', 'personal', 'community', 'political')),
    service_type text NOT NULL,
    priority text NOT NULL CHECK (priority IN ('emergency', 'urgent', 'normal')),
    due_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'met', 'cancelled')),
    note_sealed bytea,
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX need_case_idx ON need (case_id, created_at);

CREATE TABLE service_episode (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    need_id uuid REFERENCES need (id),
    referral_id uuid,
    type text NOT NULL,
    provider_organisation_id uuid REFERENCES organisation (id),
    status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned', 'in_progress', 'completed', 'cancelled')),
    start_on date,
    due_on date,
    end_on date,
    outcome text,
    -- Typed, non-identifying detail (repatriation, accommodation, counselling sessions without notes).
    detail jsonb NOT NULL DEFAULT '{}',
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX service_episode_case_idx ON service_episode (case_id, created_at);
CREATE INDEX service_episode_due_idx ON service_episode (due_on) WHERE status IN ('planned', 'in_progress');

-- Counselling session notes, sealed one by one (episode id and session index as associated data).
CREATE TABLE session_note (
    episode_id uuid NOT NULL REFERENCES service_episode (id),
    session_index integer NOT NULL,
    case_id uuid NOT NULL REFERENCES case_file (id),
    note_sealed bytea NOT NULL,
    PRIMARY KEY (episode_id, session_index)
);

CREATE TABLE consent (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    grantor text NOT NULL CHECK (grantor IN ('self', 'guardian')),
    method text NOT NULL CHECK (method IN ('written', 'verbal')),
    granted_at timestamptz NOT NULL,
    expires_at timestamptz,
    withdrawn_at timestamptz,
    statistics boolean NOT NULL DEFAULT false,
    provisions jsonb NOT NULL DEFAULT '[]',
    created_by uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX consent_case_idx ON consent (case_id, granted_at);

CREATE TABLE referral (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    case_organisation_id uuid NOT NULL REFERENCES organisation (id),
    -- The pseudonymous reference, kept so both sides can name the case after the referral ends.
    case_reference text NOT NULL,
    need_id uuid REFERENCES need (id),
    service_type text NOT NULL,
    from_organisation_id uuid NOT NULL REFERENCES organisation (id),
    from_user_id uuid NOT NULL REFERENCES app_user (id),
    to_organisation_id uuid NOT NULL REFERENCES organisation (id),
    consent_id uuid NOT NULL REFERENCES consent (id),
    shared_categories text[] NOT NULL,
    priority text NOT NULL CHECK (priority IN ('emergency', 'urgent', 'normal')),
    due_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'received', 'accepted', 'rejected',
        'in-progress', 'on-hold', 'completed', 'failed', 'cancelled', 'entered-in-error')),
    business_status text,
    status_reason text,
    outcome text,
    note_sealed bytea,
    previous_referral_id uuid REFERENCES referral (id),
    episode_id uuid REFERENCES service_episode (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE INDEX referral_to_idx ON referral (to_organisation_id, updated_at DESC, id);
CREATE INDEX referral_from_idx ON referral (from_organisation_id, updated_at DESC, id);
CREATE INDEX referral_case_idx ON referral (case_id);
CREATE INDEX referral_consent_idx ON referral (consent_id) WHERE status NOT IN ('rejected', 'completed', 'failed', 'cancelled', 'entered-in-error');
ALTER TABLE service_episode ADD FOREIGN KEY (referral_id) REFERENCES referral (id);

CREATE TABLE referral_transition (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    referral_id uuid NOT NULL REFERENCES referral (id),
    from_status text,
    to_status text NOT NULL,
    actor_user uuid REFERENCES app_user (id),
    actor_organisation uuid REFERENCES organisation (id),
    reason text,
    business_status text,
    outcome text,
    note_sealed bytea,
    at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referral_transition_referral_idx ON referral_transition (referral_id, id);

CREATE TABLE break_glass_grant (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    case_organisation_id uuid NOT NULL REFERENCES organisation (id),
    user_id uuid NOT NULL REFERENCES app_user (id),
    user_organisation_id uuid NOT NULL REFERENCES organisation (id),
    reason_sealed bytea,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    reviewed_by uuid REFERENCES app_user (id),
    reviewed_at timestamptz,
    review_note_sealed bytea
);
CREATE INDEX break_glass_grant_case_idx ON break_glass_grant (case_id, user_id, expires_at);
CREATE INDEX break_glass_grant_review_idx ON break_glass_grant (case_organisation_id, granted_at) WHERE reviewed_at IS NULL;

-- A creating POST's first answer, replayed for a retry with the same Idempotency-Key. The
-- answer may hold case data, so it is sealed.
CREATE TABLE idempotency_key (
    user_id uuid NOT NULL REFERENCES app_user (id),
    key text NOT NULL,
    scope text NOT NULL,
    request_hash bytea NOT NULL,
    status integer,
    location text,
    response_sealed bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- Row-level security. The helpers are SECURITY DEFINER (run as the owner, which row-level
-- security does not filter) so a policy on case_file can look at referrals and grants without
-- recursing into their own policies.
CREATE FUNCTION haven_has_break_glass(target uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM break_glass_grant g
                   WHERE g.case_id = target AND g.user_id = haven_user() AND g.expires_at > now())
$$;

CREATE FUNCTION haven_case_referred_to_me(target uuid) RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
    SELECT EXISTS (SELECT 1 FROM referral r JOIN consent c ON c.id = r.consent_id
                   WHERE r.case_id = target AND r.to_organisation_id = haven_org()
                     AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
                     AND c.withdrawn_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > now()))
$$;

-- Who owns and works a case, for the access policy to decide on: found whatever the reader's
-- scope, so a case outside it answers 404 through the policy (and is audited as a denial).
CREATE FUNCTION haven_case_facts(target uuid)
RETURNS TABLE (id uuid, organisation_id uuid, assigned_to uuid, created_by uuid, status text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT id, organisation_id, assigned_to, created_by, status FROM case_file WHERE id = target
$$;

-- The same for a referral, with the state of the consent it relies on.
CREATE FUNCTION haven_referral_facts(target uuid)
RETURNS TABLE (from_organisation_id uuid, to_organisation_id uuid, case_id uuid, case_organisation_id uuid,
               assigned_to uuid, created_by uuid, status text, consent_state text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT r.from_organisation_id, r.to_organisation_id, r.case_id, c.organisation_id, c.assigned_to, c.created_by, r.status,
           CASE WHEN k.withdrawn_at IS NOT NULL THEN 'withdrawn'
                WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired' ELSE 'active' END
    FROM referral r JOIN case_file c ON c.id = r.case_id JOIN consent k ON k.id = r.consent_id
    WHERE r.id = target
$$;

CREATE FUNCTION haven_case_in_scope(owner uuid, assignee uuid, creator uuid) RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT owner = haven_org() AND (haven_role() = 'supervisor'
        OR (haven_role() = 'caseworker' AND (assignee = haven_user() OR creator = haven_user())))
$$;

-- Ends a referral whose consent has lapsed, whoever looks at it (S16): the same change for
-- every caller, made as the owner so the service episode behind it ends too even when the
-- caller can no longer see the case.
CREATE FUNCTION haven_end_lapsed_referral(target uuid, actor_user uuid, actor_org uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    current referral%ROWTYPE;
    state text;
BEGIN
    SELECT * INTO current FROM referral WHERE id = target FOR UPDATE;
    IF NOT FOUND OR current.status NOT IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold') THEN
        RETURN NULL;
    END IF;
    SELECT CASE WHEN withdrawn_at IS NOT NULL THEN 'consent-withdrawn'
                WHEN expires_at IS NOT NULL AND expires_at <= now() THEN 'consent-expired' END
    INTO state FROM consent WHERE id = current.consent_id;
    IF state IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE referral SET status = 'cancelled', status_reason = state, updated_at = now(), version = version + 1 WHERE id = target;
    INSERT INTO referral_transition (referral_id, from_status, to_status, actor_user, actor_organisation, reason)
    VALUES (target, current.status, 'cancelled', actor_user, actor_org, state);
    UPDATE service_episode SET status = 'cancelled', end_on = coalesce(end_on, current_date), updated_at = now(), version = version + 1
    WHERE id = current.episode_id AND status IN ('planned', 'in_progress');
    RETURN state;
END
$$;

-- The same for every open referral to or from an organisation, before its lists are read.
CREATE FUNCTION haven_end_lapsed_referrals_of(organisation uuid, actor_user uuid) RETURNS SETOF uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
    WHERE (r.to_organisation_id = organisation OR r.from_organisation_id = organisation)
      AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
      AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now()))
      AND haven_end_lapsed_referral(r.id, actor_user, organisation) IS NOT NULL
$$;

ALTER TABLE case_file ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_file_read ON case_file FOR SELECT TO haven_app USING (
    haven_role() = 'system'
    OR haven_case_in_scope(organisation_id, assigned_to, created_by)
    OR haven_has_break_glass(id)
    OR haven_case_referred_to_me(id)
);
CREATE POLICY case_file_insert ON case_file FOR INSERT TO haven_app WITH CHECK (
    haven_role() = 'system' OR (organisation_id = haven_org() AND created_by = haven_user())
);
CREATE POLICY case_file_update ON case_file FOR UPDATE TO haven_app
    USING (haven_role() = 'system' OR haven_case_in_scope(organisation_id, assigned_to, created_by))
    WITH CHECK (haven_role() = 'system' OR organisation_id = haven_org());

-- Tables hanging off a case follow the case: visible when the case is.
DO $$
DECLARE
    child text;
BEGIN
    FOREACH child IN ARRAY ARRAY['need', 'service_episode', 'session_note', 'consent'] LOOP
        EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', child);
        EXECUTE format('CREATE POLICY %I ON %I TO haven_app USING (haven_role() = ''system'' OR EXISTS (SELECT 1 FROM case_file c WHERE c.id = case_id))',
                       child || '_follows_case', child);
    END LOOP;
END
$$;

-- A referral is visible to both organisations for good; the case behind it only while open.
ALTER TABLE referral ENABLE ROW LEVEL SECURITY;
CREATE POLICY referral_parties ON referral TO haven_app USING (
    haven_role() = 'system'
    OR to_organisation_id = haven_org()
    OR (from_organisation_id = haven_org() AND haven_role() IN ('supervisor', 'partner'))
    OR EXISTS (SELECT 1 FROM case_file c WHERE c.id = case_id)
);
ALTER TABLE referral_transition ENABLE ROW LEVEL SECURITY;
CREATE POLICY referral_transition_parties ON referral_transition TO haven_app USING (
    haven_role() = 'system' OR EXISTS (SELECT 1 FROM referral r WHERE r.id = referral_id)
);
ALTER TABLE break_glass_grant ENABLE ROW LEVEL SECURITY;
CREATE POLICY break_glass_grant_parties ON break_glass_grant TO haven_app USING (
    haven_role() = 'system' OR user_id = haven_user()
    OR (haven_role() = 'supervisor' AND (case_organisation_id = haven_org() OR user_organisation_id = haven_org()))
);
ALTER TABLE idempotency_key ENABLE ROW LEVEL SECURITY;
CREATE POLICY idempotency_key_own ON idempotency_key TO haven_app USING (user_id = haven_user() OR haven_role() = 'system');

-- Whoever may read a case may read its history in the audit trail.
DROP POLICY audit_event_read ON audit_event;
CREATE POLICY audit_event_read ON audit_event FOR SELECT TO haven_app USING (
    haven_role() IN ('auditor', 'system')
    OR (haven_role() = 'supervisor' AND (actor_org = haven_org() OR subject_org = haven_org()))
    OR (case_id IS NOT NULL AND EXISTS (SELECT 1 FROM case_file c WHERE c.id = case_id))
);

GRANT SELECT, INSERT, UPDATE ON case_reference_counter, case_file, need, service_episode, session_note, consent,
    referral, break_glass_grant, idempotency_key TO haven_app;
GRANT SELECT, INSERT ON referral_transition TO haven_app;
-- Only to erase or re-seal a note; a transition itself never changes.
GRANT UPDATE (note_sealed) ON referral_transition TO haven_app;
GRANT DELETE ON session_note, idempotency_key TO haven_app;
