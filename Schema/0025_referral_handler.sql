-- Within the receiving organisation, one user takes a referral from the inbox ("handled by")
-- and may hand it to a colleague; the sender never sees who.
ALTER TABLE referral ADD COLUMN handler_user_id uuid REFERENCES app_user (id);
ALTER TABLE referral ADD COLUMN handled_since timestamptz;
