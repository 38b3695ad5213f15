-- A case's history (GET /v1/cases/{id}/history and the console's case page) lists changes, not
-- reads. Every view of a case adds read events to it, so a case read often carries thousands of
-- them, and walking (case_id, id) to skip them grew with every view. This index holds a case's
-- successful changes only, in order.
CREATE INDEX audit_event_case_changes_idx ON audit_event (case_id, id)
    WHERE case_id IS NOT NULL AND action <> 'R' AND outcome = 'success';

-- The worklist's "waiting for our answer": an organisation's referrals still requested or
-- received, the soonest due first, without walking its answered ones.
CREATE INDEX referral_awaiting_idx ON referral (to_organisation_id, due_at, id) WHERE status IN ('requested', 'received');
