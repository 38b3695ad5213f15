-- Users enrol their own authenticator at their first login: the administrator never sees a
-- TOTP secret. The secret being enrolled waits here, sealed like totp_secret, until the user
-- confirms it with a code; then it moves to totp_secret.
ALTER TABLE app_user ADD COLUMN totp_pending bytea;

-- Single-use recovery codes, given once at enrolment: only a SHA-256 of each code is stored
-- (each carries 80 random bits, so the hash cannot be searched backwards).
CREATE TABLE recovery_code (
    user_id uuid NOT NULL REFERENCES app_user (id),
    code_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON recovery_code TO haven_app;
