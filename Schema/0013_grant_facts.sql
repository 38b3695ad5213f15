-- The policy's facts about a break-glass grant, whoever asks. Row-level security hides other
-- people's grants, so without this a refusal was a missing row: answered 404 but decided by
-- no policy and recorded by no event. Like haven_case_facts, it returns ids only.
CREATE FUNCTION haven_grant_facts(target uuid)
RETURNS TABLE (case_id uuid, user_id uuid, user_organisation_id uuid, case_organisation_id uuid)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public AS $$
BEGIN
    RETURN QUERY SELECT g.case_id, g.user_id, g.user_organisation_id, g.case_organisation_id FROM break_glass_grant g WHERE g.id = target;
END
$$;
