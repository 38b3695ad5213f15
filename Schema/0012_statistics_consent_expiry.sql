-- Statistics consents that can expire, for the sweep that takes their cases out of the reports
-- once they have: it reads only these, never the whole case table.
CREATE INDEX consent_statistics_expiry_idx ON consent (expires_at)
    WHERE statistics AND withdrawn_at IS NULL AND expires_at IS NOT NULL;
