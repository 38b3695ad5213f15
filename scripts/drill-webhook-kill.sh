#!/usr/bin/env bash
# Fault drill: `kill -9` haven while webhook deliveries are pending; every message still arrives.
#
# Every organisation has a webhook (all kinds) pointing at a receiver on loopback that keeps what
# it is sent. The mixed load (referrals made, accepted, rejected, completed, cancelled) writes
# messages to the outbox; haven is killed mid-load and started again on the same data folder, and
# the load goes on. Asserted, once the outbox has drained:
#   - every message routed to a webhook reached the receiver: the distinct `webhook-id`s it holds
#     are exactly the outbox's webhook deliveries, all `sent`, none pending or dead (nothing lost);
#   - a message received more than once (a delivery cut off by the kill, claimed again when its
#     lease ended) carries the same id each time, so the receiver keeps it once;
#   - every delivery is signed as Standard Webhooks says, under its subscription's secret;
#   - every body is the message's kind, time, id, priority, case reference and link, nothing more.
# With KILLS=0 it is the latency measurement of Benchmarks/run.sh: the time from a message's
# commit to its arrival at the receiver (p50, p99) under the load.
#
#   scripts/drill-webhook-kill.sh            # quick: 32 connections, 30 s, one kill
#   LONG=1 scripts/drill-webhook-kill.sh     # 90 s, three kills
#   KILLS=0 scripts/drill-webhook-kill.sh    # no kill: latency only
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
NAME=${DRILL_NAME:-drill-webhook-kill}
if [ -n "${LONG:-}" ]; then DURATION=${DURATION:-90}; KILLS=${KILLS:-3}; else DURATION=${DURATION:-30}; KILLS=${KILLS:-1}; fi
CONNECTIONS=${CONNECTIONS:-32}
# A delivery cut off by the kill is claimed again when its lease (60 s) ends.
DRAIN_SECONDS=${DRAIN_SECONDS:-150}

work_init webhook-kill
haven_build
say "seeding"
seed_fixture "${CASES:-1000}" 2
PORT=$(free_port)
RECEIVER_PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"

# The receiver: answers 204 to every POST and appends what it got (arrival time, headers, body).
python3 - "$RECEIVER_PORT" "$WORK/received.jsonl" >"$WORK/receiver.log" 2>&1 <<'PY' &
import json, sys, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, path = int(sys.argv[1]), sys.argv[2]
lock = threading.Lock()
out = open(path, "a")
class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        record = {"at": time.time(), "id": self.headers.get("webhook-id"), "timestamp": self.headers.get("webhook-timestamp"),
                  "signature": self.headers.get("webhook-signature"), "path": self.path, "body": body.decode("utf-8", "replace")}
        with lock:
            out.write(json.dumps(record) + "\n")
            out.flush()
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *args):
        pass
ThreadingHTTPServer(("127.0.0.1", port), Receiver).serve_forever()
PY
PIDS+=($!)

haven_start h0 "$PORT" --pool-size 10 --pool-timeout 2 --webhook-allow-private

# An administrator (second factor enrolled, as at a first login) registers one webhook per
# organisation, for every kind; the secrets shown once are kept for checking the signatures.
printf 'drill admin passphrase one\n' | "$HAVEN" user create --org "Seed organisation 1" --role admin --username drill.admin \
    --password-stdin --data-dir "$WORK/pg" --keys-file "$WORK/keys" --schema-dir "$SCHEMA_DIR" >>"$WORK/setup.log" 2>&1
sql "SELECT id FROM organisation ORDER BY id" >"$WORK/organisations.txt"
python3 - "$BASE" "http://127.0.0.1:$RECEIVER_PORT" "$WORK/organisations.txt" "$WORK/secrets.json" "$ROOT/Benchmarks/load" <<'PY'
import json, sys
base, receiver, organisations, secrets_path = sys.argv[1:5]
sys.path.insert(0, sys.argv[5])
from enrol import call, enrol
token, _ = enrol(base, "drill.admin", "drill admin passphrase one")
kinds = ["referral.arrived", "referral.accepted", "referral.rejected", "referral.completed", "referral.cancelled",
         "closure.requested", "closure.approved", "closure.declined", "break_glass.started", "consent.expiring",
         "need.overdue", "service.overdue", "case.transferred"]
secrets = {}
for organisation in (line.strip() for line in open(organisations) if line.strip()):
    created = call(base, f"/v1/organisations/{organisation}/webhooks", {"url": f"{receiver}/hook/{organisation}", "kinds": kinds}, token)
    secrets[created["id"].lower()] = created["secret"]
json.dump(secrets, open(secrets_path, "w"))
print(f"{len(secrets)} webhooks registered")
PY
SINCE=$(sql "SELECT now()")
say "haven ready on $BASE (pid $PID_h0), receiver on $RECEIVER_PORT; load: $CONNECTIONS connections for $DURATION s; $KILLS kill(s)"

load_run --duration "$DURATION" --connections "$CONNECTIONS" --tolerate conn,503 --request-timeout 15 \
    --json-out "$WORK/load.json" --ready-file "$WORK/ready" >"$WORK/load.out" 2>&1 &
LOAD_PID=$!
PIDS+=($LOAD_PID)
for _ in $(seq 1 600); do [ -f "$WORK/ready" ] && break; kill -0 $LOAD_PID 2>/dev/null || break; sleep 0.1; done
[ -f "$WORK/ready" ] || { cat "$WORK/load.out"; result "$NAME" FAIL "the load did not start"; exit 1; }

current=$PID_h0
pending_at_kill=()
if [ "$KILLS" -gt 0 ]; then
    gap=$(( DURATION / (KILLS + 1) ))
    for i in $(seq 1 "$KILLS"); do
        sleep "$gap"
        kill -KILL "$current"
        wait "$current" 2>/dev/null || true
        forget_pid "$current"
        pending=$(sql "SELECT count(*) FROM notification_delivery WHERE channel = 'webhook' AND state = 'pending'")
        unrouted=$(sql "SELECT count(*) FROM notification_outbox WHERE routed_at IS NULL")
        pending_at_kill+=("$pending+$unrouted")
        say "killed haven (pid $current) with SIGKILL: $pending webhook deliveries pending, $unrouted messages not yet routed"
        sleep 1
        haven_start "h$i" "$PORT" --pool-size 10 --pool-timeout 2 --webhook-allow-private \
            || { result "$NAME" FAIL "haven did not start again after kill $i"; exit 1; }
        current=$(eval echo "\$PID_h$i")
    done
fi

set +e
wait $LOAD_PID
load_status=$?
set -e
tail -5 "$WORK/load.out"

say "waiting for the outbox to drain (up to $DRAIN_SECONDS s)"
drained=no
for _ in $(seq 1 "$DRAIN_SECONDS"); do
    left=$(sql "SELECT (SELECT count(*) FROM notification_outbox WHERE routed_at IS NULL)
                     + (SELECT count(*) FROM notification_delivery WHERE channel = 'webhook' AND state = 'pending')")
    [ "$left" = 0 ] && { drained=yes; break; }
    sleep 1
done
sql "SELECT message_id, target, state, extract(epoch FROM o.created_at) FROM notification_delivery d
     JOIN notification_outbox o ON o.id = d.message_id WHERE d.channel = 'webhook'" >"$WORK/deliveries.txt"

set +e
DRILL_FACTS=$(python3 - "$WORK" "$KILLS" "$drained" "$load_status" "${pending_at_kill[*]:-}" <<'PY'
import base64, collections, hashlib, hmac, json, sys
work, kills, drained, load_status, pending = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
secrets = json.load(open(f"{work}/secrets.json"))
expected, states, created = set(), collections.Counter(), {}
for line in open(f"{work}/deliveries.txt"):
    message, target, state, at = line.strip().split("|")
    expected.add((message, target))
    states[state] += 1
    created[message] = float(at)
received = [json.loads(line) for line in open(f"{work}/received.jsonl")]
problems = []
got = collections.defaultdict(list)
for record in received:
    got[record["id"]].append(record)
    signed = f"{record['id']}.{record['timestamp']}.{record['body']}".encode()
    def valid(secret):
        key = base64.b64decode(secret.removeprefix("whsec_"))
        mac = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
        return any(part == "v1," + mac for part in (record["signature"] or "").split())
    if not any(valid(secret) for secret in secrets.values()):
        problems.append(f"badly signed delivery {record['id']}")
    body = json.loads(record["body"])
    if set(body) != {"type", "timestamp", "data"} or not set(body["data"]) <= {"id", "priority", "link", "case_reference"}:
        problems.append(f"a body says more than the message: {sorted(body)} {sorted(body.get('data', {}))}")
    elif body["data"]["id"] != record["id"]:
        problems.append(f"body id differs from webhook-id {record['id']}")
received_ids = {i.lower() for i in got}
expected_ids = {m.lower() for m, _ in expected}
lost = expected_ids - received_ids
extra = received_ids - expected_ids
if lost:
    problems.append(f"{len(lost)} messages never arrived, e.g. {sorted(lost)[:3]}")
if extra:
    problems.append(f"{len(extra)} ids arrived that no delivery names, e.g. {sorted(extra)[:3]}")
if states.get("pending", 0) or states.get("dead", 0) or drained != "yes":
    problems.append(f"the outbox did not drain: {dict(states)}")
repeats = sum(len(v) - 1 for v in got.values())
for i, records in got.items():
    if len({r["body"] for r in records}) > 1:
        problems.append(f"message {i} arrived with different bodies")
latencies = sorted(min(r["at"] for r in rs) - created[i.lower()] for i, rs in got.items() if i.lower() in created)
def pct(p):
    return round(latencies[min(len(latencies) - 1, int(p / 100 * len(latencies)))], 3) if latencies else None
if load_status != 0:
    problems.append(f"the load failed (exit {load_status})")
print(json.dumps({"kills": kills, "pending_at_kill": pending, "deliveries": len(expected), "messages": len(expected_ids),
                  "received": len(received), "distinct_received": len(received_ids), "repeats": repeats, "states": dict(states),
                  "latency_p50_s": pct(50), "latency_p99_s": pct(99), "problems": problems}))
PY
)
analysis_status=$?
set -e
export DRILL_FACTS
echo "$DRILL_FACTS"
summary=$(python3 - <<'PY' 2>/dev/null || echo "no summary"
import json, os
f = json.loads(os.environ["DRILL_FACTS"])
print(f"{f['kills']} kill -9 with webhook deliveries pending ({f['pending_at_kill'] or 'none'} pending+unrouted at each kill); "
      f"{f['messages']} messages to {f['deliveries']} webhook deliveries, all sent; the receiver got {f['received']} posts, "
      f"{f['distinct_received']} distinct ids ({f['repeats']} repeats, same id), none lost; signatures valid; "
      f"commit to arrival p50 {f['latency_p50_s']} s, p99 {f['latency_p99_s']} s")
PY
)
if [ "$analysis_status" -eq 0 ] && [ "$(python3 -c 'import json,os; print(len(json.loads(os.environ["DRILL_FACTS"])["problems"]))')" = 0 ]; then
    result "$NAME" PASS "$summary"
else
    result "$NAME" FAIL "$summary; problems: $(python3 -c 'import json,os; print(json.loads(os.environ["DRILL_FACTS"])["problems"])' 2>/dev/null)"
    exit 1
fi
