# Shared helpers for the scripts/deploy-*-check.sh scripts and deploy/restore-drill.sh.
# Source it; do not run it. Everything it starts listens on 127.0.0.1 only, lives in one
# private temp folder ($WORK), and is stopped and deleted by the EXIT trap it installs.
#
#   HAVEN_BIN      haven executable to test (default: .build/release/haven, built if missing)
#   HAVEN_REBUILD  1: run `swift build -c release --product haven` first even if it exists
#   PGBIN          PostgreSQL binaries (default: the newest /usr/lib/postgresql/*/bin)
#   KEEP_WORK      1: leave $WORK behind for inspection (servers are still stopped)
#
# PostgreSQL refuses to run as root, so as root the clusters run as the `postgres` system user
# (runuser); the temp folder is chmod 755 so that user can enter it.

set -euo pipefail

DEPLOY_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/pg_ctl" ] || { echo "PostgreSQL server binaries not found (apt-get install postgresql)" >&2; exit 1; }

WORK=$(mktemp -d "/tmp/haven-${DEPLOY_NAME:-deploy}.XXXXXX")
chmod 755 "$WORK"
mkdir -m 1777 "$WORK/run"          # Unix sockets of the temp clusters
DEPLOY_PIDS=()
DEPLOY_CLUSTERS=()

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# A long-running process as postgres, exec'd in place (no runuser in between), so that $! is
# the daemon's own pid and the cleanup's kill reaches it.
exec_as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then exec setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"; else exec "$@"; fi
}

deploy_cleanup() {
    local status=$?
    set +e
    for pid in "${DEPLOY_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${DEPLOY_PIDS[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null
    done
    for dir in "${DEPLOY_CLUSTERS[@]}"; do
        [ -f "$dir/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" stop -D "$dir" -m immediate -w -s >/dev/null 2>&1
    done
    if [ "${KEEP_WORK:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
    if [ "$status" -eq 0 ]; then echo "PASS: ${DEPLOY_NAME:-deploy}"; else echo "FAIL: ${DEPLOY_NAME:-deploy} (exit $status)"; fi
    exit "$status"
}
trap deploy_cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# A TCP port nobody listens on now (loopback).
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# The haven binary under test, copied into $WORK with Schema/ in the installed layout
# ($WORK/opt/bin/haven, $WORK/opt/share/haven/Schema) so concurrent rebuilds do not change it
# mid-run. Sets HAVEN and exports HAVEN_SCHEMA_DIR.
haven_install() {
    local bin=${HAVEN_BIN:-$DEPLOY_ROOT/.build/release/haven}
    if [ "${HAVEN_REBUILD:-0}" = 1 ] || [ ! -x "$bin" ]; then
        echo "building haven (release)…"
        (cd "$DEPLOY_ROOT" && swift build -c release --product haven >/dev/null)
        bin=$DEPLOY_ROOT/.build/release/haven
    fi
    mkdir -p "$WORK/opt/bin" "$WORK/opt/share/haven"
    cp "$bin" "$WORK/opt/bin/haven"
    cp -r "$DEPLOY_ROOT/Schema" "$WORK/opt/share/haven/Schema"
    chmod -R a+rX "$WORK/opt"
    HAVEN=$WORK/opt/bin/haven
    export HAVEN_SCHEMA_DIR=$WORK/opt/share/haven/Schema
    export HAVEN_LOG_LEVEL=${HAVEN_LOG_LEVEL:-warning}
}

# A new key file ("k1 <64 hex>"), mode 600.
new_key_file() {
    local path=$1
    (umask 077; printf 'k1 %s\n' "$(openssl rand -hex 32)" >"$path")
}

# pg_new NAME PORT [initdb args…]: initdb into $WORK/NAME (peer auth on the socket for the
# postgres superuser, SCRAM on TCP for everyone), listening on 127.0.0.1:PORT only.
pg_new() {
    local name=$1 port=$2; shift 2
    local dir=$WORK/$name
    mkdir -p "$dir" && chown postgres:postgres "$dir" 2>/dev/null || true
    chmod 700 "$dir"
    as_postgres "$PGBIN/initdb" -D "$dir" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 "$@" >"$WORK/$name.initdb.log" 2>&1 \
        || { cat "$WORK/$name.initdb.log"; fail "initdb $name"; }
    cat >>"$dir/postgresql.conf" <<CONF
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK/run'
max_connections = 100
fsync = off
CONF
}

# pg_start NAME: start the cluster in $WORK/NAME and register it for cleanup.
pg_start() {
    local dir=$WORK/$1
    DEPLOY_CLUSTERS+=("$dir")
    as_postgres "$PGBIN/pg_ctl" start -D "$dir" -l "$dir/server.log" -w -t 60 -s \
        || { cat "$dir/server.log"; fail "PostgreSQL $1 did not start"; }
}

pg_stop() {
    as_postgres "$PGBIN/pg_ctl" stop -D "$WORK/$1" -m fast -w -s
}

# su_psql PORT [DB] [psql args…]: psql as the postgres superuser over the Unix socket.
su_psql() {
    local port=$1 db=${2:-postgres}; shift 2 || shift $#
    as_postgres "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/run" -p "$port" -U postgres -d "$db" "$@"
}

# pg_haven_roles PORT: the production role layout, with random passwords written to
# $WORK/pgpass (libpq passfile, mode 600) and never to a command line:
#   haven_owner  LOGIN, owns the database and the schema; runs migrations
#   haven_app    NOLOGIN group role every grant and row-level security policy names
#   haven_api    LOGIN, member of haven_app, owns nothing: what haven serve connects as
pg_haven_roles() {
    local port=$1 owner_pw api_pw
    owner_pw=$(openssl rand -hex 24)
    api_pw=$(openssl rand -hex 24)
    su_psql "$port" postgres -v owner_pw="$owner_pw" -v api_pw="$api_pw" <<'SQL'
CREATE ROLE haven_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE haven_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE haven_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS INHERIT PASSWORD :'api_pw' IN ROLE haven_app;
CREATE DATABASE haven OWNER haven_owner;
REVOKE ALL ON DATABASE haven FROM PUBLIC;
GRANT CONNECT ON DATABASE haven TO haven_app;
SQL
    touch "$WORK/pgpass" && chmod 600 "$WORK/pgpass"
    {
        echo "127.0.0.1:*:haven:haven_owner:$owner_pw"
        echo "127.0.0.1:*:haven:haven_api:$api_pw"
        echo "localhost:*:haven:haven_owner:$owner_pw"
        echo "localhost:*:haven:haven_api:$api_pw"
    } >>"$WORK/pgpass"
    export PGPASSFILE=$WORK/pgpass
}

# app_url PORT [extra query] / owner_url PORT: libpq URIs without any password in them.
app_url() { echo "postgresql://haven_api@127.0.0.1:$1/haven?sslmode=${PGSSL:-disable}${2:+&$2}"; }
owner_url() { echo "postgresql://haven_owner@127.0.0.1:$1/haven?sslmode=${PGSSL:-disable}${2:+&$2}"; }

# haven_serve LOGFILE [serve args…]: start `haven serve` in the background, register it; sets
# LAST_PID. The environment decides the database.
haven_serve() {
    local log=$1; shift
    "$HAVEN" serve "$@" >"$log" 2>&1 &
    LAST_PID=$!
    DEPLOY_PIDS+=("$LAST_PID")
}

# wait_http URL [STATUS] [SECONDS] [curl args…]: wait until URL answers STATUS (default 200).
wait_http() {
    local url=$1 want=${2:-200} seconds=${3:-60}; shift 3 || shift $#
    local code=000
    for _ in $(seq 1 $((seconds * 4))); do
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$@" "$url" || true)
        [ "$code" = "$want" ] && return 0
        sleep 0.25
    done
    echo "$url answered $code, not $want" >&2
    return 1
}

# api METHOD URL [TOKEN] [JSON] → prints "STATUS BODY" (curl; -k for the self-signed proxy).
api() {
    local method=$1 url=$2 token=${3:-} body=${4:-}
    local args=(-s -k -X "$method" -w '\n%{http_code}' --max-time 20)
    [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
    [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data "$body")
    local out; out=$(curl "${args[@]}" "$url")
    printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}

# login BASE USERNAME PASSWORD [curl args…] → token on stdout.
login() {
    local base=$1 user=$2 password=$3; shift 3
    curl -s -k --max-time 20 "$@" -H 'Content-Type: application/json' \
        --data "$(python3 -c 'import json,sys; print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}))' "$user" "$password")" \
        "$base/v1/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])'
}

# json_field FIELD < JSON
json_field() { python3 -c 'import json,sys; v=json.load(sys.stdin)
for p in sys.argv[1].split("."): v = v[int(p)] if p.isdigit() else v[p]
print(v)' "$1"; }
