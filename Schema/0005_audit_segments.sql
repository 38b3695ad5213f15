-- The audit chain survives a logical restore into another cluster. Transaction ids belong to
-- one cluster; after a restore the new cluster's ids may be smaller than the sealed ones, so the
-- sealer starts a new segment of the chain there (the chain itself goes on unbroken: each link
-- still covers the one before).
ALTER TABLE audit_seal ADD COLUMN segment integer NOT NULL DEFAULT 1;

-- A check value per audit key id (an HMAC of a fixed text under the key), so a verifier with a
-- wrong key file says so instead of calling every event tampered.
CREATE TABLE audit_key (
    key_id text PRIMARY KEY,
    check_value bytea NOT NULL,
    first_used timestamptz NOT NULL DEFAULT now()
);
GRANT SELECT, INSERT ON audit_key TO haven_app;

-- A kept first answer names the case it is about, so erasing the case forgets the answer too.
ALTER TABLE idempotency_key ADD COLUMN case_id uuid;
CREATE INDEX idempotency_key_case_idx ON idempotency_key (case_id) WHERE case_id IS NOT NULL;

-- The key stays used (a retry must not create the case again); its answer is dropped.
CREATE FUNCTION haven_forget_case_answers(target uuid) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = public AS $$
    UPDATE idempotency_key SET response_sealed = NULL, location = NULL, status = 410 WHERE case_id = target
$$;

-- Each transition's note is sealed to that transition alone.
ALTER TABLE referral_transition ADD COLUMN uid uuid NOT NULL DEFAULT gen_random_uuid();
