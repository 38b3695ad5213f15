-- Free text is sealed like the notes (S11): consent purposes, service and referral outcomes,
-- labour sector, violence location and counsellor names were readable in a dump of the database.
-- Each gets a sealed column; its clear column is emptied by haven at start-up (sealing needs the
-- key file, which the database never sees: see HavenStore/FreeTextSealing.swift) and is no longer
-- written. Until then readers fall back to the clear value.
ALTER TABLE case_file ADD COLUMN labour_sector_sealed bytea, ADD COLUMN violence_location_sealed bytea;
-- The purposes of a consent's provisions, in provision order, as one sealed JSON array; the
-- provisions themselves (recipients and categories, which referrals are checked against) stay
-- readable, with an empty purpose.
ALTER TABLE consent ADD COLUMN purposes_sealed bytea;
-- Counsellor names of the counselling sessions, in session order, as one sealed JSON array; the
-- detail keeps an empty name.
ALTER TABLE service_episode ADD COLUMN outcome_sealed bytea, ADD COLUMN counsellors_sealed bytea;
ALTER TABLE referral ADD COLUMN outcome_sealed bytea;
ALTER TABLE referral_transition ADD COLUMN outcome_sealed bytea;
-- Only to erase or re-seal it; a transition itself never changes.
GRANT UPDATE (outcome_sealed) ON referral_transition TO haven_app;

-- The cross-organisation duplicate hint is limited per user and hour, counted from its own
-- audit events.
CREATE INDEX audit_event_duplicate_hint_idx ON audit_event (actor_user, recorded) WHERE subtype = 'duplicate.hint';
