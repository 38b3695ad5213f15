#!/usr/bin/env bash
# Alternates two haven binaries on one seeded database and reports, per run, requests per second
# and the CPU each request cost haven and PostgreSQL (utime + stime from /proc). On a shared host
# whose speed swings within minutes, alternating many short runs is what tells a 3% change from
# noise; compare req/s over at least ten alternations.
#
#   Benchmarks/ab.sh OLD_BINARY NEW_BINARY [PATH] [ROUNDS] [SECONDS]
#   Benchmarks/ab.sh /tmp/haven-before .build/release/haven /v1/cases/{id} 10 8
#   ARGS_B="--event-loop-threads 2" Benchmarks/ab.sh BIN BIN   # one binary, two settings
#
# PATH may hold {id}: the first case the seeded caseworker sees. PATH `referral-create` posts new
# referrals instead, as Benchmarks/sections/cases.sh does (on one of the caseworker's open cases,
# under a live consent naming the recipient). The seeded folder is kept in $AB_WORK (default
# /tmp/haven-ab) for the next comparison; delete it to start afresh.
#
#   ARGS_B=--no-delivery Benchmarks/ab.sh BIN BIN referral-create   # what delivering notifications costs
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
A=$(realpath "$1"); B=$(realpath "$2"); TARGET=${3:-/v1/cases/\{id\}}; ROUNDS=${4:-6}; SECS=${5:-8}
W=${AB_WORK:-/tmp/haven-ab}
PORT=${AB_PORT:-8181}
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
TOOLS="$ROOT/Benchmarks/tools.py"
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
ready() { for _ in $(seq 1 240); do curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && return 0; sleep 0.25; done; return 1; }
export HAVEN_LOG_LEVEL=warning

if [ ! -f "$W/ready" ]; then
    rm -rf "$W"; mkdir -p "$W"; chmod 755 "$W"
    python3 -c "import secrets; print('k1', secrets.token_hex(32))" >"$W/keys"; chmod 600 "$W/keys"
    "$A" serve --port "$PORT" --data-dir "$W/pg" --keys-file "$W/keys" --login-rate 1000000 >/dev/null 2>>"$W/log" &
    seeding=$!
    ready || { echo "haven did not become ready"; cat "$W/log"; exit 1; }
    "$A" dev seed --cases 10000 --data-dir "$W/pg" --keys-file "$W/keys" --logins "$W/logins.json" >/dev/null 2>>"$W/log"
    kill "$seeding"; wait "$seeding" 2>/dev/null || true
    touch "$W/ready"
fi
# PostgreSQL runs on its own for the whole comparison, so both binaries meet the same cluster.
as_postgres "$PGBIN/pg_ctl" status -D "$W/pg" >/dev/null 2>&1 || as_postgres "$PGBIN/pg_ctl" start -D "$W/pg" -l "$W/pg/server.log" -w >/dev/null
trap 'as_postgres "$PGBIN/pg_ctl" stop -D "$W/pg" -m fast >/dev/null 2>&1 || true' EXIT
export DATABASE_URL="host=$W/pg port=5432 user=haven_app dbname=haven"
export HAVEN_MIGRATION_DATABASE_URL="host=$W/pg port=5432 user=haven_owner dbname=haven"

start() { "$1" serve --port "$PORT" --keys-file "$W/keys" --login-rate 1000000 ${2:-} >/dev/null 2>>"$W/log" & echo $!; }
pid=$(start "$A"); ready
CASEWORKER=$(python3 "$TOOLS" login-field "$W/logins.json" caseworker 0 username)
TOKEN=$(python3 "$TOOLS" login "http://127.0.0.1:$PORT" "$CASEWORKER" synthetic-seed-passphrase)
CASE=$(python3 "$TOOLS" get "http://127.0.0.1:$PORT/v1/cases?limit=1" "$TOKEN" items.0.id)
SCRIPT=()
if [ "$TARGET" = referral-create ]; then
    psql_owner() { "$PGBIN/psql" -Atq "$HAVEN_MIGRATION_DATABASE_URL" -c "$1"; }
    CW_ID=$(psql_owner "SELECT id FROM app_user WHERE username = '$CASEWORKER'")
    read -r CASE CONSENT RECIPIENT SERVICE <<<"$(psql_owner "SELECT c.id, k.id, lower(p->>'recipient_organisation'), n.service_type
        FROM case_file c JOIN consent k ON k.case_id = c.id AND k.withdrawn_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())
        CROSS JOIN LATERAL jsonb_array_elements(k.provisions) p JOIN need n ON n.case_id = c.id
        JOIN organisation o ON o.id = (p->>'recipient_organisation')::uuid AND o.accepts_referrals AND n.service_type = ANY(o.service_types)
        WHERE c.assigned_to = '$CW_ID' AND c.status = 'open' AND p->'categories' ? 'profile' LIMIT 1" | tr '|' ' ')"
    cat >"$W/referral.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"to_organisation":"$RECIPIENT","service_type":"$SERVICE","consent_id":"$CONSENT","shared_categories":["profile"]}'
wrk.headers["Content-Type"] = "application/json"
LUA
    SCRIPT=(-s "$W/referral.lua")
    TARGET="/v1/cases/{id}/referrals"
fi
kill "$pid"; wait "$pid" 2>/dev/null || true
URL="http://127.0.0.1:$PORT${TARGET/\{id\}/$CASE}"

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
postgres_ticks() { for p in $(pgrep -u postgres postgres || pgrep -x postgres); do ticks "$p"; done | awk '{s += $1} END {print s + 0}'; }
run() { # binary label extra-args
    local pid; pid=$(start "$1" "${3:-}"); ready
    wrk -t2 -c64 -d2s "${SCRIPT[@]}" -H "Authorization: Bearer $TOKEN" "$URL" >/dev/null 2>&1
    local h0 p0 h1 p1 out
    h0=$(ticks "$pid"); p0=$(postgres_ticks)
    out=$(wrk -t2 -c64 -d"${SECS}s" "${SCRIPT[@]}" -H "Authorization: Bearer $TOKEN" "$URL" 2>&1)
    h1=$(ticks "$pid"); p1=$(postgres_ticks)
    kill "$pid"; wait "$pid" 2>/dev/null || true
    python3 - "$2" "$out" "$((h1 - h0))" "$((p1 - p0))" "$SECS" <<'PY'
import re, sys
label, out, haven, pg, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
n = int(re.search(r"(\d+) requests in", out).group(1))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
tick_ms = 1000 / 100  # USER_HZ
print(f"{label} rps={n / secs:.0f} haven_ms/req={haven * tick_ms / n:.3f} pg_ms/req={pg * tick_ms / n:.3f} non2xx={bad.group(1) if bad else 0}")
PY
}
for _ in $(seq 1 "$ROUNDS"); do run "$A" A "${ARGS_A:-}"; run "$B" B "${ARGS_B:-}"; done | tee "$W/last.txt"
python3 - "$W/last.txt" <<'PY'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
def field(row, name): return float(next(x for x in row if x.startswith(name + "=")).split("=")[1])
a = [r for r in rows if r[0] == "A"]; b = [r for r in rows if r[0] == "B"]
for label, runs in (("A", a), ("B", b)):
    print(label, "median req/s", statistics.median(field(r, "rps") for r in runs),
          "haven ms/req", round(statistics.median(field(r, "haven_ms/req") for r in runs), 4),
          "postgres ms/req", round(statistics.median(field(r, "pg_ms/req") for r in runs), 4))
faster = sum(field(y, "rps") > field(x, "rps") for x, y in zip(a, b))
print(f"B faster in {faster} of {len(a)} alternations")
PY
