#!/usr/bin/env bash
# Fault drill: `kill -9` haven under load, start it again on the same data folder.
#
# The embedded PostgreSQL outlives the killed haven; the new haven must adopt it. Asserted:
#   - the new haven comes up on the same data folder (adopting the running cluster) and serves;
#   - no half-written case, need, consent, referral or audit event: each record created since the
#     load began has exactly one create event and each create event its record; each referral has
#     its first transition and the status of its last; transitions and their audit events match;
#     accepted referrals have their service episode (Benchmarks/load/consistency.sql);
#   - every acknowledged write survived, and audit events match the acknowledged requests one for
#     one (requests cut off by the kill are "in doubt": 0 or their usual number of events);
#   - the audit chain continues: the restarted haven seals new events, `haven audit verify` is OK.
#
#   scripts/drill-kill-haven.sh          # quick: 64 connections, 30 s, one kill
#   LONG=1 scripts/drill-kill-haven.sh   # 90 s, three kills
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-kill-haven
if [ -n "${LONG:-}" ]; then DURATION=${DURATION:-90}; KILLS=${KILLS:-3}; else DURATION=${DURATION:-30}; KILLS=${KILLS:-1}; fi
CONNECTIONS=${CONNECTIONS:-64}

work_init kill-haven
haven_build
say "seeding"
seed_fixture "${CASES:-3000}" 4
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
haven_start h0 "$PORT" --pool-size 10 --pool-timeout 2
SINCE=$(sql "SELECT now()")
say "haven ready on $BASE (pid $PID_h0); load: $CONNECTIONS connections for $DURATION s; $KILLS kill(s)"

load_run --duration "$DURATION" --connections "$CONNECTIONS" --tolerate conn,503 --request-timeout 15 \
    --events "$WORK/events.csv" --json-out "$WORK/load.json" --ready-file "$WORK/ready" \
    --audit-verify "$(audit_verify_cmd)" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
for _ in $(seq 1 600); do [ -f "$WORK/ready" ] && break; kill -0 $LOAD_PID 2>/dev/null || break; sleep 0.1; done
[ -f "$WORK/ready" ] || { cat "$WORK/load.out"; result "$NAME" FAIL "the load did not start"; exit 1; }

gap=$(( DURATION / (KILLS + 1) ))
current=$PID_h0
KILL_TIMES=()
RESTARTS=()
adopted=0
for i in $(seq 1 "$KILLS"); do
    sleep "$gap"
    postmaster=$(head -1 "$WORK/pg/postmaster.pid")
    t_kill=$(now)
    kill -KILL "$current"
    wait "$current" 2>/dev/null || true
    forget_pid "$current"
    say "killed haven (pid $current) with SIGKILL; PostgreSQL still running: $([ -f "$WORK/pg/postmaster.pid" ] && echo yes || echo no)"
    sleep 1
    t_start=$(now)
    haven_start "h$i" "$PORT" --pool-size 10 --pool-timeout 2 || { result "$NAME" FAIL "haven did not start again after kill $i"; exit 1; }
    t_back=$(now)
    current=$(eval echo "\$PID_h$i")
    # Adopted, not restarted: the postmaster is the one that served the killed haven.
    [ "$(head -1 "$WORK/pg/postmaster.pid")" = "$postmaster" ] && adopted=$((adopted + 1))
    say "haven $i (pid $current) ready $(python3 -c "print(round($t_back - $t_start, 2))") s after its start, $(python3 -c "print(round($t_back - $t_kill, 2))") s after the kill"
    KILL_TIMES+=("$t_kill")
    RESTARTS+=("$t_back")
done

set +e
wait $LOAD_PID
load_status=$?
set -e
cat "$WORK/load.out"

# The chain continues: the restarted haven seals events itself (not only the verifier).
sealed_by_restarted=$(sql "SELECT count(*) FROM audit_seal WHERE sealed_at > to_timestamp(${RESTARTS[-1]})")
"$PSQL" -X -q -v since="$SINCE" -f "$ROOT/Benchmarks/load/consistency.sql" "$SUPERUSER_DB" >"$WORK/consistency.txt" 2>&1 || true
cat "$WORK/consistency.txt"
bad=$(awk -F'|' 'NF != 3 || $3 != 0' "$WORK/consistency.txt" | wc -l)
verify_line=$(eval "$(audit_verify_cmd)" | tail -1)
verify_ok=no; [[ "$verify_line" == OK* ]] && verify_ok=yes
echo "final haven audit verify: $verify_line"

set +e
WINDOWS=()
for i in "${!KILL_TIMES[@]}"; do WINDOWS+=(--kill-window "${KILL_TIMES[$i]}" "${RESTARTS[$i]}"); done
facts=$(python3 "$ROOT/Benchmarks/load/analyse.py" kill "$WORK/events.csv" "${WINDOWS[@]}")
analysis_status=$?
set -e
echo "$facts"
DRILL_FACTS=$(python3 - "$WORK/load.json" "$facts" "$WORK/consistency.txt" "$KILLS" "$adopted" "$sealed_by_restarted" "$verify_line" "$DURATION" "$CONNECTIONS" <<'PY'
import json, sys
load = json.load(open(sys.argv[1]))
facts = json.loads(sys.argv[2])
checks = {l.split("|")[0]: {"count": int(l.split("|")[1]), "bad": int(l.split("|")[2])} for l in open(sys.argv[3]) if l.count("|") == 2}
keep = {k: load.get(k) for k in ("requests", "rps", "statuses", "unexpected", "known_bugs", "lapsed_sweep_deadlocks", "creates_checked", "transitions_checked",
                                   "audit_events_expected", "audit_events_found", "in_doubt_requests", "in_doubt_with_events")}
print(json.dumps({"load": keep, "kills": int(sys.argv[4]), "adopted_cluster": int(sys.argv[5]), "sealed_by_restarted_haven": int(sys.argv[6]),
                  "audit_verify": sys.argv[7], "duration_s": int(sys.argv[8]), "connections": int(sys.argv[9]),
                  "consistency": checks, "analysis": facts, "problems": facts.get("problems", []) + load.get("problems", [])}))
PY
)
export DRILL_FACTS
summary=$(python3 - "$DRILL_FACTS" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
c = f["consistency"]
k = f["analysis"]
ks = k.get("kills", [])
print(f"{f['kills']} kill -9 under {f['connections']} connections ({', '.join(str(x['cut_off_at_kill']) for x in ks)} requests in flight cut off), "
      f"restarted on the same data folder ({f['adopted_cluster']}/{f['kills']} adopted the running PostgreSQL, down "
      f"{', '.join(str(x['down_s']) for x in ks)} s), first 2xx {', '.join(str(x['first_2xx_after_restart_s']) for x in ks)} s after ready; "
      f"{c['record without exactly one create event']['count']} records and {c['create event without its record']['count']} create events, "
      f"{c['referral transitions and their audit events differ']['count']} transitions: 0 half-written; "
      f"{f['load']['creates_checked']} acknowledged creates present; audit events one for one ({f['load']['audit_events_expected']} expected, "
      f"{f['load']['audit_events_found']} found: +{f['load']['in_doubt_with_events']} of {f['load']['in_doubt_requests']} in-doubt requests had committed); chain continued "
      f"({f['sealed_by_restarted_haven']} events sealed by the restarted haven), {f['audit_verify']}")
PY
)
if [ "$load_status" -eq 0 ] && [ "$analysis_status" -eq 0 ] && [ "$bad" -eq 0 ] && [ "$verify_ok" = yes ] && [ "$sealed_by_restarted" -gt 0 ] && [ "$adopted" -eq "$KILLS" ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary (load exit $load_status, analysis exit $analysis_status, inconsistent checks $bad, verify $verify_ok, adopted $adopted/$KILLS)"
    exit 1
fi
