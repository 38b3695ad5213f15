-- Every worklist and referral list first ends the organisation's referrals whose consent lapsed
-- (S16), asking for consents withdrawn or past their expiry. With no index for either test the
-- planner read the whole consent table on every such page (2.4 ms at 10 000 consents, growing
-- with every consent ever recorded). These let it read only the consents that have lapsed.
CREATE INDEX consent_withdrawn_idx ON consent (id) WHERE withdrawn_at IS NOT NULL;
CREATE INDEX consent_expiry_idx ON consent (expires_at) WHERE expires_at IS NOT NULL;
