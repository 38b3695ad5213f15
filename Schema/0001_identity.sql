-- Organisations, users and sessions. Runs as the schema owner; the application connects as a
-- member of haven_app, which owns nothing and is granted only what it needs.

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'haven_app') THEN
        CREATE ROLE haven_app NOLOGIN;
    END IF;
END
$$;

REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO haven_app;

-- The acting user and organisation of the current transaction, set by the application with
-- set_config(..., true). Row-level security policies read them; unset means "nobody".
CREATE FUNCTION haven_user() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('haven.user_id', true), '')::uuid $$;
CREATE FUNCTION haven_org() RETURNS uuid LANGUAGE sql STABLE AS
$$ SELECT nullif(current_setting('haven.org_id', true), '')::uuid $$;
CREATE FUNCTION haven_role() RETURNS text LANGUAGE sql STABLE AS
$$ SELECT coalesce(nullif(current_setting('haven.role', true), ''), 'none') $$;

CREATE TABLE organisation (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    type text NOT NULL CHECK (type IN ('ngo', 'government', 'law_enforcement', 'health', 'legal',
        'shelter', 'un_agency', 'international_org')),
    country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    region text CHECK (length(region) <= 100),
    service_types text[] NOT NULL DEFAULT '{}',
    regions_covered text[] NOT NULL DEFAULT '{}',
    populations text[] NOT NULL DEFAULT '{}',
    accepts_referrals boolean NOT NULL DEFAULT true,
    capacity_note text CHECK (length(capacity_note) <= 1000),
    -- Years a closed case is kept before its identifying data is erased.
    retention_years integer NOT NULL DEFAULT 5 CHECK (retention_years BETWEEN 1 AND 50),
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX organisation_name_key ON organisation (lower(name));
CREATE INDEX organisation_service_types_idx ON organisation USING gin (service_types);

CREATE TABLE app_user (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    role text NOT NULL CHECK (role IN ('admin', 'supervisor', 'caseworker', 'partner', 'auditor')),
    username text NOT NULL CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    display_name text CHECK (length(display_name) <= 200),
    password_hash text NOT NULL,
    -- The TOTP secret, sealed with the key ring (AES-256-GCM); never stored in clear.
    totp_secret bytea,
    totp_last_step bigint,
    active boolean NOT NULL DEFAULT true,
    failed_logins integer NOT NULL DEFAULT 0,
    first_failed_at timestamptz,
    locked_until timestamptz,
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    -- Set for a password someone else chose (bootstrap, reset): the user must change it first.
    password_must_change boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX app_user_username_key ON app_user (username);
CREATE INDEX app_user_organisation_idx ON app_user (organisation_id, id);

-- Bearer tokens: only a SHA-256 of the token is stored.
CREATE TABLE session (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX session_user_idx ON session (user_id) WHERE revoked_at IS NULL;

-- Readiness probes compare the applied migrations with the ones this build carries.
GRANT SELECT ON schema_migrations TO haven_app;

GRANT SELECT, INSERT, UPDATE ON organisation, app_user, session TO haven_app;
GRANT DELETE ON session TO haven_app;
