#!/usr/bin/env bash
# Proves deploy/backup.sh and deploy/restore-drill.sh end to end:
#   - a source database (temp cluster, production roles, migrated, seeded, plus a case taken in
#     through the API by a running haven);
#   - deploy/audit-verify.sh, as the application role only (no owner credentials), says OK and
#     writes its Prometheus textfile metrics;
#   - deploy/backup.sh as haven_owner (password from a passfile) writes the dump to one place and
#     the key file to another; it refuses a key destination inside the dump destination; the
#     dump holds an audit event written after the last seal, as a backup taken while haven
#     serves may;
#   - deploy/restore-drill.sh restores the dump into a fresh cluster, starts haven with the
#     backed-up key file, /readyz, `haven audit verify` OK, and reads cases back through the API;
#   - the same drill with a different key file FAILS, `haven audit verify` naming the wrong key
#     file ([wrong-key]) rather than tampering (a dump without its key file is useless).
DEPLOY_NAME=backup-check
source "$(dirname "$0")/deploy-lib.sh"
haven_install

say "source database with data"
PGPORT=$(free_port)
pg_new source "$PGPORT"
pg_start source
pg_haven_roles "$PGPORT"
mkdir -p "$WORK/etc"
new_key_file "$WORK/etc/keys"
export HAVEN_KEYS_FILE=$WORK/etc/keys
export DATABASE_URL=$(app_url "$PGPORT") HAVEN_MIGRATION_DATABASE_URL=$(owner_url "$PGPORT")
"$HAVEN" migrate
"$HAVEN" dev seed --cases 250 --organisations 4 --logins "$WORK/logins.json"
HP=$(free_port)
haven_serve "$WORK/haven.log" --port "$HP" --no-migrate
wait_http "http://127.0.0.1:$HP/readyz" || fail "source haven"
CW=$(python3 -c 'import json,sys; print(next(l["username"] for l in json.load(open(sys.argv[1]))["logins"] if l["role"] == "caseworker"))' "$WORK/logins.json")
TOKEN=$(login "http://127.0.0.1:$HP" "$CW" synthetic-seed-passphrase)
read -r code _ <<<"$(api POST "http://127.0.0.1:$HP/v1/cases" "$TOKEN" '{"case_type":"domestic_violence","identification_status":"identified","identified_by":"ngo","identified_on":"2026-10-01","risk_level":"medium","person":{"identity":{"given_name":"Synthetic","family_name":"Backup-Check"},"sex":"female","birth_year":1990,"citizenship":"MD"}}')"
echo "POST /v1/cases -> $code"; [ "$code" = 201 ] || fail "case create"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
mkdir -p "$WORK/textfile"
grep ':haven_api:' "$WORK/pgpass" >"$WORK/api.pgpass"; chmod 600 "$WORK/api.pgpass"
PGPASSFILE=$WORK/api.pgpass HAVEN_MIGRATION_DATABASE_URL= HAVEN_BIN=$HAVEN \
    "$DEPLOY_ROOT/deploy/audit-verify.sh" --metrics-file "$WORK/textfile/haven_audit.prom"
grep -q '^haven_audit_verify_ok 1$' "$WORK/textfile/haven_audit.prom" || fail "deploy/audit-verify.sh metrics"
echo "deploy/audit-verify.sh (haven_api's passfile only) wrote: $(grep -v '^#' "$WORK/textfile/haven_audit.prom" | tr '\n' ' ')"
# One more event after the last seal: the dump then holds it unsealed, as a backup taken while
# haven serves may.
"$HAVEN" org create --name "Written after the last seal" --type ngo --country MD >/dev/null
echo "audit events not sealed yet at backup time: $(su_psql "$PGPORT" haven -Atc "SELECT count(*) FROM audit_event e WHERE NOT EXISTS (SELECT 1 FROM audit_seal s WHERE s.event_id = e.id)")"

say "deploy/backup.sh"
BACKUP_URL=$(owner_url "$PGPORT")
if "$DEPLOY_ROOT/deploy/backup.sh" --database-url "$BACKUP_URL" --dump-dir "$WORK/backups" --keys-file "$HAVEN_KEYS_FILE" --keys-dir "$WORK/backups/keys" 2>"$WORK/refused"; then
    fail "backup.sh accepted a key destination inside the dump destination"
fi
echo "key destination inside the dump destination -> refused: $(head -1 "$WORK/refused")"
"$DEPLOY_ROOT/deploy/backup.sh" --database-url "$BACKUP_URL" --dump-dir "$WORK/backups" --keys-file "$HAVEN_KEYS_FILE" --keys-dir "$WORK/key-vault" \
    --metrics-file "$WORK/textfile/haven_backup.prom" 2>&1
echo "metrics: $(grep -v '^#' "$WORK/textfile/haven_backup.prom" | tr '\n' ' ')"
DUMP=$(ls "$WORK"/backups/haven-*.dump | tail -1)
KEYS=$(ls "$WORK"/key-vault/haven-keys-* | grep -v '\.sha256$' | tail -1)
ls -l "$DUMP" "$KEYS" | awk '{print $1, $NF}'

say "deploy/restore-drill.sh with the backed-up key file"
pg_stop source   # the drill must not need the source in any way
"$DEPLOY_ROOT/deploy/restore-drill.sh" --dump "$DUMP" --keys-file "$KEYS" --haven "$HAVEN" --schema-dir "$HAVEN_SCHEMA_DIR" 2>&1 | tee "$WORK/drill.out"
grep -q '^DRILL PASSED' "$WORK/drill.out" || fail "restore drill"

say "the same drill with another key file"
new_key_file "$WORK/wrong-keys"
if "$DEPLOY_ROOT/deploy/restore-drill.sh" --dump "$DUMP" --keys-file "$WORK/wrong-keys" --haven "$HAVEN" --schema-dir "$HAVEN_SCHEMA_DIR" >"$WORK/drill-wrong.out" 2>&1; then
    fail "the drill passed with a key file that is not the backup's"
fi
grep -E 'TAMPERED|DRILL FAILED|Error' "$WORK/drill-wrong.out" | head -3 | cut -c1-200
grep -q '^TAMPERED: .*\[wrong-key\]$' "$WORK/drill-wrong.out" || fail "audit verify did not name the wrong key file"
echo "without its own key file the backup does not restore to a working Haven: as expected"
