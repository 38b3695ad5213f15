-- A supervisor asks for emergency access to another organisation's case by the reference they
-- were given: row-level security hides that case from them, so the lookup runs as the owner and
-- answers the id only, and only to a supervisor. Whether access is granted stays the access
-- policy's decision, and every grant is audited and reviewed (S19).
CREATE FUNCTION haven_case_by_reference(wanted text) RETURNS uuid LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = public AS $$
    SELECT id FROM case_file WHERE reference = wanted AND haven_role() = 'supervisor' ORDER BY created_at LIMIT 1
$$;

CREATE INDEX case_file_reference_idx ON case_file (reference);
