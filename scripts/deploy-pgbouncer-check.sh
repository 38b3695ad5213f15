#!/usr/bin/env bash
# Proves deploy/pgbouncer/: a temp PostgreSQL, PgBouncer (Debian package) in transaction mode in
# front of it with the shipped pgbouncer.ini (only ports, paths and the server address changed;
# TLS to the server is proved by deploy-pg-tls-check.sh), and `haven serve --pgbouncer` through
# it. Seeds data straight into PostgreSQL, runs the benchmark's referral workload through
# haven → PgBouncer (wrk: caseworkers POST referrals, the recipient's partner GETs each one),
# asserts every answer was 2xx, shows PostgreSQL saw only PgBouncer's few server connections
# and that haven set its statement timeout in every transaction (pg_stat_statements: as many
# set_config('statement_timeout', …) calls as BEGINs, at least), then `haven audit verify`, as
# the application role straight to PostgreSQL, must say OK.
#   DURATION (default 10 s) and CONNECTIONS (default 16) size the wrk run.
DEPLOY_NAME=pgbouncer-check
source "$(dirname "$0")/deploy-lib.sh"
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-32}
HAVEN_POOL=${HAVEN_POOL:-40}

for tool in pgbouncer:pgbouncer wrk:wrk; do
    command -v "${tool%%:*}" >/dev/null || { apt-get install -y -qq "${tool#*:}" >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq "${tool#*:}" >/dev/null; }; }
done
haven_install

say "PostgreSQL (temp cluster), production roles, seeded directly"
PGPORT=$(free_port)
pg_new pg "$PGPORT"
printf "shared_preload_libraries = 'pg_stat_statements'\npg_stat_statements.track = all\n" >>"$WORK/pg/postgresql.conf"
pg_start pg
pg_haven_roles "$PGPORT"
su_psql "$PGPORT" haven -c "CREATE EXTENSION pg_stat_statements" >/dev/null
STATS_PW=$(openssl rand -hex 16)
su_psql "$PGPORT" postgres -v pw="$STATS_PW" <<'SQL'
CREATE ROLE pgbouncer_stats LOGIN PASSWORD :'pw';
-- haven sets its timeout per transaction; this covers what it sends outside one (token check).
ALTER ROLE haven_api SET statement_timeout = '30s';
SQL
new_key_file "$WORK/keys"
export HAVEN_KEYS_FILE=$WORK/keys
DIRECT_APP=$(app_url "$PGPORT"); DIRECT_OWNER=$(owner_url "$PGPORT")
DATABASE_URL=$DIRECT_APP HAVEN_MIGRATION_DATABASE_URL=$DIRECT_OWNER "$HAVEN" migrate
# Operator commands need only the application role once the schema is current.
DATABASE_URL=$DIRECT_APP "$HAVEN" dev seed --cases 300 --organisations 4 --logins "$WORK/logins.json"

say "PgBouncer (transaction mode) with deploy/pgbouncer/pgbouncer.ini"
BP=$(free_port)
PB=$WORK/pgbouncer
mkdir -p "$PB" && chown postgres:postgres "$PB" && chmod 700 "$PB"
sed -e "s|^haven = host=db-primary.internal port=5432 |haven = host=127.0.0.1 port=$PGPORT |" \
    -e "s|^listen_port = 6432|listen_port = $BP|" \
    -e "s|^auth_file = .*|auth_file = $PB/userlist.txt|" \
    -e "s|^server_tls_sslmode = verify-full|server_tls_sslmode = disable|" \
    -e "s|^server_tls_ca_file = .*|server_tls_ca_file =|" \
    -e "s|^logfile =\$|logfile = $PB/pgbouncer.log|" \
    -e "s|^pidfile = .*|pidfile = $PB/pgbouncer.pid|" \
    "$DEPLOY_ROOT/deploy/pgbouncer/pgbouncer.ini" >"$PB/pgbouncer.ini"
echo "changes to deploy/pgbouncer/pgbouncer.ini for this run:"
diff "$DEPLOY_ROOT/deploy/pgbouncer/pgbouncer.ini" "$PB/pgbouncer.ini" | grep '^>' || true
# The userlist exactly as userlist.txt.example says: its comments, then SCRAM secrets from pg_authid.
{
    grep '^;' "$DEPLOY_ROOT/deploy/pgbouncer/userlist.txt.example"
    su_psql "$PGPORT" postgres -Atc "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid WHERE rolname IN ('haven_api', 'pgbouncer_stats') ORDER BY 1"
} >"$PB/userlist.txt"
chown postgres:postgres "$PB"/*; chmod 600 "$PB/userlist.txt"
grep -c 'SCRAM-SHA-256\$4096:' "$PB/userlist.txt" | sed 's/^/SCRAM secrets in the userlist: /'
echo "127.0.0.1:$BP:pgbouncer:pgbouncer_stats:$STATS_PW" >>"$PGPASSFILE"
(exec_as_postgres pgbouncer "$PB/pgbouncer.ini") >>"$PB/stderr.log" 2>&1 &
DEPLOY_PIDS+=($!)
for _ in $(seq 1 40); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$BP" -U haven_api -d haven && break; sleep 0.25; done
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$BP" -U haven_api -d haven || { cat "$PB/pgbouncer.log"; fail "PgBouncer did not start"; }
"$PGBIN/psql" -X -Atc "SHOW CONFIG" "postgresql://pgbouncer_stats@127.0.0.1:$BP/pgbouncer" | grep -E '^(pool_mode|auth_type|default_pool_size)\|' | cut -d'|' -f1,2

say "haven --pgbouncer through PgBouncer"
HP=$(free_port)
export DATABASE_URL=$(app_url "$BP") HAVEN_STATEMENT_TIMEOUT_MS=30000 HAVEN_LOGIN_RATE=100000
echo "DATABASE_URL=$DATABASE_URL HAVEN_STATEMENT_TIMEOUT_MS=$HAVEN_STATEMENT_TIMEOUT_MS"
haven_serve "$WORK/haven.log" --port "$HP" --pgbouncer --no-migrate --pool-size "$HAVEN_POOL"
wait_http "http://127.0.0.1:$HP/readyz" || { tail "$WORK/haven.log"; fail "haven not ready through PgBouncer"; }
BASE=http://127.0.0.1:$HP
curl -s "$BASE/readyz"; echo

say "referral workload"
# A caseworker's case with a consent, the consent's recipient organisation, and its partner.
read -r CW_NAME PARTNERS <<<"$(python3 -c '
import json, sys
logins = json.load(open(sys.argv[1]))["logins"]
print(next(l["username"] for l in logins if l["role"] == "caseworker"),
      ",".join(l["organisation_id"].lower() + "=" + l["username"] for l in logins if l["role"] == "partner"))' "$WORK/logins.json")"
CW_TOKEN=$(login "$BASE" "$CW_NAME" synthetic-seed-passphrase)
# An open case of this caseworker with a live consent whose provision covers "profile".
CASES=$(curl -s -H "Authorization: Bearer $CW_TOKEN" "$BASE/v1/cases?status=open&limit=100" | python3 -c 'import json,sys; print(",".join(i["id"] for i in json.load(sys.stdin)["items"]))')
read -r CASE_ID CONSENT_ID RECIPIENT SERVICE <<<"$(su_psql "$PGPORT" haven -Atc "
    SELECT k.case_id, k.id, lower(k.provisions->0->>'recipient_organisation'),
           coalesce((SELECT service_type FROM need WHERE case_id = k.case_id LIMIT 1), 'counselling')
    FROM consent k
    WHERE k.case_id = ANY('{$CASES}'::uuid[]) AND k.withdrawn_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now() + interval '1 day')
      AND k.provisions->0->'categories' ? 'profile'
    ORDER BY k.case_id LIMIT 1" | tr '|' ' ')"
[ -n "$CASE_ID" ] || fail "no open case with a usable consent"
PARTNER_NAME=$(tr ',' '\n' <<<"$PARTNERS" | awk -F= -v org="$RECIPIENT" '$1 == org {print $2; exit}')
[ -n "$PARTNER_NAME" ] || fail "no partner in the recipient organisation $RECIPIENT"
PARTNER_TOKEN=$(login "$BASE" "$PARTNER_NAME" synthetic-seed-passphrase)
BODY="{\"to_organisation\":\"$RECIPIENT\",\"service_type\":\"${SERVICE:-counselling}\",\"consent_id\":\"$CONSENT_ID\",\"shared_categories\":[\"profile\"]}"
read -r code body <<<"$(api POST "$BASE/v1/cases/$CASE_ID/referrals" "$CW_TOKEN" "$BODY")"
echo "probe: POST /v1/cases/{id}/referrals as $CW_NAME -> $code"; [ "$code" = 201 ] || fail "probe referral: $code $body"
REF_ID=$(json_field id <<<"$body")
read -r code _ <<<"$(api GET "$BASE/v1/referrals/$REF_ID" "$PARTNER_TOKEN")"
echo "probe: GET /v1/referrals/{id} as $PARTNER_NAME -> $code"; [ "$code" = 200 ] || fail "probe read: $code"
BEFORE=$(su_psql "$PGPORT" haven -Atc "SELECT count(*) FROM referral")
su_psql "$PGPORT" haven -Atc "SELECT pg_stat_statements_reset()" >/dev/null

cat >"$WORK/referrals.lua" <<LUA
-- Caseworkers POST referrals; each one created is then read by the recipient's partner.
local post_path = "/v1/cases/$CASE_ID/referrals"
local post_headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer $CW_TOKEN" }
local get_headers = { ["Authorization"] = "Bearer $PARTNER_TOKEN" }
local body = '$BODY'
local queue = {}
local threads = {}
statuses = {}
first_bad = ""

function setup(thread) table.insert(threads, thread) end

function request()
  local id = table.remove(queue)
  if id then return wrk.format("GET", "/v1/referrals/" .. id, get_headers) end
  return wrk.format("POST", post_path, post_headers, body)
end

function response(status, headers, response_body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    local id = response_body:match('"id"%s*:%s*"([^"]+)"')
    if id then table.insert(queue, id) end
  elseif status ~= 200 and first_bad == "" then
    first_bad = status .. " " .. response_body:sub(1, 300)
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do total[status] = (total[status] or 0) + count end
    local bad = thread:get("first_bad")
    if bad ~= "" then io.write("first_bad " .. bad .. "\n") end
  end
  for status, count in pairs(total) do io.write(string.format("status %d %d\n", status, count)) end
  io.write(string.format("errors connect=%d read=%d write=%d timeout=%d status=%d\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("p99_ms %.1f\n", latency:percentile(99) / 1000))
end
LUA
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s -s "$WORK/referrals.lua" "$BASE" >"$WORK/wrk.out" 2>&1 || { cat "$WORK/wrk.out"; fail "wrk"; }
grep -E 'Requests/sec|^status|^errors|^p99|^first_bad' "$WORK/wrk.out"
posts=$(awk '$1 == "status" && $2 == 201 {print $3}' "$WORK/wrk.out"); posts=${posts:-0}
gets=$(awk '$1 == "status" && $2 == 200 {print $3}' "$WORK/wrk.out"); gets=${gets:-0}
other=$(awk '$1 == "status" && $2 != 200 && $2 != 201 {s += $3} END {print s + 0}' "$WORK/wrk.out")
errors=$(awk '$1 == "errors" {split($0, a, /[= ]/); s = 0; for (i = 3; i <= length(a); i += 2) s += a[i]; print s}' "$WORK/wrk.out")
echo "referrals created: $posts, read by the partner: $gets, other statuses: $other, socket errors or non-2xx: $errors"
[ "$posts" -gt 0 ] && [ "$gets" -gt 0 ] || fail "the workload did not run"
[ "$other" = 0 ] && [ "$errors" = 0 ] || fail "non-2xx answers or socket errors through PgBouncer"
AFTER=$(su_psql "$PGPORT" haven -Atc "SELECT count(*) FROM referral")
created=$((AFTER - BEFORE))
echo "referral rows in PostgreSQL: $BEFORE -> $AFTER (+$created; wrk stops with up to $CONNECTIONS requests in flight, uncounted)"
[ "$created" -ge "$posts" ] && [ "$created" -le $((posts + CONNECTIONS)) ] || fail "rows created ($created) do not match 201 answers ($posts)"

say "pooling"
"$PGBIN/psql" -X -A -F'|' -c "SHOW POOLS" "postgresql://pgbouncer_stats@127.0.0.1:$BP/pgbouncer" | awk -F'|' '
    NR == 1 {for (i = 1; i <= NF; i++) col[$i] = i; next}
    $1 == "haven" {print "PgBouncer pool haven/" $2 ": mode " $col["pool_mode"] ", client connections " $col["cl_active"] + $col["cl_waiting"] ", server connections " $col["sv_active"] + $col["sv_idle"] + $col["sv_used"] + $col["sv_tested"] + $col["sv_login"]}'
"$PGBIN/psql" -X -Atc "SHOW STATS" "postgresql://pgbouncer_stats@127.0.0.1:$BP/pgbouncer" | awk -F'|' '$1 == "haven" {print "PgBouncer: " $2 " transactions, " $3 " queries for database haven"}'
servers=$(su_psql "$PGPORT" postgres -Atc "SELECT count(*) FROM pg_stat_activity WHERE usename = 'haven_api'")
echo "haven pool: up to $HAVEN_POOL connections to PgBouncer; PostgreSQL sees $servers server connections of haven_api (default_pool_size 20)"
[ "$servers" -le 25 ] || fail "PgBouncer did not bound server connections"
read -r begins timeouts <<<"$(su_psql "$PGPORT" haven -Atc "
    SELECT coalesce(sum(calls) FILTER (WHERE query ~* '^(BEGIN|START TRANSACTION)'), 0),
           coalesce(sum(calls) FILTER (WHERE query ~ '^SELECT set_config\(\\\$[0-9]+, \\\$[0-9]+, \\\$[0-9]+\)\$'), 0)
    FROM pg_stat_statements" | tr '|' ' ')"
echo "during the workload PostgreSQL ran $begins BEGINs and $timeouts set_config('statement_timeout', …): haven sets its timeout in every transaction"
[ "$begins" -gt 0 ] && [ "$timeouts" -ge "$begins" ] || fail "haven did not set statement_timeout per transaction"
statement_timeout=$(DATABASE_URL= "$PGBIN/psql" -X -Atc "SHOW statement_timeout" "$(app_url "$BP")")
echo "statement_timeout of haven_api's role, for statements outside a transaction: $statement_timeout"

say "audit trail (operator command: application role, straight to PostgreSQL)"
DATABASE_URL=$DIRECT_APP HAVEN_MIGRATION_DATABASE_URL= "$HAVEN" audit verify | tee "$WORK/verify.out"
grep -q '^OK' "$WORK/verify.out" || fail "audit verify"
