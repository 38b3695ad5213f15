# Shared by Benchmarks/load/standalone.sh and scripts/drill-*.sh: build haven, make a throwaway
# work folder (removed on exit), seed it, start and stop haven instances on loopback, and clean up
# every process this script started (by its pid) and every embedded PostgreSQL it left behind.
#
#   source "$ROOT/Benchmarks/load/lib.sh"
#   work_init drill-name          # WORK=/tmp/haven-drill-name.XXXXXX, trap cleanup
#   haven_build                   # HAVEN=<release binary>
#   seed_fixture 3000 4           # cases, supervisors → $WORK/fixture.json, $WORK/keys, $WORK/pg
#   haven_start main "$PORT" --pool-size 16
#   load_run --duration 20 ...    # Benchmarks/load.py against it, verification on
#
# Everything stays on 127.0.0.1; haven's embedded PostgreSQL listens on a Unix socket only.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
# HAVEN_BIN (a built haven) and SCHEMA_DIR (its migrations) may point at a snapshot of both, for a
# tree others are changing meanwhile; by default haven is built here and ./Schema is used.
SCHEMA_DIR=${SCHEMA_DIR:-$ROOT/Schema}
find_pg() {
    PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
    PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL=$(command -v psql || true)
    PG_CTL="$PGBIN/pg_ctl"; [ "$(id -u)" -eq 0 ] && PG_CTL="runuser -u postgres -- $PGBIN/pg_ctl"
    return 0
}
find_pg
PIDS=()
DATA_DIRS=()
WORK=""

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
now() { date +%s.%N | cut -c1-14; }  # epoch seconds, millisecond precision (no interpreter start-up in the way)

# Installs Debian packages that are missing (wrk, nginx, ...).
need_packages() {
    local missing=()
    for package in "$@"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    say "installing ${missing[*]}"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

cleanup() {
    local status=$?
    set +e
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    done
    for dir in "${DATA_DIRS[@]}"; do
        [ -f "$dir/postmaster.pid" ] && $PG_CTL stop -D "$dir" -m fast -w >/dev/null 2>&1
    done
    if [ -n "$WORK" ] && [ -d "$WORK" ]; then
        # KEEP_WORK=1 keeps the folder (logs, events.csv, the stopped database); KEEP_WORK=on-failure
        # only when the script failed, so the evidence of a failure survives it.
        if [ "${KEEP_WORK:-}" = 1 ] || { [ "${KEEP_WORK:-}" = on-failure ] && [ "$status" -ne 0 ]; }; then
            say "kept $WORK (haven logs, events.csv, the stopped PostgreSQL data folder)"
        else
            rm -rf "$WORK"
        fi
    fi
    exit $status
}

work_init() {
    command -v curl >/dev/null 2>&1 || need_packages curl
    [ -n "$PGBIN" ] || { need_packages postgresql; find_pg; }
    WORK=$(mktemp -d "/tmp/haven-$1.XXXXXX")
    chmod 755 "$WORK"  # the embedded PostgreSQL runs as the postgres user and must reach its data folder
    trap cleanup EXIT
    trap 'exit 130' INT TERM
    cd "$ROOT"
}

haven_build() {
    if [ -n "${HAVEN_BIN:-}" ]; then HAVEN=$HAVEN_BIN; return; fi
    say "building haven (release)"
    (cd "$ROOT" && swift build -c release --product haven >/dev/null)
    HAVEN="$(cd "$ROOT" && swift build -c release --show-bin-path)/haven"
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# seed_fixture CASES SUPERVISORS [DATA_DIR]: keys, a seeded database, supervisors with TOTP, and
# $WORK/fixture.json listing the logins for Benchmarks/load.py.
seed_fixture() {
    local cases=$1 supervisors=$2 data=${3:-$WORK/pg}
    python3 -c "import secrets; print('k1', secrets.token_hex(32))" >"$WORK/keys"
    chmod 600 "$WORK/keys"
    DATA_DIRS+=("$data")
    "$HAVEN" dev seed --cases "$cases" --organisations 20 --logins "$WORK/logins.json" --data-dir "$data" --keys-file "$WORK/keys" \
        --schema-dir "$SCHEMA_DIR" >>"$WORK/setup.log" 2>&1
    : >"$WORK/supervisors.txt"
    for i in $(seq 1 "$supervisors"); do
        local out
        out=$(printf 'load supervisor passphrase %s\n' "$i" | "$HAVEN" user create --org "Seed organisation $i" --role supervisor \
            --username "load.sup$i" --password-stdin --data-dir "$data" --keys-file "$WORK/keys" --schema-dir "$SCHEMA_DIR" 2>>"$WORK/setup.log")
        echo "load.sup$i|load supervisor passphrase $i|Seed organisation $i|$out" | tr '\n' ' ' >>"$WORK/supervisors.txt"
        echo >>"$WORK/supervisors.txt"
    done
    # Supervisors enrol their own authenticator at their first login (no secret is handed out at
    # creation): a haven started for the purpose enrols each one, as the person would.
    if [ "$supervisors" -gt 0 ]; then
        local port pid
        port=$(free_port)
        HAVEN_LOG_LEVEL=warning "$HAVEN" serve --port "$port" --data-dir "$data" --keys-file "$WORK/keys" --login-rate 1000000 \
            --schema-dir "$SCHEMA_DIR" >>"$WORK/enrol.out" 2>>"$WORK/enrol.log" &
        pid=$!
        PIDS+=("$pid")
        wait_ready "$port" 60 || { say "haven did not become ready to enrol the supervisors"; tail -20 "$WORK/enrol.log"; return 1; }
        python3 - "$WORK" "http://127.0.0.1:$port" "$ROOT/Benchmarks/load" <<'PY' || { stop_pid "$pid"; return 1; }
import sys, time
work, base = sys.argv[1], sys.argv[2]
sys.path.insert(0, sys.argv[3])
from enrol import enrol
with open(f"{work}/supervisor-secrets.txt", "w") as out:
    for line in open(f"{work}/supervisors.txt"):
        if not line.strip():
            continue
        user, password = line.split("|", 3)[:2]
        out.write(f"{user}|{enrol(base, user, password)[1]}\n")
# A code is good once: the confirmations spent this 30-second step, so the load's first logins
# wait for the next one rather than meet a 401.
time.sleep(31 - time.time() % 30)
PY
        stop_pid "$pid"
        forget_pid "$pid"
    fi
    python3 - "$WORK" <<'PY'
import json, os, sys
work = sys.argv[1]
logins = json.load(open(f"{work}/logins.json"))["logins"]
secrets = {}
if os.path.exists(f"{work}/supervisor-secrets.txt"):
    secrets = dict(line.strip().split("|", 1) for line in open(f"{work}/supervisor-secrets.txt") if line.strip())
sups = []
for line in open(f"{work}/supervisors.txt"):
    if not line.strip():
        continue
    user, password, org, rest = line.split("|", 3)
    sups.append({"username": user, "password": password, "organisation_name": org, "totp_secret": secrets[user], "role": "supervisor"})
json.dump({"logins": logins, "supervisors": sups}, open(f"{work}/fixture.json", "w"), indent=1)
PY
    SUPERUSER_DB="host=$data port=5432 user=postgres dbname=haven"
}

# haven_start NAME PORT [serve flags...]: starts `haven serve` (embedded PostgreSQL in $WORK/pg
# unless the flags or DATABASE_URL say otherwise), log in $WORK/NAME.log (info: one line per
# request with its request id), waits for /readyz.
haven_start() {
    local name=$1 port=$2; shift 2
    HAVEN_LOG_LEVEL=${HAVEN_LOG_LEVEL:-info} "$HAVEN" serve --port "$port" --data-dir "$WORK/pg" --keys-file "$WORK/keys" \
        --login-rate 1000000 --schema-dir "$SCHEMA_DIR" "$@" >>"$WORK/$name.out" 2>>"$WORK/$name.log" &
    local pid=$!
    PIDS+=("$pid")
    eval "PID_${name}=$pid"
    wait_ready "$port" 60 || { say "haven $name did not become ready"; tail -20 "$WORK/$name.log"; return 1; }
}

# wait_ready PORT SECONDS: until /readyz answers 200.
wait_ready() {
    local port=$1 limit=$2 start
    start=$(date +%s)
    while [ $(($(date +%s) - start)) -lt "$limit" ]; do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/readyz")" = 200 ] && return 0
        sleep 0.2
    done
    return 1
}

# forget_pid PID: a process that is gone (killed on purpose) is no longer ours to clean up.
forget_pid() {
    local kept=()
    for pid in "${PIDS[@]}"; do [ "$pid" = "$1" ] || kept+=("$pid"); done
    PIDS=("${kept[@]}")
}

# stop_pid PID: SIGTERM, wait, SIGKILL; only a process this script started.
stop_pid() {
    local pid=$1
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

sql() { "$PSQL" -X -Atq -v ON_ERROR_STOP=1 "$SUPERUSER_DB" -c "$1"; }

audit_verify_cmd() { echo "'$HAVEN' audit verify --data-dir '$WORK/pg' --keys-file '$WORK/keys' --schema-dir '$SCHEMA_DIR' 2>/dev/null"; }

# load_run [load.py flags...]: the mixed workload against $BASE, verified against $SUPERUSER_DB.
load_run() {
    python3 "$ROOT/Benchmarks/load.py" --base-url "$BASE" --fixture "$WORK/fixture.json" --superuser-db "$SUPERUSER_DB" \
        --pg-log "$WORK/pg/server.log" "$@"
}

# rss_kb PID: resident set size in kB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# result NAME STATUS SUMMARY: the drill's last line, and a JSON record for scripts/reliability.sh.
result() {
    local name=$1 status=$2; shift 2
    local known
    known=$(python3 - "${DRILL_FACTS:-{\}}" <<'PY'
import collections, json, sys
total = collections.Counter()
def walk(x):
    if isinstance(x, dict):
        for k, v in x.items():
            if k == "known_bugs" and isinstance(v, dict):
                total.update(v)
            else:
                walk(v)
    elif isinstance(x, list):
        for v in x:
            walk(v)
walk(json.loads(sys.argv[1]))
print("; ".join(f"{k} ×{v}" for k, v in total.items()))
PY
)
    [ -z "$known" ] || set -- "$* — known haven bugs met (reported, see docs/reliability.md): $known"
    echo "$status: $name — $*"
    if [ -n "${RESULTS_DIR:-}" ]; then
        python3 - "$RESULTS_DIR/$name.json" "$name" "$status" "$*" "${DRILL_FACTS:-{\}}" <<'PY'
import json, sys, time
path, name, status, summary, facts = sys.argv[1:6]
json.dump({"name": name, "status": status, "summary": summary, "facts": json.loads(facts),
           "finished": time.strftime("%Y-%m-%dT%H:%MZ", time.gmtime())}, open(path, "w"), indent=1)
PY
    fi
}
