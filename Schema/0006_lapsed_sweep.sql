-- The lapsed-referral sweep calls haven_end_lapsed_referral (which locks its referral FOR UPDATE)
-- only on referrals whose consent has lapsed. In 0003 the call sat next to the consent test in one
-- WHERE clause, and the planner was free to evaluate it first: a plain list of referrals then
-- locked every open referral of the organisation and deadlocked with concurrent transitions.
-- The MATERIALIZED CTE is an optimisation fence, so the consent test always runs first.
CREATE OR REPLACE FUNCTION haven_end_lapsed_referrals_of(organisation uuid, actor_user uuid) RETURNS SETOF uuid
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    WITH lapsed AS MATERIALIZED (
        SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
        WHERE (r.to_organisation_id = organisation OR r.from_organisation_id = organisation)
          AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
          AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now()))
        ORDER BY r.id
    )
    SELECT id FROM lapsed WHERE haven_end_lapsed_referral(id, actor_user, organisation) IS NOT NULL
$$;
