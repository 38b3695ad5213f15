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
