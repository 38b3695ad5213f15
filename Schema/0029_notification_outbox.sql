-- Notifications: nobody has to poll. An action someone must act on writes a message to the
-- outbox in its own transaction (a rolled-back action leaves none); the delivery worker routes
-- each message to its channels (one delivery row per message, channel and target) and sends
-- what is due, claiming rows with FOR UPDATE SKIP LOCKED so several haven instances on one
-- database never send the same delivery at once. A message carries no identifying value and
-- no case content: its kind, the recipient organisation (and user where one is meant), the
-- case's reference, a priority and a console path of ids.

CREATE TABLE notification_outbox (
    id uuid PRIMARY KEY,
    kind text NOT NULL CHECK (kind IN ('referral.arrived', 'referral.accepted', 'referral.rejected', 'referral.completed',
        'referral.cancelled', 'closure.requested', 'closure.approved', 'closure.declined', 'break_glass.started',
        'consent.expiring', 'need.overdue', 'service.overdue', 'case.transferred')),
    recipient_organisation_id uuid NOT NULL REFERENCES organisation (id),
    recipient_user_id uuid REFERENCES app_user (id),
    case_reference text CHECK (length(case_reference) <= 64),
    priority text NOT NULL CHECK (priority IN ('emergency', 'urgent', 'normal')),
    link text NOT NULL CHECK (link ~ '^/[a-z0-9/-]{0,199}$'),
    -- Set by the periodic sweeps (a deadline passed, a consent about to end): each is announced once.
    once_key text UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- When the worker made its deliveries: a message is routed once, in one transaction.
    routed_at timestamptz
);
CREATE INDEX notification_outbox_unrouted_idx ON notification_outbox (created_at, id) WHERE routed_at IS NULL;

-- One row per message and channel target ('in_app' and a user id; a webhook subscription; an
-- email address's user). A delivery is pending until its channel sent it, then sent; a channel
-- that gives up marks it dead. A claim moves next_attempt_at past a lease, so a worker that
-- dies mid-send leaves it to be sent again (at least once, with the same message id).
CREATE TABLE notification_delivery (
    message_id uuid NOT NULL REFERENCES notification_outbox (id),
    channel text NOT NULL CHECK (channel ~ '^[a-z][a-z0-9_]{0,31}$'),
    target text NOT NULL CHECK (length(target) <= 200),
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    -- What went wrong last, in the channel's words (a status code, "timeout"); never a body.
    last_error text CHECK (length(last_error) <= 500),
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    PRIMARY KEY (message_id, channel, target)
);
CREATE INDEX notification_delivery_due_idx ON notification_delivery (channel, next_attempt_at) WHERE state = 'pending';

-- The in-app channel: a user's notifications. Copied from the message, so a user reads their
-- own without seeing the outbox.
CREATE TABLE notification (
    id uuid PRIMARY KEY,
    message_id uuid NOT NULL REFERENCES notification_outbox (id),
    user_id uuid NOT NULL REFERENCES app_user (id),
    kind text NOT NULL,
    case_reference text,
    priority text NOT NULL,
    link text NOT NULL,
    created_at timestamptz NOT NULL,
    read_at timestamptz,
    UNIQUE (message_id, user_id)
);
CREATE INDEX notification_user_idx ON notification (user_id, created_at DESC, id DESC);
CREATE INDEX notification_unread_idx ON notification (user_id) WHERE read_at IS NULL;

-- Anyone's action may write a message; only Haven itself reads, routes and delivers them.
ALTER TABLE notification_outbox ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_outbox_write ON notification_outbox FOR INSERT TO haven_app WITH CHECK (true);
CREATE POLICY notification_outbox_system ON notification_outbox TO haven_app USING (haven_role() = 'system');
ALTER TABLE notification_delivery ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_delivery_system ON notification_delivery TO haven_app USING (haven_role() = 'system');
-- A user sees and marks only their own.
ALTER TABLE notification ENABLE ROW LEVEL SECURITY;
CREATE POLICY notification_own ON notification TO haven_app USING (haven_role() = 'system' OR user_id = haven_user());

GRANT SELECT, INSERT, UPDATE ON notification_outbox, notification_delivery TO haven_app;
GRANT SELECT, INSERT ON notification TO haven_app;
GRANT UPDATE (read_at) ON notification TO haven_app;

-- The sweep's open needs past their deadline use need_open_due_idx (0021).
