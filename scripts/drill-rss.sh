#!/usr/bin/env bash
# Resources: haven's resident memory under the 64-connection mixed load, and over a soak.
#
#   1. load: Benchmarks/load.py, 64 connections for LOAD_SECONDS; RSS sampled every second:
#      peak and mean reported, target peak ≤ 150 MB (asserted).
#   2. soak: the same load for SOAK_SECONDS (default 300), RSS sampled every 2 s; the mean of the
#      last minute must be within 1.1× the mean of the first minute (for a soak shorter than three
#      minutes the windows are a third of it each).
# Both runs are verified like every load run (nothing lost, audit events one for one, audit verify).
#
#   scripts/drill-rss.sh                                   # 60 s load + 300 s soak
#   LOAD_SECONDS=30 SOAK_SECONDS=90 scripts/drill-rss.sh   # the quick version scripts/reliability.sh runs
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-rss
LOAD_SECONDS=${LOAD_SECONDS:-60}
SOAK_SECONDS=${SOAK_SECONDS:-300}
CONNECTIONS=${CONNECTIONS:-64}
LIMIT_MB=${LIMIT_MB:-150}

work_init rss
haven_build
say "seeding"
seed_fixture "${CASES:-5000}" 4
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
haven_start main "$PORT" --pool-size 16
say "haven ready on $BASE (pid $PID_main), RSS at rest $(( $(rss_kb "$PID_main") / 1024 )) MB"

sample() {  # sample OUT INTERVAL: "epoch rss_kb" lines until $WORK/stop-sampling exists
    while [ ! -f "$WORK/stop-sampling" ]; do
        echo "$(date +%s.%N | cut -c1-14) $(rss_kb "$PID_main")" >>"$1"
        sleep "$2"
    done
}
run_phase() {  # run_phase NAME SECONDS INTERVAL
    rm -f "$WORK/stop-sampling"
    sample "$WORK/$1.rss" "$3" &
    local sampler=$!
    PIDS+=("$sampler")
    set +e
    load_run --duration "$2" --connections "$CONNECTIONS" --json-out "$WORK/$1.json" --run-id "$1$(date +%s)" \
        --audit-verify "$(audit_verify_cmd)" >"$WORK/$1.out" 2>&1
    local status=$?
    set -e
    touch "$WORK/stop-sampling"
    wait "$sampler" 2>/dev/null || true
    forget_pid "$sampler"
    tail -4 "$WORK/$1.out"
    return $status
}

status=0
say "load: $CONNECTIONS connections for $LOAD_SECONDS s"
run_phase load "$LOAD_SECONDS" 1 || status=1
say "soak: $CONNECTIONS connections for $SOAK_SECONDS s"
run_phase soak "$SOAK_SECONDS" 2 || status=1
alive=no; kill -0 "$PID_main" 2>/dev/null && alive=yes
[ "$alive" = yes ] || status=1

set +e
DRILL_FACTS=$(python3 - "$WORK" "$LIMIT_MB" "$SOAK_SECONDS" "$alive" "$CONNECTIONS" "$LOAD_SECONDS" <<'PY'
import json, sys
work, limit, soak_s = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
def series(name):
    rows = [l.split() for l in open(f"{work}/{name}.rss") if len(l.split()) == 2]
    return [(float(t), int(kb) / 1024) for t, kb in rows if int(kb) > 0]
load, soak = series("load"), series("soak")
problems = []
peak = max(mb for _, mb in load)
mean = sum(mb for _, mb in load) / len(load)
if peak > limit:
    problems.append(f"RSS under load peaked at {peak:.1f} MB (target ≤ {limit:.0f} MB)")
window = 60.0 if soak_s >= 180 else soak_s / 3
t0, t1 = soak[0][0], soak[-1][0]
first = [mb for t, mb in soak if t <= t0 + window]
last = [mb for t, mb in soak if t >= t1 - window]
first_mean, last_mean = sum(first) / len(first), sum(last) / len(last)
ratio = last_mean / first_mean
if ratio > 1.1:
    problems.append(f"RSS grew over the soak: last {window:.0f} s mean {last_mean:.1f} MB is {ratio:.3f}× the first {window:.0f} s mean {first_mean:.1f} MB")
runs = {name: json.load(open(f"{work}/{name}.json")) for name in ("load", "soak")}
for name, run in runs.items():
    if not run.get("ok"):
        problems.append(f"the {name} run failed: {run.get('problems')}")
if sys.argv[4] != "yes":
    problems.append("haven is gone")
keep = lambda r: {k: r.get(k) for k in ("requests", "rps", "p50_ms", "p99_ms", "statuses", "unexpected", "known_bugs", "lapsed_sweep_deadlocks", "creates_checked",
                                         "transitions_checked", "audit_events_expected", "audit_events_found", "audit_verify")}
print(json.dumps({"connections": int(sys.argv[5]), "load_seconds": int(sys.argv[6]), "soak_seconds": int(soak_s),
                  "load_rss_peak_mb": round(peak, 1), "load_rss_mean_mb": round(mean, 1), "limit_mb": limit,
                  "soak_window_s": window, "soak_first_mean_mb": round(first_mean, 1), "soak_last_mean_mb": round(last_mean, 1),
                  "soak_ratio": round(ratio, 3), "soak_peak_mb": round(max(mb for _, mb in soak), 1), "samples": len(load) + len(soak),
                  "load": keep(runs["load"]), "soak": keep(runs["soak"]), "problems": problems}))
PY
)
analysis=$?
set -e
export DRILL_FACTS
echo "$DRILL_FACTS" | python3 -m json.tool
summary=$(python3 - "$DRILL_FACTS" <<'PY'
import json, sys
f = json.loads(sys.argv[1])
print(f"RSS under {f['connections']} connections for {f['load_seconds']} s ({f['load']['rps']} req/s): peak {f['load_rss_peak_mb']} MB, mean "
      f"{f['load_rss_mean_mb']} MB (target ≤ {f['limit_mb']:.0f} MB); soak {f['soak_seconds']} s ({f['soak']['requests']} requests, "
      f"{f['soak']['rps']} req/s): first {f['soak_window_s']:.0f} s mean {f['soak_first_mean_mb']} MB, last {f['soak_window_s']:.0f} s mean "
      f"{f['soak_last_mean_mb']} MB = {f['soak_ratio']}× (limit 1.1×), peak {f['soak_peak_mb']} MB; both runs verified (nothing lost, audit one for one)")
PY
)
if [ "$status" -eq 0 ] && [ "$analysis" -eq 0 ] && [ "$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])['problems']))" "$DRILL_FACTS")" = 0 ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary; problems: $(python3 -c "import json,sys; print('; '.join(json.loads(sys.argv[1])['problems']))" "$DRILL_FACTS")"
    exit 1
fi
