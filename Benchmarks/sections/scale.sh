# At a million cases (issues 3, 4, 5): list latency against the same at 10k, audit verification
# rate, the national report, and intake with field encryption against pgbench.
BASE="http://127.0.0.1:$HAVEN_PORT"
APP_CONN=$BENCH_CONN
PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -Atq "$SUPERUSER" -c "$1"; }
# median_get URL TOKEN → "median_ms errors" over five GETs; an answer other than 200 counts as an
# error, not a time (a quick 401 is no answer), and all five failing gives a median of -1.
median_get() {
    local out times=() errors=0
    for _ in 1 2 3 4 5; do
        out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $2" "$1")
        if [ "${out%% *}" = 200 ]; then times+=("${out#* }"); else errors=$((errors + 1)); fi
    done
    python3 -c "import sys; t = sorted(float(x) for x in sys.argv[2:]); print(round(t[len(t) // 2] * 1000) if t else -1, sys.argv[1])" "$errors" "${times[@]}"
}
if [ -z "${LIST_P95_SMALL:-}" ]; then source "$ROOT/Benchmarks/sections/cases.sh"; fi
SCALE_CASES=${SCALE_CASES:-1000000}
have=$(sql "SELECT count(*) FROM case_file")
more=$((SCALE_CASES - have))
started=$(date +%s)
# The same density of cases per caseworker as the first 10k: many more organisations.
"$BIN/haven" dev seed --add-to-earlier-seed --cases "$more" --organisations $(( more / 500 + 2 )) --data-dir "$WORK/pg" --keys-file "$WORK/keys" >/dev/null 2>>"$WORK/haven.log"
seeded=$(( $(date +%s) - started ))
sql "VACUUM ANALYZE" >/dev/null
row "haven dev seed: $more more cases" "-" "$seeded s" "-" "-" "-" "minutes, not hours"

# The running server's sealer chains the seeded events in the background. Wait for it, so the
# rows below measure a steady state rather than share the machine with a million-event backlog.
pending() { sql "SELECT (SELECT count(*) FROM audit_event) - (SELECT count(*) FROM audit_seal)"; }
backlog=$(pending)
started=$(date +%s)
while [ "$(pending)" -gt 0 ] && [ $(( $(date +%s) - started )) -lt 900 ]; do sleep 2; done
sealing=$(( $(date +%s) - started ))
sql "ANALYZE audit_seal" >/dev/null
# Usually it kept up with the seeding (one batch a second); report it when it did not.
if [ "$backlog" -gt 0 ]; then
    row "audit sealer: $backlog seeded events chained after the seeding ($(pending) left)" \
        "$(( backlog / (sealing > 0 ? sealing : 1) )) ev/s" "$sealing s" "-" "-" "-" "reported"
fi

read -r rps p99 err p95 <<<"$(measure "$BASE/v1/cases?status=open&limit=50" "${AUTH[@]}")"
row "GET /v1/cases?status=open&limit=50 at $SCALE_CASES cases: p95 vs at 10k" "$rps" "$p99 (p95 $p95)" "$err" "p95 $LIST_P95_SMALL" "$(ratio "$p95" "$LIST_P95_SMALL")" "≤ 1.5"

# Audit verification over every event (one per seeded case and every request above).
verify=$("$BIN/haven" audit verify --data-dir "$WORK/pg" --keys-file "$WORK/keys" 2>>"$WORK/haven.log" | tail -1)
events_per_s=$(sed -n 's/.* \([0-9]*\) events\/s$/\1/p' <<<"$verify")
row "haven audit verify: ${verify%%;*}" "$events_per_s ev/s" "-" "-" "200000 ev/s" "$(ratio "$events_per_s" 200000)" "≥ 1.0"

# The national case report, as an auditor.
printf 'synthetic auditor passphrase\n' | "$BIN/haven" user create --org "$CW_ORG" --role auditor --username bench.auditor \
    --password-stdin --data-dir "$WORK/pg" --keys-file "$WORK/keys" >/dev/null 2>>"$WORK/haven.log"
AUDITOR=$(python3 "$ROOT/Benchmarks/tools.py" login "$BASE" bench.auditor "synthetic auditor passphrase")
read -r median errors <<<"$(median_get "$BASE/v1/reports/cases?by=case_type,sex" "$AUDITOR")"
row "GET /v1/reports/cases?by=case_type,sex, national, $SCALE_CASES cases (median of 5)" "-" "$median ms" "$errors" "2000 ms" "$(ratio "$median" 2000)" "≤ 1.0"

# A supervisor's overdue worklist: the organisation's late services among a million cases' episodes.
uri=$(printf 'synthetic supervisor passphrase\n' | "$BIN/haven" user create --org "$CW_ORG" --role supervisor --username bench.supervisor \
    --password-stdin --data-dir "$WORK/pg" --keys-file "$WORK/keys" 2>>"$WORK/haven.log" | grep -o 'otpauth://[^ ]*' | head -1)
SUPERVISOR=$(python3 "$ROOT/Benchmarks/tools.py" login-totp "$BASE" bench.supervisor "synthetic supervisor passphrase" "$uri")
read -r median errors <<<"$(median_get "$BASE/v1/services/overdue?limit=50" "$SUPERVISOR")"
row "GET /v1/services/overdue?limit=50 as a supervisor, $SCALE_CASES cases (median of 5)" "-" "$median ms" "$errors" "500 ms" "$(ratio "$median" 500)" "≤ 1.0"

# Intake with field encryption against pgbench running its statements.
cat >"$WORK/intake.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"case_type":"trafficking","identification_status":"presumed","identified_by":"hotline","identified_on":"2026-11-01","risk_level":"high","person":{"identity":{"given_name":"Synthetic","family_name":"Benchmark","contact":{"phone":"+000 0000"}},"sex":"female","birth_year":1999,"citizenship":"MD","languages":["ro"]},"trafficking":{"exploitation_types":["forced_labour"],"months_exploited":7}}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $CW_TOKEN"
LUA
read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired "$BASE/v1/cases" -s "$WORK/intake.lua" -- \
    "$ROOT/Benchmarks/sql/intake.sql" "$APP_CONN" "${VARS[@]}")"
row "POST /v1/cases (intake, AES-256-GCM) vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.5"
