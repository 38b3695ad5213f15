-- The database's own consent tests learn what 0026 added: a superseded version covers nothing
-- more, and a consent withdrawn for one recipient no longer covers that recipient. Row security's
-- "referred to me", the referral facts the access policy reads and the lapsed-referral sweep
-- answered from `withdrawn_at` and `expires_at` alone. Haven's services move or cancel such
-- referrals in the transaction that amends or withdraws; these keep the database's answer the
-- same should a row ever say otherwise (an operator's hand, a half-applied restore).

-- What a consent is for one recipient now: withdrawn (for everyone or for that recipient),
-- superseded, expired or active. Plain SQL, no settings, so the planner inlines it.
CREATE FUNCTION haven_consent_state(k consent, recipient uuid) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN k.withdrawn_at IS NOT NULL
                  OR EXISTS (SELECT 1 FROM jsonb_array_elements(k.withdrawn_recipients) w
                             WHERE (w->>'recipient_organisation')::uuid = recipient) THEN 'withdrawn'
                WHEN k.superseded_at IS NOT NULL THEN 'superseded'
                WHEN k.expires_at IS NOT NULL AND k.expires_at <= now() THEN 'expired'
                ELSE 'active' END
$$;

CREATE OR REPLACE FUNCTION haven_case_referred_to_me(target uuid) RETURNS boolean LANGUAGE plpgsql STABLE SECURITY DEFINER
SET search_path = public AS $$
BEGIN
    RETURN EXISTS (SELECT 1 FROM referral r JOIN consent c ON c.id = r.consent_id
                   WHERE r.case_id = target AND r.to_organisation_id = haven_org()
                     AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
                     AND haven_consent_state(c, r.to_organisation_id) = 'active');
END
$$;

CREATE OR REPLACE FUNCTION haven_referral_facts(target uuid)
RETURNS TABLE (from_organisation_id uuid, to_organisation_id uuid, case_id uuid, case_organisation_id uuid,
               assigned_to uuid, created_by uuid, status text, consent_state text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY
    SELECT r.from_organisation_id, r.to_organisation_id, r.case_id, c.organisation_id, c.assigned_to, c.created_by, r.status,
           haven_consent_state(k, r.to_organisation_id)
    FROM referral r JOIN case_file c ON c.id = r.case_id JOIN consent k ON k.id = r.consent_id
    WHERE r.id = target;
END
$$;

-- Ends one open referral whose consent no longer covers its recipient; a withdrawal for that
-- recipient and a superseded version end it as a withdrawal does (`consent-withdrawn`).
CREATE OR REPLACE FUNCTION haven_end_lapsed_referral(target uuid, actor_user uuid, actor_org uuid) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    current referral%ROWTYPE;
    state text;
BEGIN
    SELECT * INTO current FROM referral WHERE id = target FOR UPDATE;
    IF NOT FOUND OR current.status NOT IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold') THEN
        RETURN NULL;
    END IF;
    SELECT CASE haven_consent_state(k, current.to_organisation_id)
               WHEN 'withdrawn' THEN 'consent-withdrawn' WHEN 'superseded' THEN 'consent-withdrawn'
               WHEN 'expired' THEN 'consent-expired' END
    INTO state FROM consent k WHERE k.id = current.consent_id;
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

-- Every list first asks for the organisation's referrals whose consent may have lapsed; each
-- candidate is then decided by the function above. Partial indexes keep the new tests as cheap
-- as 0022 made the old ones.
CREATE INDEX consent_superseded_idx ON consent (id) WHERE superseded_at IS NOT NULL;
CREATE INDEX consent_partly_withdrawn_idx ON consent (id) WHERE withdrawn_recipients <> '[]'::jsonb;
CREATE OR REPLACE FUNCTION haven_end_lapsed_referrals_of(organisation uuid, actor_user uuid) RETURNS SETOF uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH lapsed AS MATERIALIZED (
        SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
        WHERE (r.to_organisation_id = organisation OR r.from_organisation_id = organisation)
          AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
          AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now())
               OR c.superseded_at IS NOT NULL OR c.withdrawn_recipients <> '[]'::jsonb)
          AND haven_consent_state(c, r.to_organisation_id) <> 'active'
        ORDER BY r.id
    )
    SELECT id FROM lapsed WHERE haven_end_lapsed_referral(id, NULL, NULL) IS NOT NULL
$$;
