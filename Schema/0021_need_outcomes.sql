-- A need ends: met, cancelled or superseded by another need of the case, with a reason (sealed
-- like the need's note: free text about a person's situation), who ended it and when. A need met
-- because the referral serving it completed names that referral. A version lets a change check
-- that nobody changed the need since it was read.
ALTER TABLE need DROP CONSTRAINT need_status_check;
ALTER TABLE need ADD CONSTRAINT need_status_check CHECK (status IN ('open', 'met', 'cancelled', 'superseded'));
ALTER TABLE need
    ADD COLUMN reason_sealed bytea,
    ADD COLUMN superseded_by uuid REFERENCES need (id),
    ADD COLUMN met_by_referral uuid REFERENCES referral (id),
    ADD COLUMN closed_by uuid REFERENCES app_user (id),
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE need ADD CONSTRAINT need_superseded_names_successor
    CHECK ((status = 'superseded') = (superseded_by IS NOT NULL) AND superseded_by IS DISTINCT FROM id);

-- The worklist's "my overdue needs": open needs past their deadline, soonest first, without
-- walking the ones already ended.
CREATE INDEX need_open_due_idx ON need (due_at, case_id) WHERE status = 'open';

-- The worklist's "consents expiring within 7 days": consents still running that have an end.
CREATE INDEX consent_expiring_idx ON consent (expires_at, case_id) WHERE withdrawn_at IS NULL AND expires_at IS NOT NULL;
