-- Email notifications: a user opts in with an address and the kinds of event they want; no row,
-- no email. The address is sealed with the key ring (bound to its user), like every value that
-- names a person; the message itself carries no identifying value and no case content.
CREATE TABLE notification_email (
    user_id uuid PRIMARY KEY REFERENCES app_user (id),
    address_sealed bytea NOT NULL,
    kinds text[] NOT NULL CHECK (kinds <@ ARRAY['referral.arrived', 'referral.accepted', 'referral.rejected', 'referral.completed',
        'referral.cancelled', 'closure.requested', 'closure.approved', 'closure.declined', 'break_glass.started',
        'consent.expiring', 'need.overdue', 'service.overdue', 'case.transferred']::text[]),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A user reads and changes only their own choice; Haven's delivery worker reads them all.
ALTER TABLE notification_email ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_email_own ON notification_email TO haven_app
    USING (haven_role() = 'system' OR user_id = haven_user());
GRANT SELECT, INSERT, UPDATE, DELETE ON notification_email TO haven_app;
