# The HTTP skeleton against the bare endpoint (issue 2). Target: /healthz ≥ 0.8 of bare.
read -r bare_rps bare_p99 bare_err _ <<<"$(measure "http://127.0.0.1:$BARE_PORT/healthz")"
row "bare Hummingbird GET /healthz (limit)" "$bare_rps" "$bare_p99" "$bare_err" "-" "-" "-"
read -r rps p99 err _ <<<"$(measure "http://127.0.0.1:$HAVEN_PORT/healthz")"
row "haven GET /healthz" "$rps" "$p99" "$err" "$bare_rps" "$(ratio "$rps" "$bare_rps")" "≥ 0.8"
HEALTHZ_RPS=$rps
read -r rps p99 err _ <<<"$(measure "http://127.0.0.1:$HAVEN_PORT/readyz")"
row "haven GET /readyz (one query)" "$rps" "$p99" "$err" "$bare_rps" "$(ratio "$rps" "$bare_rps")" "reported"
