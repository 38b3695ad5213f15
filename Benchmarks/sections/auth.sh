# Identity and the audited read (issue 3).
# Targets: GET /v1/me ≥ 0.7 of /healthz; an audited read ≥ 0.6 of pgbench running its statements.
BASE="http://127.0.0.1:$HAVEN_PORT"
APP_CONN=$BENCH_CONN
if [ ! -f "$WORK/logins.json" ]; then
    "$BIN/haven" dev seed --cases 10000 --data-dir "$WORK/pg" --keys-file "$WORK/keys" --logins "$WORK/logins.json" >/dev/null 2>>"$WORK/haven.log"
fi
CW_NAME=$(python3 "$ROOT/Benchmarks/tools.py" login-field "$WORK/logins.json" caseworker 0 username)
CW_TOKEN=$(python3 "$ROOT/Benchmarks/tools.py" login "$BASE" "$CW_NAME" synthetic-seed-passphrase)
CW_HASH=$(python3 "$ROOT/Benchmarks/tools.py" token-hash "$CW_TOKEN")
CW_ID=$(python3 "$ROOT/Benchmarks/tools.py" get "$BASE/v1/me" "$CW_TOKEN" user.id)
CW_ORG=$(python3 "$ROOT/Benchmarks/tools.py" get "$BASE/v1/me" "$CW_TOKEN" user.organisation_id)
CASE_ID=$(python3 "$ROOT/Benchmarks/tools.py" get "$BASE/v1/cases?limit=1" "$CW_TOKEN" items.0.id)
AUTH=(-H "Authorization: Bearer $CW_TOKEN")
VARS=(-D "token_hash=$CW_HASH" -D "user_id=$CW_ID" -D "org_id=$CW_ORG" -D "case_id=$CASE_ID")

if [ -z "${HEALTHZ_RPS:-}" ]; then read -r HEALTHZ_RPS _ _ <<<"$(measure "$BASE/healthz")"; fi
read -r rps p99 err _ <<<"$(measure "$BASE/v1/me" "${AUTH[@]}")"
row "GET /v1/me (token check)" "$rps" "$p99" "$err" "$HEALTHZ_RPS (/healthz)" "$(ratio "$rps" "$HEALTHZ_RPS")" "≥ 0.7"
read -r limit limit_p99 <<<"$(pgbench_limit "$ROOT/Benchmarks/sql/me.sql" "$APP_CONN" "${VARS[@]}")"
row "GET /v1/me vs pgbench of its token check (cache misses only)" "$rps" "$p99" "$err" "$limit" "$(ratio "$rps" "$limit")" "reported"

read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired "$BASE/v1/cases/$CASE_ID" "${AUTH[@]}" -- \
    "$ROOT/Benchmarks/sql/case_read.sql" "$APP_CONN" "${VARS[@]}")"
row "GET /v1/cases/{id} (audited read) vs pgbench" "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.6"

# Logins are bounded by scrypt, by design: reported, no target.
printf 'synthetic login passphrase\n' | "$BIN/haven" user create --org "$CW_ORG" --role caseworker --username bench.login \
    --password-stdin --data-dir "$WORK/pg" --keys-file "$WORK/keys" >/dev/null 2>"$WORK/user-create.log" \
    || { echo "haven user create failed:"; cat "$WORK/user-create.log"; exit 1; }
cat >"$WORK/login.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"username":"bench.login","password":"synthetic login passphrase"}'
wrk.headers["Content-Type"] = "application/json"
LUA
read -r rps p99 err _ <<<"$(CONNECTIONS=8 measure "$BASE/v1/auth/login" -s "$WORK/login.lua")"
row "POST /v1/auth/login (scrypt N=2^14 r=8 p=5)" "$rps" "$p99" "$err" "-" "-" "KDF-bound"
