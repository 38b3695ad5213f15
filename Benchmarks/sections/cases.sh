# The case-management API (issue 4): each endpoint against pgbench running its statements at
# the same concurrency. Target ≥ 0.6 each; p99 reported.
BASE="http://127.0.0.1:$HAVEN_PORT"
APP_CONN=$BENCH_CONN
PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -Atq "$SUPERUSER" -c "$1"; }
if [ -z "${CW_TOKEN:-}" ]; then source "$ROOT/Benchmarks/sections/auth.sh"; fi

# A partner whose organisation has an open referral addressed to it.
REFERRAL_ID=$(sql "SELECT id FROM referral WHERE status = 'requested' ORDER BY id LIMIT 1")
read -r REF_CASE REF_CASE_ORG REF_TO <<<"$(sql "SELECT case_id, case_organisation_id, to_organisation_id FROM referral WHERE id = '$REFERRAL_ID'" | tr '|' ' ')"
PARTNER_NAME=$(sql "SELECT username FROM app_user WHERE organisation_id = '$REF_TO' AND role = 'partner' LIMIT 1")
PARTNER_TOKEN=$(python3 "$ROOT/Benchmarks/tools.py" login "$BASE" "$PARTNER_NAME" synthetic-seed-passphrase)
PARTNER_ID=$(sql "SELECT id FROM app_user WHERE username = '$PARTNER_NAME'")
read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired "$BASE/v1/referrals/$REFERRAL_ID" -H "Authorization: Bearer $PARTNER_TOKEN" -- \
    "$ROOT/Benchmarks/sql/referral_read.sql" "$APP_CONN" \
    -D "token_hash=$(python3 "$ROOT/Benchmarks/tools.py" token-hash "$PARTNER_TOKEN")" -D "user_id=$PARTNER_ID" -D "org_id=$REF_TO" \
    -D "referral_id=$REFERRAL_ID" -D "case_id=$REF_CASE" -D "case_org=$REF_CASE_ORG")"
row "GET /v1/referrals/{id} as the partner vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.6"

# New referrals on one of the caseworker's open cases, for a need whose service the recipient's
# mandate covers, under a live consent naming that recipient for the profile.
read -r REF_CASE CONSENT_ID RECIPIENT SERVICE <<<"$(sql "SELECT c.id, k.id, lower(p->>'recipient_organisation'), n.service_type
    FROM case_file c JOIN consent k ON k.case_id = c.id AND k.withdrawn_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
    CROSS JOIN LATERAL jsonb_array_elements(k.provisions) p
    JOIN need n ON n.case_id = c.id
    JOIN organisation o ON o.id = (p->>'recipient_organisation')::uuid AND o.accepts_referrals AND n.service_type = ANY(o.service_types)
    WHERE c.assigned_to = '$CW_ID' AND c.status = 'open' AND p->'categories' ? 'profile' LIMIT 1" | tr '|' ' ')"
BODY="{\"to_organisation\":\"$RECIPIENT\",\"service_type\":\"$SERVICE\",\"consent_id\":\"$CONSENT_ID\",\"shared_categories\":[\"profile\"]}"
status=$(curl -s -o "$WORK/referral-check.json" -w '%{http_code}' -X POST -H "Content-Type: application/json" -H "Authorization: Bearer $CW_TOKEN" \
    -d "$BODY" "$BASE/v1/cases/$REF_CASE/referrals")
[ "$status" = 201 ] || { echo "the referral benchmark's request is refused ($status):"; cat "$WORK/referral-check.json"; exit 1; }
cat >"$WORK/referral.lua" <<LUA
wrk.method = "POST"
wrk.body = '$BODY'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $CW_TOKEN"
done = function(summary, latency, requests) io.write(string.format("p95_us %d\\n", latency:percentile(95))) end
LUA
read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired "$BASE/v1/cases/$REF_CASE/referrals" -s "$WORK/referral.lua" -- \
    "$ROOT/Benchmarks/sql/referral_create.sql" "$APP_CONN" "${VARS[@]}" \
    -D "case_id=$REF_CASE" -D "recipient=$RECIPIENT" -D "consent_id=$CONSENT_ID" -D "service=$SERVICE")"
row "POST /v1/cases/{id}/referrals vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.6"

read -r rps p99 err p95 limit limit_p99 r spread <<<"$(paired "$BASE/v1/cases?status=open&limit=50" "${AUTH[@]}" -- \
    "$ROOT/Benchmarks/sql/case_list.sql" "$APP_CONN" "${VARS[@]}")"
LIST_P95_SMALL=$p95
row "GET /v1/cases?status=open&limit=50 vs pgbench ($(sql "SELECT count(*) FROM case_file") cases)" "$rps" "$p99 (p95 $p95)" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.6"
