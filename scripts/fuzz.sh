#!/usr/bin/env bash
# Fuzzes the running API against its contract (Schema/openapi.yaml) with schemathesis.
#
# Builds haven, starts it on a loopback port with a throwaway embedded PostgreSQL, seeds
# synthetic data, logs in as a caseworker, a partner and an auditor, and runs schemathesis
# (every operation; examples, coverage, fuzzing and stateful phases) once per role with four
# checks: no 5xx (not_a_server_error), bodies match the documented schema
# (response_schema_conformance), every status is documented (status_code_conformance), every
# content type is documented (content_type_conformance).
#
#   scripts/fuzz.sh                 full run: EXAMPLES cases per operation and phase (default 30),
#                                   well over 1000 generated cases in all
#   CI_FUZZ=1 scripts/fuzz.sh       short run for CI: a caseworker, the fuzzing phase, 3 cases per
#                                   operation (~170 cases, about a minute after the build), debug build
#   FAST=1                          debug build instead of release (FAST=0 forces release)
#   EXAMPLES=N  SEED=N  WORKERS=N   size, reproduce, parallelism
#   ROLES="caseworker partner"      which seeded roles get a pass; PHASES=fuzzing,... which phases
#   OPENAPI=path                    fuzz against another copy of the document (e.g. a proposed fix)
#   CHECKS=a,b,...                  other schemathesis checks (e.g. add response_headers_conformance)
#   KEEP=1                          keep the temp folder (report, server log) afterwards
#
# Exit status: 0 when every check passed in every pass; 1 on any failure or error. The reports
# (JUnit XML and NDJSON events per pass, the server log) are kept under the printed folder.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

CI_FUZZ=${CI_FUZZ:-0}
if [ "$CI_FUZZ" = 1 ]; then
    EXAMPLES=${EXAMPLES:-3}
    PHASES=${PHASES:-examples,fuzzing}
    ROLES=${ROLES:-caseworker}
    CASES=${CASES:-50}
    FAST=${FAST:-1}
else
    EXAMPLES=${EXAMPLES:-30}
    PHASES=${PHASES:-examples,coverage,fuzzing,stateful}
    ROLES=${ROLES:-caseworker partner auditor}
    CASES=${CASES:-200}
fi
# MAX_TIME=seconds makes schemathesis repeat fuzzing until the time is spent (a soak); unset: one round.
MAX_TIME=${MAX_TIME:-}
SEED=${SEED:-$RANDOM}
# Python 3.11 before 3.11.8 can raise "AST constructor recursion depth mismatch" (CPython gh-106905)
# inside hypothesis when several workers generate at once: one worker unless told otherwise.
WORKERS=${WORKERS:-1}
CHECKS=${CHECKS:-not_a_server_error,response_schema_conformance,status_code_conformance,content_type_conformance}
PASSWORD=synthetic-seed-passphrase
OPENAPI=$(realpath "${OPENAPI:-$ROOT/Schema/openapi.yaml}")

# --- schemathesis -------------------------------------------------------------------------
if ! command -v st >/dev/null 2>&1 && ! command -v schemathesis >/dev/null 2>&1; then
    echo "installing schemathesis from PyPI"
    python3 -m pip install --quiet schemathesis || python3 -m pip install --quiet --user schemathesis
    export PATH="$HOME/.local/bin:$PATH"
fi
ST=$(command -v st || command -v schemathesis)
ST_VERSION=$("$ST" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+(\.[0-9]+)?' | head -1)
case "$ST_VERSION" in
    4.*) ;;
    *) echo "scripts/fuzz.sh needs schemathesis 4.x (found ${ST_VERSION:-nothing}): python3 -m pip install -U 'schemathesis>=4,<5'" >&2; exit 2 ;;
esac
echo "schemathesis $ST_VERSION; document $OPENAPI; seed $SEED; $EXAMPLES cases per operation and phase; phases $PHASES; roles: $ROLES"

# --- build --------------------------------------------------------------------------------
if [ "${FAST:-0}" = 1 ]; then CONFIG=debug; else CONFIG=release; fi
if [ -z "${HAVEN_BIN:-}" ]; then
    swift build -c "$CONFIG" --product haven
    HAVEN_BIN="$ROOT/.build/$CONFIG/haven"
fi

# --- a throwaway service --------------------------------------------------------------------
# The embedded PostgreSQL runs as the postgres user when we are root: it needs to reach its
# data folder, so the folder's parent is world-readable.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/haven-fuzz.XXXXXX")
chmod 755 "$WORK"
DATA="$WORK/pg"
KEYS="$WORK/keys"
REPORTS="$WORK/report"
mkdir -p "$REPORTS"
echo "k1 $(python3 -c 'import secrets; print(secrets.token_hex(32))')" > "$KEYS"
chmod 600 "$KEYS"
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
BASE="http://127.0.0.1:$PORT"
DB=(--data-dir "$DATA" --keys-file "$KEYS" --schema-dir "$ROOT/Schema")

SERVER_PID=""
cleanup() {
    status=$?
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
    if [ "${KEEP:-0}" = 1 ] || [ "$status" -ne 0 ]; then
        echo "kept: $WORK (report: $REPORTS, server log: $WORK/haven.log)"
    else
        # The cluster files belong to the postgres user when we are root; rm as root is fine.
        rm -rf "$WORK"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "seeding $CASES synthetic cases into $DATA"
"$HAVEN_BIN" dev seed --cases "$CASES" --organisations 6 --logins "$WORK/logins.json" "${DB[@]}" > "$WORK/seed.log" 2>&1 \
    || { cat "$WORK/seed.log" >&2; exit 1; }
SEED_ORG=$(python3 -c 'import json,sys; d = json.load(open(sys.argv[1])); print(d["logins"][0]["organisation_id"])' "$WORK/logins.json")
printf '%s\n' "$PASSWORD" | "$HAVEN_BIN" user create --org "$SEED_ORG" --role auditor --username fuzz-auditor \
    --password-stdin "${DB[@]}" > "$WORK/auditor.log" 2>&1 || { cat "$WORK/auditor.log" >&2; exit 1; }

echo "starting haven on $BASE"
HAVEN_LOG_LEVEL=${HAVEN_LOG_LEVEL:-warning} "$HAVEN_BIN" serve --host 127.0.0.1 --port "$PORT" --login-rate 1000000 "${DB[@]}" \
    > "$WORK/haven.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    if curl -fsS "$BASE/readyz" >/dev/null 2>&1; then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "haven exited:" >&2; cat "$WORK/haven.log" >&2; exit 1; }
    sleep 0.2
done
curl -fsS "$BASE/readyz" >/dev/null || { echo "haven did not become ready" >&2; cat "$WORK/haven.log" >&2; exit 1; }

# A bearer token for the first seeded user with `role` (the auditor is the one made above).
login() {
    python3 - "$BASE" "$WORK/logins.json" "$1" "$PASSWORD" <<'PY'
import json, sys, urllib.request
base, logins, role, password = sys.argv[1:5]
if role == "auditor":
    username = "fuzz-auditor"
else:
    username = next(l["username"] for l in json.load(open(logins))["logins"] if l["role"] == role)
request = urllib.request.Request(base + "/v1/auth/login", method="POST", headers={"Content-Type": "application/json"},
                                 data=json.dumps({"username": username, "password": password}).encode())
print(json.load(urllib.request.urlopen(request))["token"])
PY
}

# --- the runs ---------------------------------------------------------------------------------
# Tokens reach schemathesis through the environment (config interpolation), never argv.
cat > "$WORK/schemathesis.toml" <<TOML
base-url = "$BASE"
seed = $SEED
workers = $WORKERS
request-timeout = 30
suppress-health-check = ["too_slow", "filter_too_much", "data_too_large", "large_base_example"]

[generation]
max-examples = $EXAMPLES

# Only operations the document secures get the token; /v1/auth/login, /healthz and the others
# documented with "security: []" are sent without one, as real clients send them.
[auth.openapi.bearerAuth]
bearer = "\${HAVEN_FUZZ_TOKEN}"

[output.sanitization]
enabled = true
TOML

failures=0
run_pass() {
    local name=$1; shift
    local junit="$REPORTS/$name.junit.xml" ndjson="$REPORTS/$name.ndjson"
    echo
    echo "=== pass: $name ==="
    local args=(--config-file "$WORK/schemathesis.toml" run "$OPENAPI"
        --checks "$CHECKS" --phases "$PHASES" --max-examples "$EXAMPLES"
        --report junit,ndjson --report-junit-path "$junit" --report-ndjson-path "$ndjson" --no-color)
    [ -n "$MAX_TIME" ] && args+=(--max-time "$MAX_TIME")
    set +e
    # The whole output goes to the report folder; the terminal gets failures, errors and the summary.
    # Run from the temp folder: schemathesis keeps its cache (.schemathesis/) in the working directory.
    (cd "$WORK" && "$ST" "${args[@]}" "$@") 2>&1 | tee "$REPORTS/$name.log" \
        | awk '/^=+ (FAILURES|ERRORS|SUMMARY) =+$/ { show = 1 } show && NF && shown++ < 250'
    local status=${PIPESTATUS[0]}
    set -e
    echo "pass $name: schemathesis exit $status"
    [ "$status" -eq 0 ] || failures=$((failures + 1))
}

# Logging out revokes the token, so POST /v1/auth/logout is fuzzed in a pass of its own with a
# session of its own (after the first 204 the rest answer the documented 401).
for role in $ROLES; do
    HAVEN_FUZZ_TOKEN=$(login "$role") run_pass "$role" --exclude-operation-id logout
    HAVEN_FUZZ_TOKEN=$(login "$role") run_pass "$role-logout" --include-operation-id logout --phases "${PHASES//,stateful/}"
done

# --- summary ----------------------------------------------------------------------------------
echo
python3 "$ROOT/scripts/fuzz/summary.py" "$REPORTS" || failures=$((failures + 1))
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "haven died during the run" >&2
    failures=$((failures + 1))
fi
if grep -qiE 'fatal error|assertion failed|crash' "$WORK/haven.log"; then
    echo "the server log shows a crash:" >&2
    grep -iE 'fatal error|assertion failed|crash' "$WORK/haven.log" | head >&2
    failures=$((failures + 1))
fi
echo "reports: $REPORTS"
[ "$failures" -eq 0 ] || { echo "FUZZING FAILED ($failures pass(es) or checks failed)"; exit 1; }
echo "FUZZING OK"
