-- The audit trail: append-only for the application, MAC-signed per event, hash-chained by the
-- sealer shortly after commit (see HavenStore/AuditSealer.swift).

CREATE TABLE audit_event (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction; the sealer chains events whose transaction is older than every
    -- running one, so a late commit is never skipped.
    xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    recorded timestamptz NOT NULL,
    action char(1) NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
    type text NOT NULL,
    subtype text NOT NULL,
    outcome text NOT NULL CHECK (outcome IN ('success', 'denied', 'error')),
    actor_user uuid,
    actor_org uuid,
    actor_role text,
    actor_ip text,
    entity_kind text,
    entity_id text,
    case_id uuid,
    -- The organisation whose record this is (for a supervisor's view of its own trail).
    subject_org uuid,
    purpose text NOT NULL,
    -- Canonical JSON written by the application: field names and state changes, never values of
    -- identifying fields. Kept as text so the MAC recomputes byte for byte.
    detail text NOT NULL DEFAULT '{}',
    request_id text,
    mac_key text NOT NULL,
    mac bytea NOT NULL
);
CREATE INDEX audit_event_xid_idx ON audit_event (xid, id);
CREATE INDEX audit_event_case_idx ON audit_event (case_id, id) WHERE case_id IS NOT NULL;
CREATE INDEX audit_event_actor_idx ON audit_event (actor_user, id);
CREATE INDEX audit_event_actor_org_idx ON audit_event (actor_org, id);
CREATE INDEX audit_event_subject_org_idx ON audit_event (subject_org, id);
CREATE INDEX audit_event_recorded_idx ON audit_event (recorded);

CREATE TABLE audit_seal (
    seq bigint PRIMARY KEY,
    event_id bigint NOT NULL UNIQUE,
    event_xid bigint NOT NULL,
    hash bytea NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION audit_reject_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_event
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();
CREATE TRIGGER audit_seal_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_seal
    FOR EACH STATEMENT EXECUTE FUNCTION audit_reject_change();

GRANT SELECT, INSERT ON audit_event, audit_seal TO haven_app;

-- Supervisors read their organisation's trail; auditors and the system (sealer, verifier) all of
-- it. Everyone may append.
ALTER TABLE audit_event ENABLE ROW LEVEL SECURITY;
CREATE POLICY audit_event_append ON audit_event FOR INSERT TO haven_app WITH CHECK (true);
CREATE POLICY audit_event_read ON audit_event FOR SELECT TO haven_app USING (
    haven_role() IN ('auditor', 'system')
    OR (haven_role() = 'supervisor' AND (actor_org = haven_org() OR subject_org = haven_org()))
);
