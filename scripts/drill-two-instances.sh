#!/usr/bin/env bash
# Fault drill: two haven instances behind nginx on one database; one is killed mid-load.
#
# Instance A runs the embedded PostgreSQL; instance B reaches the same cluster through
# DATABASE_URL (its Unix socket, role haven_app; migrations as haven_owner) with the same key file.
# nginx (Debian package, loopback only) balances over both with proxy_next_upstream error/timeout,
# and adds X-Upstream so each answer says who served it. Asserted:
#   - after `kill -9` of one instance the other serves everything;
#   - the load's errors are no more than the requests in flight on the killed instance at that
#     moment (non-idempotent requests there cannot be retried; idempotent ones nginx retries on
#     the survivor), none on requests sent after the kill, at most one per client connection;
#   - every acknowledged write exists, audit events one for one, nothing half-written, audit verify OK.
#
#   scripts/drill-two-instances.sh          # quick: 64 connections, 30 s, A killed
#   LONG=1 scripts/drill-two-instances.sh   # 90 s: A killed, restarted, later B killed
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-two-instances
if [ -n "${LONG:-}" ]; then DURATION=${DURATION:-90}; else DURATION=${DURATION:-30}; fi
CONNECTIONS=${CONNECTIONS:-64}
need_packages nginx

work_init two-instances
haven_build
say "seeding"
seed_fixture "${CASES:-3000}" 4
PORT_A=$(free_port); PORT_B=$(free_port); PORT_LB=$(free_port)
haven_start a "$PORT_A" --pool-size 8 --pool-timeout 2
DATABASE_URL="host=$WORK/pg port=5432 user=haven_app dbname=haven" \
HAVEN_MIGRATION_DATABASE_URL="host=$WORK/pg port=5432 user=haven_owner dbname=haven" \
    haven_start b "$PORT_B" --pool-size 8 --pool-timeout 2

mkdir -p "$WORK/nginx/logs" "$WORK/nginx/tmp"
cat >"$WORK/nginx/nginx.conf" <<CONF
# Minimal loopback balancer for the drill.
worker_processes 1;
daemon off;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx/tmp/body;
    proxy_temp_path $WORK/nginx/tmp/proxy;
    fastcgi_temp_path $WORK/nginx/tmp/fastcgi;
    uwsgi_temp_path $WORK/nginx/tmp/uwsgi;
    scgi_temp_path $WORK/nginx/tmp/scgi;
    upstream haven {
        server 127.0.0.1:$PORT_A max_fails=1 fail_timeout=5s;
        server 127.0.0.1:$PORT_B max_fails=1 fail_timeout=5s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$PORT_LB;
        keepalive_requests 1000000;
        location / {
            proxy_pass http://haven;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 1s;
            proxy_read_timeout 30s;
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
CONF
nginx -t -q -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf"
nginx -p "$WORK/nginx" -e "$WORK/nginx/logs/error.log" -c "$WORK/nginx/nginx.conf" &
PIDS+=($!)
BASE="http://127.0.0.1:$PORT_LB"
wait_ready "$PORT_LB" 20 || { say "nginx did not come up"; cat "$WORK/nginx/logs/error.log"; exit 1; }
SINCE=$(sql "SELECT now()")
say "A (embedded PostgreSQL) on :$PORT_A, B (DATABASE_URL) on :$PORT_B, nginx on :$PORT_LB; load: $CONNECTIONS connections for $DURATION s"

load_run --duration "$DURATION" --connections "$CONNECTIONS" --tolerate conn,502,503,504 --request-timeout 15 \
    --events "$WORK/events.csv" --json-out "$WORK/load.json" --ready-file "$WORK/ready" \
    --audit-verify "$(audit_verify_cmd)" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
for _ in $(seq 1 600); do [ -f "$WORK/ready" ] && break; kill -0 $LOAD_PID 2>/dev/null || break; sleep 0.1; done
[ -f "$WORK/ready" ] || { cat "$WORK/load.out"; result "$NAME" FAIL "the load did not start"; exit 1; }

KILLED=()
kill_instance() {  # kill_instance NAME PORT
    local pid
    pid=$(eval echo "\$PID_$1")
    local t0 t1
    t0=$(now)
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null || true
    t1=$(now)
    forget_pid "$pid"
    KILLED+=(--killed "$t0" "$t1" "127.0.0.1:$2")
    say "killed instance $1 (pid $pid, :$2) with SIGKILL"
}
if [ -n "${LONG:-}" ]; then
    sleep $((DURATION / 4)); kill_instance a "$PORT_A"
    sleep $((DURATION / 4)); haven_start a2 "$PORT_A" --pool-size 8 --pool-timeout 2; say "A started again (adopting the cluster)"
    sleep $((DURATION / 4)); PID_b=$PID_b; kill_instance b "$PORT_B"
else
    sleep $((DURATION / 2)); kill_instance a "$PORT_A"
fi

set +e
wait $LOAD_PID
load_status=$?
set -e
cat "$WORK/load.out"
"$PSQL" -X -q -v since="$SINCE" -f "$ROOT/Benchmarks/load/consistency.sql" "$SUPERUSER_DB" >"$WORK/consistency.txt" 2>&1 || true
cat "$WORK/consistency.txt"
bad=$(awk -F'|' 'NF != 3 || $3 != 0' "$WORK/consistency.txt" | wc -l)

set +e
facts=$(python3 "$ROOT/Benchmarks/load/analyse.py" upstream "$WORK/events.csv" "${KILLED[@]}")
analysis_status=$?
set -e
echo "$facts" | python3 -m json.tool
DRILL_FACTS=$(python3 - "$WORK/load.json" "$facts" "$bad" "$DURATION" "$CONNECTIONS" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
facts = json.loads(sys.argv[2])
keep = {k: load.get(k) for k in ("requests", "rps", "p50_ms", "p99_ms", "statuses", "unexpected", "known_bugs", "lapsed_sweep_deadlocks", "creates_checked", "transitions_checked",
                                   "audit_events_expected", "audit_events_found", "in_doubt_requests", "in_doubt_with_events", "audit_verify",
                                   "retried_by_proxy", "retried_and_run_twice")}
print(json.dumps({"load": keep, "upstream": facts, "inconsistent_checks": int(sys.argv[3]), "duration_s": int(sys.argv[4]),
                  "connections": int(sys.argv[5]), "problems": facts.get("problems", []) + load.get("problems", [])}))
PY
)
export DRILL_FACTS
summary=$(python3 - "$DRILL_FACTS" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
u = f["upstream"]
kills = "; ".join(f"kill of {k['killed']}: {k['errors']} errors for {k['in_flight_on_killed_instance']} requests in flight on it "
                  f"({k['retried_on_survivor']} retried on the survivor), {k['errors_sent_after_kill']} errors on requests sent after it"
                  for k in u["kills"])
print(f"{f['connections']} connections through nginx to 2 instances on one database, {f['load']['requests']} requests: {kills}; "
      f"{f['load']['creates_checked']} acknowledged creates present, audit {f['load']['audit_events_expected']} expected / "
      f"{f['load']['audit_events_found']} found (+{f['load']['in_doubt_with_events']} in-doubt committed, {f['load']['retried_and_run_twice']} reads "
      f"retried by nginx that had also run on the killed instance), 0 half-written; {f['load']['audit_verify']}")
PY
)
if [ "$load_status" -eq 0 ] && [ "$analysis_status" -eq 0 ] && [ "$bad" -eq 0 ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary (load exit $load_status, analysis exit $analysis_status, inconsistent checks $bad)"
    exit 1
fi
