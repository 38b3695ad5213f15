-- A consent is amended by a new version that supersedes it (both kept, linked), and may be
-- withdrawn for one recipient organisation while it holds for the others.
ALTER TABLE consent
    ADD COLUMN supersedes uuid REFERENCES consent (id),
    ADD COLUMN superseded_at timestamptz,
    ADD COLUMN withdrawn_recipients jsonb NOT NULL DEFAULT '[]';
-- Versions form a line: a consent is amended once, by its latest version.
CREATE UNIQUE INDEX consent_supersedes_idx ON consent (supersedes) WHERE supersedes IS NOT NULL;
