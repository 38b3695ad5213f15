-- The audit chain is keyed from here on: each new link is an HMAC under a key derived from the
-- key file (never stored here), named by the ring key's id. Links sealed before this migration
-- keep a NULL key and their plain SHA-256 form; the verifier checks them as such, says where the
-- keyed chain starts, and refuses a plain link after a keyed one (see docs/audit.md).
ALTER TABLE audit_seal ADD COLUMN link_key text;
