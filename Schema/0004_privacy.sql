-- Privacy by design: duplicate detection without disclosure, statistics consent, retention.

-- Keyed blind index of the normalised name and birth year (HMAC under a key the database does
-- not hold): equal people give equal indexes, and the index tells nothing without the key.
ALTER TABLE case_file ADD COLUMN blind_index bytea;
CREATE INDEX case_file_blind_index_idx ON case_file (blind_index) WHERE blind_index IS NOT NULL;

-- Whether some consent of the case allows non-identifying statistics; kept by the application
-- when consents change so national reports scan one table.
ALTER TABLE case_file ADD COLUMN statistics_consent boolean NOT NULL DEFAULT false;
CREATE INDEX case_file_statistics_idx ON case_file (organisation_id) WHERE statistics_consent;

-- Other cases with the same person: for the caller's organisation the references, for any other
-- only whether one exists. Runs as the owner so it can look beyond the caller's scope, and
-- returns nothing more than that.
CREATE FUNCTION haven_possible_duplicates(indexes bytea[], exclude uuid)
RETURNS TABLE (same_organisation boolean, reference text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
    SELECT organisation_id = haven_org(), CASE WHEN organisation_id = haven_org() THEN reference END
    FROM case_file
    WHERE blind_index = ANY (indexes) AND id IS DISTINCT FROM exclude AND anonymised_at IS NULL
    LIMIT 20
$$;

-- Anonymisation keeps what statistics need and nothing that identifies: these columns are
-- cleared by the retention task and by erasure on request.
COMMENT ON COLUMN case_file.identity_sealed IS 'identifying part, sealed; cleared by anonymisation';
