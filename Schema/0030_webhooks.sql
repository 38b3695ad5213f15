-- Webhooks for partner organisations' own systems. An administrator registers, per
-- organisation, a URL and the event kinds its systems want; every delivery is signed as the
-- Standard Webhooks convention writes it with the subscription's secret, which is sealed at
-- rest (the key ring's AES-256-GCM, the row's id bound in) and shown once, at creation and
-- at rotation. A rotated secret stays valid until previous_until, and both signatures travel
-- meanwhile, so the receiver can change its secret without losing a delivery. A deleted
-- subscription keeps its row (deleted_at) for the trail and its dead letters.

CREATE TABLE webhook_subscription (
    id uuid PRIMARY KEY,
    organisation_id uuid NOT NULL REFERENCES organisation (id),
    url text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    kinds text[] NOT NULL CHECK (cardinality(kinds) BETWEEN 1 AND 32),
    secret_sealed bytea NOT NULL,
    previous_secret_sealed bytea,
    previous_until timestamptz,
    created_by uuid REFERENCES app_user (id),
    created_at timestamptz NOT NULL DEFAULT now(),
    rotated_at timestamptz,
    deleted_at timestamptz,
    CHECK ((previous_secret_sealed IS NULL) = (previous_until IS NULL))
);
CREATE INDEX webhook_subscription_organisation_idx ON webhook_subscription (organisation_id, created_at, id) WHERE deleted_at IS NULL;

-- Administrators manage subscriptions; Haven itself reads them to route and deliver.
ALTER TABLE webhook_subscription ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_subscription_admin ON webhook_subscription TO haven_app USING (haven_role() IN ('admin', 'system'));
GRANT SELECT, INSERT, UPDATE ON webhook_subscription TO haven_app;

-- Dead letters: an administrator sees the webhook deliveries the outbox gave up on, with the
-- kind and time of their message, and puts one back in the queue. Nothing of another channel.
CREATE POLICY notification_delivery_webhook_admin ON notification_delivery TO haven_app
    USING (channel = 'webhook' AND haven_role() = 'admin');
CREATE POLICY notification_outbox_webhook_admin ON notification_outbox FOR SELECT TO haven_app
    USING (haven_role() = 'admin' AND EXISTS (
        SELECT 1 FROM notification_delivery d WHERE d.message_id = notification_outbox.id AND d.channel = 'webhook' AND d.state = 'dead'));
