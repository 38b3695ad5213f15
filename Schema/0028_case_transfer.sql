-- A case handed to another organisation (HavenCore/CaseTransfer.swift): requested by the owning
-- organisation with a consent naming the receiving one for every category, then accepted,
-- declined or cancelled. Accepting moves the case: a case now changes organisation, and what
-- carries a copy of its organisation (service episodes, referrals) follows it.
CREATE TABLE case_transfer (
    id uuid PRIMARY KEY,
    case_id uuid NOT NULL REFERENCES case_file (id),
    -- The pseudonymous reference, so the receiving supervisor can name the case before it is theirs.
    case_reference text NOT NULL,
    from_organisation_id uuid NOT NULL REFERENCES organisation (id),
    to_organisation_id uuid NOT NULL REFERENCES organisation (id),
    consent_id uuid NOT NULL REFERENCES consent (id),
    reason text NOT NULL CHECK (reason IN ('person-moved', 'better-placed', 'person-asked', 'other')),
    status text NOT NULL DEFAULT 'requested' CHECK (status IN ('requested', 'accepted', 'declined', 'cancelled')),
    decline_reason text CHECK (decline_reason IN ('no-capacity', 'outside-mandate', 'not-in-area', 'other')),
    requested_by uuid NOT NULL REFERENCES app_user (id),
    requested_at timestamptz NOT NULL DEFAULT now(),
    decided_by uuid REFERENCES app_user (id),
    decided_at timestamptz,
    version integer NOT NULL DEFAULT 1,
    CHECK (from_organisation_id <> to_organisation_id),
    CHECK ((status = 'declined') = (decline_reason IS NOT NULL))
);
-- One waiting transfer per case: a second request is refused until the first is decided.
CREATE UNIQUE INDEX case_transfer_pending_idx ON case_transfer (case_id) WHERE status = 'requested';
CREATE INDEX case_transfer_to_idx ON case_transfer (to_organisation_id, requested_at DESC, id);
CREATE INDEX case_transfer_from_idx ON case_transfer (from_organisation_id, requested_at DESC, id);
CREATE INDEX case_transfer_case_idx ON case_transfer (case_id, requested_at DESC);

-- Both organisations see the transfer for good (the sender's trail keeps it after the case has
-- gone); the policy narrows who of them may see which.
ALTER TABLE case_transfer ENABLE ROW LEVEL SECURITY;
CREATE POLICY case_transfer_parties ON case_transfer TO haven_app USING (
    haven_role() = 'system' OR from_organisation_id = haven_org() OR to_organisation_id = haven_org()
);
GRANT SELECT, INSERT, UPDATE ON case_transfer TO haven_app;

-- Accepting moves the case to the caller's organisation, which row-level security would not let
-- the receiving supervisor do (the case is not yet theirs). Run as the owner, it moves only a
-- transfer still requested, to the caller's organisation, by a supervisor of it: the case leaves
-- its assignee and any closure request behind (the receiving supervisor assigns), and its
-- service episodes and referrals carry the new owner. Returns the case id, or NULL when nothing
-- moved. The policy has already decided (AccessPolicy.decideCaseTransfer); this is the second line.
CREATE FUNCTION haven_accept_case_transfer(target uuid) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public AS $$
DECLARE
    moving case_transfer%ROWTYPE;
BEGIN
    SELECT * INTO moving FROM case_transfer WHERE id = target FOR UPDATE;
    IF NOT FOUND OR moving.status <> 'requested' OR moving.to_organisation_id <> haven_org() OR haven_role() <> 'supervisor' THEN
        RETURN NULL;
    END IF;
    UPDATE case_file SET organisation_id = moving.to_organisation_id, assigned_to = NULL,
           closure_requested_at = NULL, closure_requested_by = NULL, closure_reason = NULL,
           updated_at = now(), version = version + 1
    WHERE id = moving.case_id AND organisation_id = moving.from_organisation_id AND status = 'open';
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    -- The trigger refills the copy from the case (0007_overdue_worklist.sql).
    UPDATE service_episode SET case_organisation_id = moving.to_organisation_id WHERE case_id = moving.case_id;
    UPDATE referral SET case_organisation_id = moving.to_organisation_id WHERE case_id = moving.case_id;
    UPDATE case_transfer SET status = 'accepted', decided_by = haven_user(), decided_at = now(), version = version + 1
    WHERE id = target;
    RETURN moving.case_id;
END
$$;
