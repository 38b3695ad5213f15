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
read -r rps p99 err _ <<<"$(measure "$BASE/v1/referrals/$REFERRAL_ID" -H "Authorization: Bearer $PARTNER_TOKEN")"
read -r limit limit_p99 <<<"$(pgbench_limit "$ROOT/Benchmarks/sql/referral_read.sql" "$APP_CONN" \
    -D "token_hash=$(python3 "$ROOT/Benchmarks/tools.py" token-hash "$PARTNER_TOKEN")" -D "user_id=$PARTNER_ID" -D "org_id=$REF_TO" \
    -D "referral_id=$REFERRAL_ID" -D "case_id=$REF_CASE" -D "case_org=$REF_CASE_ORG")"
row "GET /v1/referrals/{id} as the partner vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$(ratio "$rps" "$limit")" "≥ 0.6"

# New referrals on the caseworker's case, under its seeded consent.
read -r CONSENT_ID RECIPIENT <<<"$(sql "SELECT id, lower(provisions->0->>'recipient_organisation') FROM consent WHERE case_id = '$CASE_ID' LIMIT 1" | tr '|' ' ')"
SERVICE=$(sql "SELECT service_type FROM need WHERE case_id = '$CASE_ID' LIMIT 1")
cat >"$WORK/referral.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"to_organisation":"$RECIPIENT","service_type":"$SERVICE","consent_id":"$CONSENT_ID","shared_categories":["profile"]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $CW_TOKEN"
done = function(summary, latency, requests) io.write(string.format("p95_us %d\n", latency:percentile(95))) end
LUA
read -r rps p99 err _ <<<"$(measure "$BASE/v1/cases/$CASE_ID/referrals" -s "$WORK/referral.lua")"
read -r limit limit_p99 <<<"$(pgbench_limit "$ROOT/Benchmarks/sql/referral_create.sql" "$APP_CONN" "${VARS[@]}" \
    -D "recipient=$RECIPIENT" -D "consent_id=$CONSENT_ID" -D "service=$SERVICE")"
row "POST /v1/cases/{id}/referrals vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$(ratio "$rps" "$limit")" "≥ 0.6"

read -r rps p99 err p95 <<<"$(measure "$BASE/v1/cases?status=open&limit=50" "${AUTH[@]}")"
LIST_P95_SMALL=$p95
read -r limit limit_p99 <<<"$(pgbench_limit "$ROOT/Benchmarks/sql/case_list.sql" "$APP_CONN" "${VARS[@]}")"
row "GET /v1/cases?status=open&limit=50 vs pgbench ($(sql "SELECT count(*) FROM case_file") cases)" "$rps" "$p99 (p95 $p95)" "$err" "$limit (p99 $limit_p99)" "$(ratio "$rps" "$limit")" "≥ 0.6"
