#!/usr/bin/env bash
# Haven's benchmark harness. Absolute numbers on a shared machine are noise, so every figure is
# reported as a ratio to a limit measured in the same run on the same machine: a bare Hummingbird
# endpoint (the HTTP stack's limit) and pgbench running the same SQL at the same concurrency (the
# database's limit). Load comes from wrk on loopback.
#
#   Benchmarks/run.sh                 # everything, 10 s per measurement
#   DURATION=30 Benchmarks/run.sh     # longer measurements
#   PAIRS=5 Benchmarks/run.sh         # more alternations of an endpoint and its pgbench mirror
#   SECTIONS="http auth" Benchmarks/run.sh # only some sections: http auth cases scale console webhooks
#   POOL_SIZE=16 Benchmarks/run.sh    # haven's database pool (default: haven's own default)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
DURATION=${DURATION:-10}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
PAIRS=${PAIRS:-3}
SECTIONS=${SECTIONS:-"http auth cases scale console webhooks"}
HAVEN_PORT=${HAVEN_PORT:-8081}
BARE_PORT=${BARE_PORT:-8090}

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk; then
    echo "installing wrk"; SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
PGBENCH=$(command -v pgbench || echo "$PGBIN/pgbench")

echo "building release binaries…"
swift build -c release --product haven >/dev/null
swift build -c release --product haven-bare >/dev/null
BIN=$(swift build -c release --show-bin-path)

WORK=$(mktemp -d /tmp/haven-bench.XXXXXX)
chmod 755 "$WORK"
RESULTS="$ROOT/Benchmarks/results"
mkdir -p "$RESULTS"
REPORT="$RESULTS/latest.md"
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    local ctl="$PGBIN/pg_ctl"; [ "$(id -u)" -eq 0 ] && ctl="runuser -u postgres -- $ctl"
    $ctl stop -D "$WORK/pg" -m fast >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

export HAVEN_LOG_LEVEL=warning
python3 -c "import secrets; print('k1', secrets.token_hex(32))" >"$WORK/keys"
chmod 600 "$WORK/keys"
POOL=(); [ -n "${POOL_SIZE:-}" ] && POOL=(--pool-size "$POOL_SIZE")
"$BIN/haven" serve --port "$HAVEN_PORT" --data-dir "$WORK/pg" --keys-file "$WORK/keys" "${POOL[@]}" --login-rate 1000000 \
    >"$WORK/banner.txt" 2>"$WORK/haven.log" &
PIDS+=($!)
"$BIN/haven-bare" "$BARE_PORT" >/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$HAVEN_PORT/readyz" >/dev/null 2>&1 && curl -fs "http://127.0.0.1:$BARE_PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.5
done
curl -fs "http://127.0.0.1:$HAVEN_PORT/readyz" >/dev/null || { echo "haven did not become ready"; cat "$WORK/haven.log"; exit 1; }
SUPERUSER="host=$WORK/pg port=5432 user=postgres dbname=haven"
# pgbench's audit inserts go to a copy of audit_event in schema bench (same columns, defaults, identity and
# indexes): rows with a made-up MAC in haven's own trail would make `haven audit verify` report
# tampering, rightly. Likewise its notification messages go to a copy of notification_outbox, so haven's
# worker does not deliver them during the measurements. Every other statement reads and writes haven's tables.
"$PGBIN/psql" -Atq "$SUPERUSER" -c "CREATE SCHEMA IF NOT EXISTS bench;
    CREATE TABLE IF NOT EXISTS bench.audit_event (LIKE public.audit_event INCLUDING ALL);
    CREATE TABLE IF NOT EXISTS bench.notification_outbox (LIKE public.notification_outbox INCLUDING ALL);
    GRANT USAGE ON SCHEMA bench TO haven_app; GRANT INSERT ON bench.audit_event, bench.notification_outbox TO haven_app;" >/dev/null
BENCH_CONN="host=$WORK/pg port=5432 user=haven_app dbname=haven options='-csearch_path=bench,public'"

# Where each measurement's CPU went, for the pairs' lines: the machine's busy time (/proc/stat),
# haven's process and the load generator's (bash's `time`), in clock ticks and seconds, left in
# $WORK/cpu.<side> as "busy_before busy_after haven_before haven_after client_user client_sys".
HAVEN_PID=${PIDS[0]}
busy_ticks() { awk '/^cpu / {print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
haven_ticks() { awk '{print $14 + $15}' "/proc/$HAVEN_PID/stat" 2>/dev/null || echo 0; }
TIMEFORMAT='%3U %3S'
# wrk → "requests_per_second p99_ms errors"
measure() {
    local url=$1; shift
    local script=(-s "$ROOT/Benchmarks/p95.lua")
    for arg in "$@"; do [ "$arg" = "-s" ] && script=(); done
    local busy haven
    busy=$(busy_ticks); haven=$(haven_ticks)
    { time wrk -t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${script[@]}" "$@" "$url" >"$WORK/wrk.out" 2>&1; } 2>"$WORK/wrk.time"
    echo "$busy $(busy_ticks) $haven $(haven_ticks) $(cat "$WORK/wrk.time")" >"$WORK/cpu.endpoint"
    python3 "$ROOT/Benchmarks/parse_wrk.py" <"$WORK/wrk.out"
}
# pgbench on a script at the same concurrency → "transactions_per_second p99_ms"
pgbench_limit() {
    local script=$1 conn=$2; shift 2
    rm -f "$WORK"/pgb.*
    local busy haven
    busy=$(busy_ticks); haven=$(haven_ticks)
    { time "$PGBENCH" -n -c "$CONNECTIONS" -j "$THREADS" -T "$DURATION" -M prepared -f "$script" --log --log-prefix="$WORK/pgb" "$@" "$conn" \
        >"$WORK/pgbench.out" 2>&1; } 2>"$WORK/pgbench.time" || true
    echo "$busy $(busy_ticks) $haven $(haven_ticks) $(cat "$WORK/pgbench.time")" >"$WORK/cpu.mirror"
    python3 "$ROOT/Benchmarks/parse_pgbench.py" "$WORK"/pgb.* <"$WORK/pgbench.out"
    rm -f "$WORK"/pgb.*
}
# An endpoint and its pgbench mirror, alternated PAIRS times: the machine's load drifts by a
# quarter over a run, so a ratio is taken within each pair and the median reported with its range.
#   paired URL [wrk args…] -- SQLFILE CONN [pgbench args…]
#   → "rps p99_ms errors p95_ms limit limit_p99_ms ratio low-high"
paired() {
    local endpoint=() mirror=() side=endpoint
    for arg in "$@"; do
        if [ "$side" = endpoint ] && [ "$arg" = "--" ]; then side=mirror; continue; fi
        if [ "$side" = endpoint ]; then endpoint+=("$arg"); else mirror+=("$arg"); fi
    done
    local path=${endpoint[0]#http://*/}
    for _ in $(seq 1 "$PAIRS"); do
        local line; line="$(measure "${endpoint[@]}") | $(pgbench_limit "${mirror[@]}")"
        echo "$line"
        python3 "$ROOT/Benchmarks/pair_line.py" "$path" "$line" "$DURATION" "$(getconf CLK_TCK)" "$WORK/cpu.endpoint" "$WORK/cpu.mirror" >>"$WORK/pairs.txt"
    done | python3 "$ROOT/Benchmarks/median_pairs.py"
}
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}' if b>0 else 'n/a')" "$1" "$2"; }

{
    echo "# Haven benchmarks"
    echo
    echo "$(date -u +%Y-%m-%dT%H:%MZ) · $(nproc) cores · ${CONNECTIONS} connections · ${DURATION} s per measurement · wrk and pgbench on loopback"
    echo
    echo "Rows whose ratio has a range in brackets alternate the endpoint and its pgbench mirror (a console page: its JSON counterpart) ${PAIRS} times: medians, the ratio being the median of the pairs' ratios."
    echo
    echo "| measurement | req/s | p99 ms | errors | limit req/s | ratio | target |"
    echo "|---|---|---|---|---|---|---|"
} >"$REPORT"
row() { echo "| $1 | $2 | $3 | $4 | $5 | $6 | $7 |" | tee -a "$REPORT"; }

for section in $SECTIONS; do
    source "$ROOT/Benchmarks/sections/$section.sh"
done

if [ -s "$WORK/pairs.txt" ]; then
    { echo; echo "Each pair, in the order run (haven first, then its pgbench mirror):"; echo; sed 's/^/- /' "$WORK/pairs.txt"; } >>"$REPORT"
fi
echo
echo "written to $REPORT"
