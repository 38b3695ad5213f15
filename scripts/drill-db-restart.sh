#!/usr/bin/env bash
# Fault drill: PostgreSQL goes away under load and comes back.
#
# haven runs with --pool-timeout 2 on its embedded cluster; Benchmarks/load.py drives the mixed
# workload; meanwhile the cluster is stopped (pg_ctl stop -m fast), kept down a few seconds and
# started again, and /readyz is probed every 100 ms. Asserted:
#   - requests during the outage get 503 problem+json, none slower than the pool timeout + 1 s;
#   - /readyz says 503 while the database is down;
#   - haven recovers by itself: the first 2xx within 5 s of the database being back, /readyz 200 too;
#   - no acknowledged write lost, audit events one for one, `haven audit verify` OK.
#
#   scripts/drill-db-restart.sh          # quick: 64 connections, 30 s, one 3 s outage
#   LONG=1 scripts/drill-db-restart.sh   # 90 s, three outages (3 s, 6 s, and a pg_ctl restart)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-db-restart
POOL_TIMEOUT=2
if [ -n "${LONG:-}" ]; then DURATION=${DURATION:-90}; OUTAGES=${OUTAGES:-"3 6 restart"}; else DURATION=${DURATION:-30}; OUTAGES=${OUTAGES:-"3"}; fi
CONNECTIONS=${CONNECTIONS:-64}

work_init db-restart
haven_build
say "seeding"
seed_fixture "${CASES:-3000}" 4
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
haven_start main "$PORT" --pool-size 10 --pool-timeout "$POOL_TIMEOUT"
say "haven ready on $BASE; load: $CONNECTIONS connections for $DURATION s; outages: $OUTAGES"

python3 "$ROOT/Benchmarks/load/probe.py" "$BASE/readyz" "$WORK/probe.csv" --interval 0.1 --stop-file "$WORK/stop" --limit $((DURATION + 120)) &
PIDS+=($!)
load_run --duration "$DURATION" --connections "$CONNECTIONS" --tolerate 503 --max-503-seconds $((POOL_TIMEOUT + 1)) \
    --request-timeout 15 --events "$WORK/events.csv" --json-out "$WORK/load.json" --ready-file "$WORK/ready" \
    --audit-verify "$(audit_verify_cmd)" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
for _ in $(seq 1 600); do [ -f "$WORK/ready" ] && break; kill -0 $LOAD_PID 2>/dev/null || break; sleep 0.1; done
[ -f "$WORK/ready" ] || { cat "$WORK/load.out"; result "$NAME" FAIL "the load did not start"; exit 1; }

WINDOWS=()
count=$(echo $OUTAGES | wc -w)
gap=$(( DURATION / (count + 1) ))
for outage in $OUTAGES; do
    sleep "$gap"
    begin=$(now)
    if [ "$outage" = restart ]; then
        say "pg_ctl restart -m fast"
        $PG_CTL restart -D "$WORK/pg" -m fast -w -l "$WORK/pg/server.log" >/dev/null
    else
        say "stopping PostgreSQL for $outage s"
        $PG_CTL stop -D "$WORK/pg" -m fast -w >/dev/null
        sleep "$outage"
        $PG_CTL start -D "$WORK/pg" -w -l "$WORK/pg/server.log" >/dev/null
    fi
    returned=$(now)
    # The moments that count come from PostgreSQL's own log: shutdown request received, ready again
    # (pg_ctl itself returns a little later). Without them: when pg_ctl was asked and returned.
    read -r stopped up <<<"$(python3 "$ROOT/Benchmarks/load/analyse.py" pglog "$WORK/pg/server.log" --since "$begin")"
    [ "$up" != "0.000" ] || up=$returned
    say "PostgreSQL was down $(python3 -c "print(round($up - $stopped, 2))") s (shutdown request to ready)"
    WINDOWS+=(--window "$begin" "$stopped" "$up")
done

set +e
wait $LOAD_PID
load_status=$?
set -e
touch "$WORK/stop"
sleep 0.3
cat "$WORK/load.out"
kill -0 "$PID_main" 2>/dev/null && alive=yes || alive=no

set +e
facts=$(python3 "$ROOT/Benchmarks/load/analyse.py" outage "$WORK/events.csv" "$WORK/probe.csv" "${WINDOWS[@]}" --pool-timeout "$POOL_TIMEOUT")
analysis_status=$?
set -e
echo "$facts" | python3 -m json.tool
DRILL_FACTS=$(python3 - "$WORK/load.json" "$facts" "$alive" "$DURATION" "$OUTAGES" "$CONNECTIONS" <<'PY'
import json, sys
load = json.load(open(sys.argv[1])) if sys.argv[1] else {}
facts = json.loads(sys.argv[2])
keep = {k: load.get(k) for k in ("requests", "rps", "p50_ms", "p99_ms", "statuses", "unexpected", "known_bugs", "lapsed_sweep_deadlocks", "creates_checked", "transitions_checked",
                                   "audit_events_expected", "audit_events_found", "in_doubt_requests", "in_doubt_with_events", "audit_verify")}
print(json.dumps({"load": keep, "windows": facts.get("windows"), "haven_alive": sys.argv[3] == "yes", "duration_s": int(sys.argv[4]),
                  "outages": sys.argv[5], "connections": int(sys.argv[6]), "problems": facts.get("problems", []) + load.get("problems", [])}))
PY
)
export DRILL_FACTS
summary=$(python3 - "$DRILL_FACTS" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
w = f["windows"] or [{}]
print(f"{len(w)} outage(s) under {f['connections']} connections: {sum(x.get('answered_503_during_outage', 0) for x in w)} quick 503s "
      f"(slowest {max(x.get('slowest_503_s', 0) for x in w)} s), first 2xx {max(x.get('first_2xx_after_db_back_s', 99) for x in w)} s "
      f"after the database was back, /readyz 200 after {max(x.get('readyz_200_after_db_back_s', 99) for x in w)} s; "
      f"{f['load'].get('creates_checked')} acknowledged creates and {f['load'].get('transitions_checked')} transitions all present; "
      f"audit {f['load'].get('audit_events_found')}/{f['load'].get('audit_events_expected')} events (+{f['load'].get('in_doubt_with_events')} in-doubt committed); "
      f"{f['load'].get('audit_verify')}")
PY
)
if [ "$load_status" -eq 0 ] && [ "$analysis_status" -eq 0 ] && [ "$alive" = yes ]; then
    result "$NAME" PASS "$summary"
else
    [ "$alive" = yes ] || echo "haven exited during the drill; its log:" && tail -30 "$WORK/main.log"
    result "$NAME" FAIL "$summary (load exit $load_status, analysis exit $analysis_status, haven alive: $alive)"
    exit 1
fi
