#!/usr/bin/env bash
# Hygiene drill (S7): after a run full of known synthetic names, contact details, notes, passwords,
# TOTP secrets and tokens, haven's log holds none of them.
#
# A fresh haven (no seed: it prints its bootstrap banner) runs with standard error captured as its
# log; Benchmarks/load/hygiene.py walks scripts/smoke.py and then many more calls with marked
# values (right and wrong logins, forged and revoked tokens, identifying fields on intake and
# PATCH, notes on needs, referrals and transitions, a break-glass reason, an export re-authenticated
# by password, malformed bodies and query strings carrying marked values). haven is stopped, and the
# log is searched (case-insensitively, fixed strings) for every marked value. Standard output must
# hold nothing but the one-time bootstrap banner. The PostgreSQL server log is searched as well.
#
# The database is reached through DATABASE_URL / HAVEN_MIGRATION_DATABASE_URL carrying passwords,
# as in production; those passwords and the field-encryption key are searched for too.
#
#   scripts/drill-log-hygiene.sh     # asserted at HAVEN_LOG_LEVEL=info (the default) and at debug
#   ASSERT_LEVELS=info REPORT_LEVELS="debug trace" scripts/drill-log-hygiene.sh   # report some levels only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=drill-log-hygiene
ASSERT_LEVELS=${ASSERT_LEVELS:-info debug}
REPORT_LEVELS=${REPORT_LEVELS-}

work_init log-hygiene
haven_build
python3 -c "import secrets; print('k1', secrets.token_hex(32))" >"$WORK/keys"
chmod 600 "$WORK/keys"

status=0
report=()
facts="{}"
for level in $ASSERT_LEVELS $REPORT_LEVELS; do
    asserted=no; [[ " $ASSERT_LEVELS " == *" $level "* ]] && asserted=yes
    dir="$WORK/$level"
    mkdir -p "$dir"
    chmod 755 "$dir"
    DATA_DIRS+=("$dir/pg")
    PORT=$(free_port)
    BASE="http://127.0.0.1:$PORT"
    # The database as in production: reached through DATABASE_URL with passwords in the URLs (the
    # cluster trusts local connections, so they are not checked, but haven holds and must not log them).
    "$HAVEN" migrate --data-dir "$dir/pg" --keys-file "$WORK/keys" --schema-dir "$SCHEMA_DIR" >"$dir/migrate.log" 2>&1
    $PG_CTL start -D "$dir/pg" -w -l "$dir/pg/server.log" >/dev/null
    DB_PASSWORD="Hygiene-App-DB-Password-4242"; OWNER_PASSWORD="Hygiene-Owner-DB-Password-4343"
    DATABASE_URL="host=$dir/pg port=5432 user=haven_app password=$DB_PASSWORD dbname=haven" \
    HAVEN_MIGRATION_DATABASE_URL="postgresql://haven_owner:$OWNER_PASSWORD@/haven?host=$dir/pg" \
    HAVEN_LOG_LEVEL=$level "$HAVEN" serve --port "$PORT" --keys-file "$WORK/keys" --schema-dir "$SCHEMA_DIR" \
        --login-rate 1000 >"$dir/haven.out" 2>"$dir/haven.log" &
    pid=$!
    PIDS+=("$pid")
    wait_ready "$PORT" 60 || { tail "$dir/haven.log"; result "$NAME" FAIL "haven did not start"; exit 1; }
    for _ in $(seq 1 50); do grep -q "TOTP enrolment" "$dir/haven.out" && break; sleep 0.2; done
    say "[$level] haven on $BASE; exercising the API with marked values"
    python3 "$ROOT/Benchmarks/load/hygiene.py" "$BASE" "$dir/haven.out" "$dir/markers.tsv" >"$dir/exercise.json"
    printf 'database-password\t%s\ndatabase-password\t%s\nkey\t%s\n' "$DB_PASSWORD" "$OWNER_PASSWORD" "$(awk '{print $2}' "$WORK/keys")" >>"$dir/markers.tsv"
    stop_pid "$pid"
    forget_pid "$pid"
    [ -f "$dir/pg/postmaster.pid" ] && $PG_CTL stop -D "$dir/pg" -m fast -w >/dev/null 2>&1 || true

    # Standard output: only the bootstrap banner (between its two rules of '=').
    python3 - "$dir/haven.out" >"$dir/stdout-rest.txt" <<'PY'
import sys
inside = False
for line in open(sys.argv[1]):
    if line.strip().startswith("=" * 20):
        inside = not inside
        continue
    if not inside and line.strip():
        print(line, end="")
PY
    found=$(python3 - "$dir/markers.tsv" "$dir/haven.log" "$dir/stdout-rest.txt" "$dir/pg/server.log" <<'PY'
import collections, json, sys
markers = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if "\t" in l]
texts = {name: open(path, errors="replace").read().lower() for name, path in
         (("haven log", sys.argv[2]), ("haven stdout", sys.argv[3]), ("postgresql log", sys.argv[4]))}
hits = collections.defaultdict(list)
for category, value in markers:
    for name, text in texts.items():
        if value.lower() in text:
            hits[name].append(f"{category}: {value}")
lines = sum(1 for _ in open(sys.argv[2]))
print(json.dumps({"markers": len(markers), "categories": dict(collections.Counter(c for c, _ in markers)), "log_lines": lines,
                  "log_bytes": len(texts["haven log"]), "hits": {k: sorted(set(v)) for k, v in hits.items()}}))
PY
)
    echo "[$level] $(python3 -c "import json,sys; f=json.loads(sys.argv[1]); print(f'{f[\"markers\"]} marked values searched in {f[\"log_lines\"]} log lines; found: {f[\"hits\"] or \"none\"}')" "$found")"
    facts=$(python3 -c "import json,sys; f=json.loads(sys.argv[1]); f[sys.argv[2]]=json.loads(sys.argv[3]); f[sys.argv[2]]['exercise']=json.load(open(sys.argv[4])); print(json.dumps(f))" \
        "$facts" "$level" "$found" "$dir/exercise.json")
    haven_hits=$(python3 -c "import json,sys; h=json.loads(sys.argv[1])['hits']; print(len(h.get('haven log', [])) + len(h.get('haven stdout', [])))" "$found")
    pg_hits=$(python3 -c "import json,sys; print(len(json.loads(sys.argv[1])['hits'].get('postgresql log', [])))" "$found")
    requests=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['requests'])" "$dir/exercise.json")
    request_lines=$(grep -c "\[HavenAPI\] request" "$dir/haven.log" || true)
    if [ "$request_lines" -lt "$requests" ]; then
        say "[$level] only $request_lines request lines for $requests requests: the log is not what was exercised"; status=1
    fi
    hits=$(python3 -c "import json,sys; h=json.loads(sys.argv[1])['hits']; print('; '.join(h.get('haven log', []) + h.get('haven stdout', [])))" "$found")
    how="reported"; [ "$asserted" = yes ] && how="asserted"
    shown=""; [ -n "$hits" ] && shown=" [$hits]"
    line="$level ($how): $request_lines request lines, $(python3 -c "import json,sys; f=json.loads(sys.argv[1]); print(f['log_lines'])" "$found") lines in all, $haven_hits of $(python3 -c "import json,sys; print(json.loads(sys.argv[1])['markers'])" "$found") marked values found$shown (PostgreSQL log: $pg_hits)"
    if [ "$haven_hits" -ne 0 ]; then
        if [ "$asserted" = yes ]; then status=1; else line="$line — LEAK at $level (not asserted)"; fi
    fi
    report+=("$line")
done
DRILL_FACTS=$facts
export DRILL_FACTS
summary="$(printf '%s; ' "${report[@]}")markers: passwords, TOTP secrets, bearer tokens, names, aliases, birth dates, phone, e-mail, address, document number, notes, break-glass reason, query and path values"
if [ "$status" -eq 0 ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary"
    exit 1
fi
