#!/usr/bin/env bash
# Haven restore drill: proves a backup can be brought back. Run it on a schedule (monthly at
# least) on a machine that is NOT production, with the latest dump and the key file fetched
# from their two separate places.
#
#   deploy/restore-drill.sh --dump FILE.dump --keys-file KEYFILE [--haven BIN] [--schema-dir DIR]
#
# It restores the dump into a fresh temporary PostgreSQL cluster (loopback only; the roles
# haven_owner, haven_app and haven_api made anew, their passwords in a temporary passfile),
# brings the schema up to date with `haven migrate` as the owner, runs `haven audit verify`
# (must say OK), starts `haven serve` on it with the backed-up key file, checks /readyz, and
# reads a case back through the API as a temporary supervisor made for the drill — proving the
# key file opens the sealed identifying fields (their values are never printed). Then it
# verifies the trail again, stops everything and deletes the copy. Exit 0 only if all passed.
#
# Needs: PostgreSQL server binaries (PGBIN, default the newest /usr/lib/postgresql/*/bin),
# python3 and curl. As root, PostgreSQL runs as the `postgres` user. The haven binary: --haven,
# HAVEN_BIN, `haven` on PATH, or this checkout's .build/release/haven.
set -euo pipefail

DUMP="" KEYS="" HAVEN=${HAVEN_BIN:-} SCHEMA=${HAVEN_SCHEMA_DIR:-}
while [ $# -gt 0 ]; do
    case $1 in
        --dump) DUMP=$2; shift 2 ;;
        --keys-file) KEYS=$2; shift 2 ;;
        --haven) HAVEN=$2; shift 2 ;;
        --schema-dir) SCHEMA=$2; shift 2 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
step() { printf '\n== drill: %s\n' "$*"; }
die() { echo "DRILL FAILED: $*" >&2; exit 1; }
[ -r "$DUMP" ] || die "--dump FILE is required and must be readable"
[ -r "$KEYS" ] || die "--keys-file FILE is required and must be readable"
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "$HAVEN" ]; then HAVEN=$(command -v haven || echo "$HERE/../.build/release/haven"); fi
[ -x "$HAVEN" ] || die "no haven binary (use --haven or HAVEN_BIN)"
if [ -z "$SCHEMA" ] && [ -d "$HERE/../Schema" ]; then SCHEMA=$(cd "$HERE/../Schema" && pwd); fi
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PGBIN/initdb" ] || die "PostgreSQL server binaries not found (PGBIN)"

WORK=$(mktemp -d /tmp/haven-restore-drill.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
    local status=$?
    set +e
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
    [ -f "$WORK/pg/postmaster.pid" ] && as_pg "$PGBIN/pg_ctl" stop -D "$WORK/pg" -m fast -w -s >/dev/null 2>&1
    rm -rf "$WORK"
    if [ "$status" -eq 0 ]; then echo "DRILL PASSED"; else echo "DRILL FAILED (exit $status)"; fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

step "checking the files"
if [ -f "$DUMP.sha256" ]; then
    (cd "$(dirname "$DUMP")" && sha256sum --check --quiet "$(basename "$DUMP").sha256") || die "the dump does not match its checksum"
    echo "dump checksum OK"
fi
if [ -f "$KEYS.sha256" ]; then
    (cd "$(dirname "$KEYS")" && sha256sum --check --quiet "$(basename "$KEYS").sha256") || die "the key file does not match its checksum"
    echo "key file checksum OK"
fi
"$PGBIN/pg_restore" --list "$DUMP" >"$WORK/toc" || die "pg_restore cannot read $DUMP"
echo "dump: $(grep -m1 'Dumped from database version' "$WORK/toc" | sed 's/^; *//'), $(grep -c ' TABLE DATA ' "$WORK/toc") tables"
install -m 600 "$KEYS" "$WORK/keys"
[ "$(id -u)" -eq 0 ] && chown root "$WORK/keys"

step "fresh PostgreSQL cluster"
PORT=$(free_port)
mkdir -m 1777 "$WORK/run"
mkdir -m 700 "$WORK/pg"; [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$WORK/pg"
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth-local=peer --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 \
    || { cat "$WORK/initdb.log"; die "initdb"; }
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$PORT" "$WORK/run" >>"$WORK/pg/postgresql.conf"
as_pg "$PGBIN/pg_ctl" start -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 60 -s || die "PostgreSQL did not start"
SU=(as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$WORK/run" -p "$PORT" -U postgres)
OWNER_PW=$(openssl rand -hex 24); API_PW=$(openssl rand -hex 24)
"${SU[@]}" -d postgres -v owner_pw="$OWNER_PW" -v api_pw="$API_PW" <<'SQL'
CREATE ROLE haven_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_pw';
CREATE ROLE haven_app NOLOGIN NOBYPASSRLS;
CREATE ROLE haven_api LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD :'api_pw' IN ROLE haven_app;
CREATE DATABASE haven OWNER haven_owner;
REVOKE ALL ON DATABASE haven FROM PUBLIC;
GRANT CONNECT ON DATABASE haven TO haven_app;
SQL
(umask 077; printf '127.0.0.1:%s:haven:haven_owner:%s\n127.0.0.1:%s:haven:haven_api:%s\n' "$PORT" "$OWNER_PW" "$PORT" "$API_PW" >"$WORK/pgpass")
export PGPASSFILE=$WORK/pgpass
echo "cluster on 127.0.0.1:$PORT, roles haven_owner, haven_app, haven_api"

step "pg_restore"
cp "$DUMP" "$WORK/haven.dump" && chmod 644 "$WORK/haven.dump"
as_pg "$PGBIN/pg_restore" --exit-on-error --single-transaction -h "$WORK/run" -p "$PORT" -U postgres -d haven "$WORK/haven.dump" \
    || die "pg_restore failed"
"${SU[@]}" -d haven -Atc "SELECT 'restored: ' || (SELECT count(*) FROM case_file) || ' cases, ' || (SELECT count(*) FROM referral) || ' referrals, '
    || (SELECT count(*) FROM audit_event) || ' audit events, ' || (SELECT count(*) FROM app_user) || ' users; tables owned by '
    || (SELECT string_agg(DISTINCT tableowner, ',') FROM pg_tables WHERE schemaname = 'public')"

step "transaction ids: move the new cluster past the restored audit trail"
# Haven seals the audit trail in (transaction id, event id) order, with 64-bit transaction ids
# (xid8). A logical restore lands in a cluster whose transaction counter starts low. haven now
# starts a new chain segment there (audit_seal.segment), but that is not enough: once the new
# cluster's ids reach the restored ones, the sealer picks restored, already sealed events up
# again and every seal fails ("duplicate key value violates unique constraint
# audit_seal_event_id_key"), and events the dump holds unsealed are reported as inserted.
# Without this step this drill fails at its last `haven audit verify`. Every logical restore
# (not a physical one: pg_basebackup, replicas and PITR keep the ids) must therefore raise the
# transaction-id epoch above the restored ids before Haven writes anything: pg_resetwal -e on
# the cleanly stopped cluster, as pg_upgrade does.
read -r MAX_XID NOW_XID <<<"$("${SU[@]}" -d haven -Atc "SELECT greatest((SELECT coalesce(max(xid::text::numeric), 0) FROM audit_event),
    (SELECT coalesce(max(event_xid), 0) FROM audit_seal)), pg_current_xact_id()::text" | tr '|' ' ')"
EPOCH=$(python3 -c "import sys; print(max(int(sys.argv[1]), int(sys.argv[2])) // 2**32 + 1)" "${MAX_XID%.*}" "$NOW_XID")
as_pg "$PGBIN/pg_ctl" stop -D "$WORK/pg" -m fast -w -s
as_pg "$PGBIN/pg_resetwal" -e "$EPOCH" -D "$WORK/pg" >/dev/null
as_pg "$PGBIN/pg_ctl" start -D "$WORK/pg" -l "$WORK/pg/server.log" -w -t 60 -s || die "PostgreSQL did not restart"
echo "largest restored transaction id $MAX_XID, cluster was at $NOW_XID; epoch set to $EPOCH: new ids start at $("${SU[@]}" -d haven -Atc "SELECT pg_current_xact_id()")"

export DATABASE_URL="postgresql://haven_api@127.0.0.1:$PORT/haven?sslmode=disable"
export HAVEN_MIGRATION_DATABASE_URL="postgresql://haven_owner@127.0.0.1:$PORT/haven?sslmode=disable"
export HAVEN_KEYS_FILE=$WORK/keys HAVEN_LOG_LEVEL=${HAVEN_LOG_LEVEL:-warning}
[ -n "$SCHEMA" ] && export HAVEN_SCHEMA_DIR=$SCHEMA

step "haven migrate (as the owner)"
"$HAVEN" migrate || die "haven migrate"

step "haven audit verify (the restored trail, before the drill adds anything)"
"$HAVEN" audit verify | tee "$WORK/verify.out" || die "haven audit verify: the restored trail does not verify with this key file"
grep -q '^OK' "$WORK/verify.out" || die "audit verify did not say OK"

step "haven serve on the restored copy"
HPORT=$(free_port)
HAVEN_NO_MIGRATE=1 "$HAVEN" serve --port "$HPORT" >"$WORK/haven.log" 2>&1 &
PIDS+=($!)
BASE=http://127.0.0.1:$HPORT
code=000
for _ in $(seq 1 120); do
    code=$(curl -s -o "$WORK/ready" -w '%{http_code}' --max-time 2 "$BASE/readyz" || true)
    [ "$code" = 200 ] && break; sleep 0.25
done
echo "/readyz -> $code $(cat "$WORK/ready" 2>/dev/null)"
[ "$code" = 200 ] || { tail -20 "$WORK/haven.log"; die "/readyz"; }
if grep -q 'lacks keys the database was sealed with' "$WORK/haven.log"; then
    grep 'lacks keys' "$WORK/haven.log" | head -1
    die "the key file does not hold every key the data was sealed with"
fi

step "read a case back through the API"
ORG=$("${SU[@]}" -d haven -Atc "SELECT organisation_id FROM case_file WHERE status = 'open' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
[ -n "$ORG" ] || die "the restored database holds no open case"
DRILL_USER="restore.drill.$(openssl rand -hex 3)"
DRILL_PW="restore drill $(openssl rand -hex 12)"
printf '%s\n' "$DRILL_PW" | "$HAVEN" user create --org "$ORG" --role supervisor --username "$DRILL_USER" --display-name "Restore drill" --password-stdin >"$WORK/user.out" \
    || die "could not create the drill's supervisor"
echo "temporary supervisor $DRILL_USER in organisation $ORG (exists only in this copy)"
python3 - "$BASE" "$DRILL_USER" "$DRILL_PW" "$WORK/user.out" <<'PY' || die "reading a case through the API"
import base64, hashlib, hmac, json, re, struct, sys, time, urllib.request, urllib.error
base, user, password, banner = sys.argv[1], sys.argv[2], sys.argv[3], open(sys.argv[4]).read()
secret = re.search(r"secret=([A-Z2-7]+)", banner).group(1)
def totp(offset=0):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30 + offset), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)
def call(method, path, token=None, body=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None, method=method)
    if body: request.add_header("Content-Type", "application/json")
    if token: request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()[:300]
token = None
for offset in (0, 1, -1):
    status, payload = call("POST", "/v1/auth/login", body={"username": user, "password": password, "totp": totp(offset)})
    if status == 200:
        token = payload["token"]; break
if not token: sys.exit(f"login failed: {status} {payload}")
status, page = call("GET", "/v1/cases?status=open&limit=5", token)
if status != 200 or not page["items"]: sys.exit(f"GET /v1/cases -> {status} {page}")
opened = 0
for item in page["items"]:
    status, case = call("GET", f"/v1/cases/{item['id']}", token)
    if status != 200: sys.exit(f"GET /v1/cases/{{id}} -> {status} {case}")
    identity = (case.get("person") or {}).get("identity") or {}
    fields = sorted(k for k, v in identity.items() if v)
    print(f"GET /v1/cases/{{id}} -> 200: case {case.get('reference')}; identity fields opened with the key file: {', '.join(fields) or 'none'} (values not shown)")
    opened += bool(fields)
if opened == 0: sys.exit("no identifying field could be opened: wrong key file?")
PY

step "haven audit verify (after the drill's own reads)"
"$HAVEN" audit verify | tee "$WORK/verify.out" || die "haven audit verify"
grep -q '^OK' "$WORK/verify.out" || die "audit verify did not say OK"
