#!/usr/bin/env bash
# Fault drill: a statement timeout, a full connection pool, and the database going away, each
# answered with a clear 503 problem+json while haven stays up and /readyz tells the truth.
#
# haven runs with --statement-timeout-ms 3000 --pool-size 2 --pool-timeout 1. A psql session
# locks a case row (SELECT ... FOR UPDATE, held open with pg_sleep):
#   1. a PATCH of that case waits on the lock until the statement timeout cancels it → 503
#      ("the database took too long") after about 3 s, not a hang;
#   2. 16 concurrent PATCHes of it: two hold the pool, the rest get 503 within the pool timeout;
#      /readyz says 503 ("no connection free") meanwhile and /healthz still answers; once the lock
#      is gone, /readyz 200 and the PATCH succeeds;
#   3. PostgreSQL stopped: /readyz 503, API requests 503 at once; started: both recover within 5 s.
# Then haven must still be the same running process.
#
#   scripts/drill-timeouts.sh            # quick (about a minute); LONG=1 runs the scenario 3 times
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-timeouts
ROUNDS=1; [ -n "${LONG:-}" ] && ROUNDS=${ROUNDS_LONG:-3}
STATEMENT_TIMEOUT_MS=3000
POOL_TIMEOUT=1

work_init timeouts
haven_build
say "seeding"
seed_fixture 500 0
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
haven_start main "$PORT" --pool-size 2 --pool-timeout "$POOL_TIMEOUT" --statement-timeout-ms "$STATEMENT_TIMEOUT_MS"
say "haven ready on $BASE (pid $PID_main): --statement-timeout-ms $STATEMENT_TIMEOUT_MS --pool-size 2 --pool-timeout $POOL_TIMEOUT"
USER_NAME=$(python3 "$ROOT/Benchmarks/tools.py" login-field "$WORK/logins.json" caseworker 0 username)

status=0
: >"$WORK/rounds.jsonl"
for round in $(seq 1 "$ROUNDS"); do
    set +e
    python3 "$ROOT/Benchmarks/load/timeouts.py" --base "$BASE" --username "$USER_NAME" --password synthetic-seed-passphrase \
        --superuser-db "$SUPERUSER_DB" --psql "$PSQL" --pg-ctl "$PG_CTL" --data-dir "$WORK/pg" \
        --statement-timeout "$(python3 -c "print($STATEMENT_TIMEOUT_MS / 1000)")" --pool-timeout "$POOL_TIMEOUT" >>"$WORK/rounds.jsonl"
    [ $? -eq 0 ] || status=1
    set -e
    tail -1 "$WORK/rounds.jsonl" | python3 -m json.tool
done
alive=no; kill -0 "$PID_main" 2>/dev/null && alive=yes
[ "$alive" = yes ] || { status=1; say "haven is gone"; tail -20 "$WORK/main.log"; }
unexpected_errors=$(grep -c "unexpected error\|database error" "$WORK/main.log" || true)

DRILL_FACTS=$(python3 - "$WORK/rounds.jsonl" "$alive" "$ROUNDS" "$unexpected_errors" <<'PY'
import json, sys
rounds = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
print(json.dumps({"rounds": int(sys.argv[3]), "haven_alive": sys.argv[2] == "yes", "last": rounds[-1] if rounds else {},
                  "errors_logged": int(sys.argv[4]), "problems": [p for r in rounds for p in r.get("problems", [])]}))
PY
)
export DRILL_FACTS
summary=$(python3 - "$DRILL_FACTS" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
r = f["last"]
st, fp, dd = r.get("statement_timeout", {}), r.get("full_pool", {}), r.get("database_down", {})
print(f"{f['rounds']} round(s): statement timeout 3 s → {st.get('status')} after {st.get('seconds')} s (\"{st.get('problem')}\"); "
      f"full pool (2 connections, 1 s acquire timeout, {fp.get('requests')} concurrent) → {fp.get('statuses')} in {fp.get('fastest_s')}–{fp.get('slowest_s')} s, "
      f"/readyz {fp.get('readyz_while_busy', {}).get('status')} meanwhile, /healthz {fp.get('healthz_while_busy', {}).get('statuses')}; "
      f"database down → API {dd.get('api_status')} in {dd.get('api_seconds')} s, /readyz {dd.get('readyz_status')}, back: first 2xx "
      f"{dd.get('first_2xx_after_db_back_s')} s, /readyz 200 {dd.get('readyz_200_after_db_back_s')} s; haven still running: {f['haven_alive']}")
PY
)
if [ "$status" -eq 0 ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary; problems: $(python3 -c "import json,sys; print('; '.join(json.loads(sys.argv[1])['problems']))" "$DRILL_FACTS")"
    exit 1
fi
