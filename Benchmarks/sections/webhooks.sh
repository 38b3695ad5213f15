# Notifications (issue 27): how long a message waits between the commit that wrote it and its
# webhook's arrival at a receiver on loopback, under the mixed load (caseworkers referring,
# partners accepting, rejecting and completing: each a message). The webhook kill drill without
# its kill does the work on its own data folder, with the release binary built above.
WEBHOOK_DURATION=${WEBHOOK_DURATION:-$((DURATION * 3))}
facts=$(HAVEN_BIN="$BIN/haven" KILLS=0 DURATION="$WEBHOOK_DURATION" CONNECTIONS=32 RESULTS_DIR="" DRILL_NAME=bench-webhook-latency \
    bash "$ROOT/scripts/drill-webhook-kill.sh" 2>>"$WORK/webhooks.log" | tee -a "$WORK/webhooks.log" | grep '^{"kills"' | tail -1)
if [ -n "$facts" ]; then
    read -r p50 p99 messages problems <<<"$(python3 -c '
import json, sys
f = json.loads(sys.argv[1])
print(f["latency_p50_s"], f["latency_p99_s"], f["messages"], len(f["problems"]))' "$facts")"
    row "webhook arrival after its message's commit, p50 / p99 (mixed load, 32 connections, $WEBHOOK_DURATION s, $messages messages)" \
        "-" "$(python3 -c "print(round($p50 * 1000), '/', round($p99 * 1000))") ms" "$problems" "-" "-" "p99 ≤ 2000 ms (worker polls every second)"
else
    tail -20 "$WORK/webhooks.log"
    row "webhook arrival after its message's commit" "-" "-" "drill failed" "-" "-" "p99 ≤ 2000 ms"
fi
