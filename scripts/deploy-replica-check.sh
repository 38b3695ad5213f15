#!/usr/bin/env bash
# Proves reports read from a streaming replica (HAVEN_REPLICA_URL) and fall back to the primary:
#   - a local primary and a hot-standby replica made with pg_basebackup -R, streaming over
#     loopback (a dedicated REPLICATION role, its password in a passfile);
#   - haven serve with DATABASE_URL = primary and HAVEN_REPLICA_URL = replica;
#   - a caseworker creates a case (a write: primary only, then replicated);
#   - an auditor's GET /v1/reports/cases answers 200 with national counts (scope "national", a
#     total over the seeded organisations; small counts as "<11", protecting ones as
#     "suppressed"), and pg_stat_statements shows the report's query ran on the replica and not
#     on the primary (whose only report work is the policy check and the audit event, which must
#     be written on the primary);
#   - the replica is stopped: reports still answer 200, now read from the primary;
#   - the replica is started again: reports go back to it.
DEPLOY_NAME=replica-check
source "$(dirname "$0")/deploy-lib.sh"
haven_install
REPORTS=${REPORTS:-20}

say "primary"
P1=$(free_port); P2=$(free_port)
pg_new primary "$P1"
cat >>"$WORK/primary/postgresql.conf" <<CONF
wal_level = replica
max_wal_senders = 5
hot_standby = on
shared_preload_libraries = 'pg_stat_statements'
pg_stat_statements.track = all
CONF
echo "host replication replicator 127.0.0.1/32 scram-sha-256" >>"$WORK/primary/pg_hba.conf"
pg_start primary
pg_haven_roles "$P1"
REPL_PW=$(openssl rand -hex 24)
su_psql "$P1" postgres -v pw="$REPL_PW" <<'SQL'
CREATE ROLE replicator LOGIN REPLICATION PASSWORD :'pw';
SQL
su_psql "$P1" haven -c "CREATE EXTENSION pg_stat_statements"
new_key_file "$WORK/keys"
export HAVEN_KEYS_FILE=$WORK/keys
export DATABASE_URL=$(app_url "$P1") HAVEN_MIGRATION_DATABASE_URL=$(owner_url "$P1")
"$HAVEN" migrate
"$HAVEN" dev seed --cases 400 --organisations 4 --logins "$WORK/logins.json"
"$HAVEN" org create --name "National Monitoring Unit" --type government --country MD >/dev/null
printf 'synthetic auditor passphrase 1\n' | "$HAVEN" user create --org "National Monitoring Unit" --role auditor --username check.auditor --password-stdin >/dev/null
echo "auditor check.auditor created"

say "streaming replica: pg_basebackup -R over loopback"
# The replication password sits in a passfile the postgres user owns; -R writes
# primary_conninfo (with passfile=…) and standby.signal into the copy.
install -o postgres -g postgres -m 600 /dev/null "$WORK/replication.pgpass"
echo "127.0.0.1:$P1:replication:replicator:$REPL_PW" >"$WORK/replication.pgpass"
mkdir -p "$WORK/replica" && chown postgres:postgres "$WORK/replica" && chmod 700 "$WORK/replica"
as_postgres env PGPASSFILE="$WORK/replication.pgpass" "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$P1" -U replicator \
    -D "$WORK/replica" -R -X stream -c fast --no-password
echo "port = $P2" >>"$WORK/replica/postgresql.auto.conf"
grep '^primary_conninfo' "$WORK/replica/postgresql.auto.conf" | cut -c1-150 | sed "s/password=[^ ]*/password=…/; s/^/replica: /"
pg_start replica
for _ in $(seq 1 40); do
    state=$(su_psql "$P1" postgres -Atc "SELECT state FROM pg_stat_replication WHERE usename = 'replicator'")
    [ "$state" = streaming ] && break; sleep 0.25
done
echo "primary pg_stat_replication: $(su_psql "$P1" postgres -Atc "SELECT usename, client_addr, state, sync_state FROM pg_stat_replication")"
echo "replica pg_is_in_recovery: $(su_psql "$P2" postgres -Atc "SELECT pg_is_in_recovery()")"
[ "$state" = streaming ] || fail "replica not streaming"

say "haven: writes to the primary, reports from the replica"
export HAVEN_REPLICA_URL=$(app_url "$P2")
echo "DATABASE_URL=$DATABASE_URL"; echo "HAVEN_REPLICA_URL=$HAVEN_REPLICA_URL"
HP=$(free_port)
HAVEN_LOG_LEVEL=info haven_serve "$WORK/haven.log" --port "$HP" --no-migrate
wait_http "http://127.0.0.1:$HP/readyz" || { tail "$WORK/haven.log"; fail "haven not ready"; }
BASE=http://127.0.0.1:$HP
grep -o 'reports read from the replica' "$WORK/haven.log" | head -1 | sed 's/^/haven log: /'

CW=$(python3 -c 'import json,sys; print(next(l["username"] for l in json.load(open(sys.argv[1]))["logins"] if l["role"] == "caseworker"))' "$WORK/logins.json")
CW_TOKEN=$(login "$BASE" "$CW" synthetic-seed-passphrase)
AUDITOR=$(login "$BASE" check.auditor "synthetic auditor passphrase 1")
read -r code body <<<"$(api POST "$BASE/v1/cases" "$CW_TOKEN" '{"case_type":"trafficking","identification_status":"presumed","identified_by":"hotline","identified_on":"2026-11-01","risk_level":"high","person":{"identity":{"given_name":"Synthetic","family_name":"Replica-Check"},"sex":"female","birth_year":1999,"citizenship":"MD"}}')"
echo "write: POST /v1/cases as $CW -> $code"; [ "$code" = 201 ] || fail "case create: $body"
NEW_CASE=$(json_field id <<<"$body")
for _ in $(seq 1 40); do
    seen=$(su_psql "$P2" haven -Atc "SELECT count(*) FROM case_file WHERE id = '$NEW_CASE'")
    [ "$seen" = 1 ] && break; sleep 0.25
done
echo "the new case replicated to the replica: $seen row(s); replay lag $(su_psql "$P1" postgres -Atc "SELECT coalesce(replay_lag::text, '0') FROM pg_stat_replication")"
[ "$seen" = 1 ] || fail "the write did not reach the replica"

REPORT_SQL="query LIKE '%FROM case_file c%' AND query LIKE '%statistics_consent%' AND query LIKE '%GROUP BY%'"
report_calls() { su_psql "$1" haven -Atc "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE $REPORT_SQL"; }
su_psql "$P1" haven -Atc "SELECT pg_stat_statements_reset()" >/dev/null
su_psql "$P2" haven -Atc "SELECT pg_stat_statements_reset()" >/dev/null
ok=0
for _ in $(seq 1 "$REPORTS"); do
    code=$(curl -s -o "$WORK/report.json" -w '%{http_code}' -H "Authorization: Bearer $AUDITOR" "$BASE/v1/reports/cases?by=case_type")
    [ "$code" = 200 ] && ok=$((ok + 1))
done
echo "GET /v1/reports/cases as the auditor: $ok/$REPORTS answered 200; a body: $(head -c 160 "$WORK/report.json")…"
[ "$ok" = "$REPORTS" ] || fail "reports failed: $(cat "$WORK/report.json")"
python3 - "$WORK/report.json" <<'PY' || fail "the auditor's report is not a national count"
import json, sys
report = json.load(open(sys.argv[1]))
counts = [cell["count"] for cell in report["cells"]]
assert report["scope"] == "national", report["scope"]
assert isinstance(report["total"], int) and report["total"] > 0, report["total"]
assert all(isinstance(c, int) or c in ("<11", "suppressed") for c in counts), counts
print(f"auditor's report: scope {report['scope']}, total {report['total']}, cells {counts}")
PY
on_replica=$(report_calls "$P2"); on_primary=$(report_calls "$P1")
echo "report query executions (pg_stat_statements): replica $on_replica, primary $on_primary"
echo "replica sessions: $(su_psql "$P2" postgres -Atc "SELECT usename || ' ' || application_name || ' x' || count(*) FROM pg_stat_activity WHERE usename = 'haven_api' GROUP BY usename, application_name")"
[ "$on_replica" -ge "$REPORTS" ] && [ "$on_primary" = 0 ] || fail "reports did not read from the replica"
audited=$(su_psql "$P1" haven -Atc "SELECT count(*) FROM audit_event WHERE subtype = 'report.cases' OR type = 'report.cases'")
echo "audit events for those reports, written on the primary: $audited"

say "replica down: reports fall back to the primary"
pg_stop replica
echo "replica stopped"
su_psql "$P1" haven -Atc "SELECT pg_stat_statements_reset()" >/dev/null
ok=0
for _ in $(seq 1 "$REPORTS"); do
    code=$(curl -s -o "$WORK/report.json" -w '%{http_code}' --max-time 15 -H "Authorization: Bearer $AUDITOR" "$BASE/v1/reports/cases?by=case_type")
    [ "$code" = 200 ] && ok=$((ok + 1))
done
on_primary=$(report_calls "$P1")
echo "GET /v1/reports/cases with the replica down: $ok/$REPORTS answered 200; report query executions on the primary: $on_primary"
[ "$ok" = "$REPORTS" ] && [ "$on_primary" -ge "$REPORTS" ] || fail "no fallback to the primary"
grep -m1 -o 'the read replica is unavailable[^"]*' "$WORK/haven.log" | sed 's/^/haven log: /' || true
code=$(curl -s -o /dev/null -w '%{http_code}' "$BASE/readyz"); echo "/readyz with the replica down -> $code (readiness follows the primary only)"
[ "$code" = 200 ] || fail "readyz depends on the replica"

say "replica back: reports return to it"
pg_start replica
sleep 1
su_psql "$P2" haven -Atc "SELECT pg_stat_statements_reset()" >/dev/null
for _ in $(seq 1 "$REPORTS"); do curl -s -o /dev/null -H "Authorization: Bearer $AUDITOR" "$BASE/v1/reports/cases?by=case_type"; done
on_replica=$(report_calls "$P2")
echo "report query executions on the restarted replica: $on_replica"
[ "$on_replica" -gt 0 ] || fail "haven did not return to the replica"
