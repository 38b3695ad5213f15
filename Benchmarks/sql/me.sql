-- The statement of GET /v1/me when the session cache misses: the token check, which reads
-- the user and the organisation too.
WITH found AS (
    SELECT u.id, u.organisation_id, u.role, u.username, u.display_name, u.active, u.totp_secret IS NOT NULL AS second_factor,
           u.locked_until, u.password_must_change, u.created_at, u.version
    FROM session s JOIN app_user u ON u.id = s.user_id
    WHERE s.token_hash = :token_hash AND s.revoked_at IS NULL AND s.expires_at > now()
      AND s.last_seen_at > now() - 1800::bigint * interval '1 second' AND u.active
), touched AS (
    UPDATE session SET last_seen_at = now()
    WHERE token_hash = :token_hash AND last_seen_at < now() - interval '30 seconds' AND EXISTS (SELECT 1 FROM found)
)
SELECT f.id, f.organisation_id, f.role, f.username, f.display_name, f.active, f.second_factor, f.locked_until,
       f.password_must_change, f.created_at, f.version,
       o.id, o.name, o.type, o.country, o.region, o.service_types, o.regions_covered, o.populations, o.accepts_referrals,
       o.capacity_note, o.active, o.version
FROM found f JOIN organisation o ON o.id = f.organisation_id;
