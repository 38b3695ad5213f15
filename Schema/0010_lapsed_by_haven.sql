-- A referral ended because its consent lapsed is ended by Haven, not by whoever's request
-- noticed it: its transition names no actor (the audit event says the same).
CREATE OR REPLACE FUNCTION haven_end_lapsed_referrals_of(organisation uuid, actor_user uuid) RETURNS SETOF uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH lapsed AS MATERIALIZED (
        SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
        WHERE (r.to_organisation_id = organisation OR r.from_organisation_id = organisation)
          AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
          AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now()))
        ORDER BY r.id
    )
    SELECT id FROM lapsed WHERE haven_end_lapsed_referral(id, NULL, NULL) IS NOT NULL
$$;
