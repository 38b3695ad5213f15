-- The statements of GET /v1/me: token check, the user, the organisation.
WITH found AS (
    SELECT u.id, u.organisation_id, u.role, u.username, u.password_must_change
    FROM session s JOIN app_user u ON u.id = s.user_id
    WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - 1800::bigint * interval '1 second' AND u.active
), touched AS (
    UPDATE session SET last_seen_at = now()
    WHERE token_hash = :token_hash AND last_seen_at < now() - interval '30 seconds' AND EXISTS (SELECT 1 FROM found)
)
SELECT id, organisation_id, role, username, password_must_change FROM found;
SELECT id, organisation_id, role, username, display_name, active, totp_secret IS NOT NULL, locked_until, password_must_change, created_at, version FROM app_user WHERE id = :user_id;
SELECT id, name, type, country, region, service_types, regions_covered, populations, accepts_referrals, capacity_note, active, version FROM organisation WHERE id = :org_id;
