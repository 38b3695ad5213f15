# The HTTP skeleton against the bare endpoint (issue 2). Target: /healthz ≥ 0.8 of bare.
# Alternated PAIRS times like the pgbench mirrors: one bare run then one haven run drifted by
# a fifth between runs on this host.
for _ in $(seq 1 "$PAIRS"); do
    bare=$(measure "http://127.0.0.1:$BARE_PORT/healthz")
    echo "$(measure "http://127.0.0.1:$HAVEN_PORT/healthz") | $bare"
done | python3 "$ROOT/Benchmarks/median_pairs.py" >"$WORK/healthz.txt"
read -r rps p99 err _ bare_rps bare_p99 r spread <"$WORK/healthz.txt"
row "bare Hummingbird GET /healthz (limit)" "$bare_rps" "$bare_p99" "-" "-" "-" "-"
row "haven GET /healthz" "$rps" "$p99" "$err" "$bare_rps" "$r ($spread)" "≥ 0.8"
HEALTHZ_RPS=$rps
read -r rps p99 err _ <<<"$(measure "http://127.0.0.1:$HAVEN_PORT/readyz")"
row "haven GET /readyz (one query)" "$rps" "$p99" "$err" "$bare_rps" "$(ratio "$rps" "$bare_rps")" "reported"
