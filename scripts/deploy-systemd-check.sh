#!/usr/bin/env bash
# Proves deploy/systemd/:
#   - `systemd-analyze verify` accepts haven.service, haven@.service, haven-migrate.service and
#     haven-audit-verify.service/.timer (ExecStart pointed at the files under test), and
#     `systemd-analyze security --offline` rates them (exposure must stay ≤ 2.0);
#   - haven@.service is haven.service but for the port (the same hardening, line for line);
#   - the configuration works as the units hand it over, without systemd as PID 1 here: the
#     environment file (haven.env.example with only host names, ports and paths changed) is
#     loaded, the key file and the libpq passfile sit in a "credentials" folder readable only
#     by an unprivileged user (mode 0400, like $CREDENTIALS_DIRECTORY), `haven migrate` runs as
#     haven-migrate.service would (owner passfile), and `haven serve --no-migrate --keys-file …`
#     runs as that user with PGPASSFILE and answers /readyz — no password or key on any
#     command line (checked in /proc/<pid>/cmdline);
#   - haven-admin (deploy/systemd/haven-admin.sh) runs an operator command (`audit verify`) with
#     that environment file and the application role's passfile only: no owner credentials.
DEPLOY_NAME=systemd-check
source "$(dirname "$0")/deploy-lib.sh"
haven_install
S=$DEPLOY_ROOT/deploy/systemd

say "systemd-analyze"
if command -v systemd-analyze >/dev/null; then
    mkdir -p "$WORK/units"
    for unit in haven.service haven@.service haven-migrate.service haven-audit-verify.service haven-audit-verify.timer; do
        sed -e "s|/usr/local/bin/haven|$HAVEN|g" -e "s|/usr/local/share/haven/deploy/|$DEPLOY_ROOT/deploy/|g" "$S/$unit" >"$WORK/units/$unit"
    done
    (cd "$WORK/units" && systemd-analyze verify ./haven.service ./haven@8081.service ./haven-migrate.service ./haven-audit-verify.service ./haven-audit-verify.timer) \
        || fail "systemd-analyze verify"
    echo "systemd-analyze verify: haven.service, haven@8081.service, haven-migrate.service, haven-audit-verify.service/.timer OK"
    for unit in haven.service haven-migrate.service; do
        score=$(cd "$WORK/units" && systemd-analyze security --offline=yes "./$unit" 2>&1 | grep -o 'Overall exposure level.*')
        echo "$score"
        python3 -c "import re,sys; sys.exit(0 if float(re.search(r': ([0-9.]+)', sys.argv[1]).group(1)) <= 2.0 else 1)" "$score" || fail "$unit exposure above 2.0"
    done
else
    echo "systemd-analyze not installed: skipped"
fi
hardening() { sed -n '/^NoNewPrivileges=/,/^\[Install\]/p' "$1"; }
diff <(hardening "$S/haven.service") <(hardening "$S/haven@.service") >/dev/null || fail "haven@.service hardening differs from haven.service"
echo "haven@.service: same hardening as haven.service"
for key in NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes 'CapabilityBoundingSet=$' EnvironmentFile= 'User=haven'; do
    grep -q "^$key" "$S/haven.service" || fail "haven.service lacks $key"
done
! grep -q '^ReadWritePaths' "$S/haven.service" || fail "haven.service should need no writable path"
echo "haven.service: NoNewPrivileges, ProtectSystem=strict, ProtectHome, PrivateTmp, empty CapabilityBoundingSet, EnvironmentFile, User=haven; no ReadWritePaths"

say "the configuration as the unit hands it over"
PGPORT=$(free_port)
pg_new pg "$PGPORT"
pg_start pg
pg_haven_roles "$PGPORT"
RUNAS=nobody
CRED=$WORK/credentials            # stands in for /run/credentials/haven.service (%d)
mkdir -m 0755 "$WORK/etc" && mkdir -m 0500 "$CRED"
new_key_file "$WORK/etc/keys"
install -m 0400 -o "$RUNAS" "$WORK/etc/keys" "$CRED/keys"
grep ':haven_api:' "$WORK/pgpass" >"$WORK/etc/pgpass.app"
install -m 0400 -o "$RUNAS" "$WORK/etc/pgpass.app" "$CRED/pgpass"
grep ':haven_owner:' "$WORK/pgpass" >"$WORK/etc/owner.pgpass"
mkdir -m 0500 "$CRED-migrate" && install -m 0400 -o "$RUNAS" "$WORK/etc/owner.pgpass" "$CRED-migrate/pgpass"
chown "$RUNAS" "$CRED" "$CRED-migrate"
HP=$(free_port)
sed -e "s|db-primary.internal:5432|127.0.0.1:$PGPORT|g" -e "s|sslmode=verify-full&sslrootcert=/etc/haven/pg-root.crt|sslmode=disable|g" \
    -e "s|^HAVEN_PORT=8081|HAVEN_PORT=$HP|" -e "s|^HAVEN_SCHEMA_DIR=.*|HAVEN_SCHEMA_DIR=$HAVEN_SCHEMA_DIR|" \
    "$S/haven.env.example" >"$WORK/etc/haven.env"
echo "changes to haven.env.example for this run:"; diff "$S/haven.env.example" "$WORK/etc/haven.env" | grep '^>' || true
grep -iE 'password|[0-9a-f]{64}' "$WORK/etc/haven.env" | grep -v '^#' && fail "a secret in the environment file"
run_unit() {  # the unit's view: only the environment file plus what the unit sets
    env -i PATH=/usr/bin:/bin bash -c 'set -a; . "$1"; shift; set +a; exec setpriv --reuid='"$RUNAS"' --regid=nogroup --clear-groups -- "$@"' _ "$WORK/etc/haven.env" "$@"
}
(cd / && run_unit env PGPASSFILE="$CRED-migrate/pgpass" "$HAVEN" migrate) | sed 's/^/haven-migrate.service: /'
(cd / && exec env -i PATH=/usr/bin:/bin bash -c 'set -a; . "$1"; set +a; export PGPASSFILE="$2"; exec setpriv --reuid='"$RUNAS"' --regid=nogroup --clear-groups -- "$3" serve --no-migrate --keys-file "$4"' \
    _ "$WORK/etc/haven.env" "$CRED/pgpass" "$HAVEN" "$CRED/keys") >"$WORK/haven.log" 2>&1 &
DEPLOY_PIDS+=($!)
wait_http "http://127.0.0.1:$HP/readyz" || { cat "$WORK/haven.log"; fail "haven as configured by the unit is not ready"; }
PID=$(pgrep -f "$HAVEN serve --no-migrate --keys-file $CRED/keys" | head -1)
echo "haven serve as $(ps -o user= -p "$PID"), /readyz -> $(curl -s "http://127.0.0.1:$HP/readyz")"
echo "its command line: $(tr '\0' ' ' </proc/"$PID"/cmdline)"
api_pw=$(cut -d: -f5 "$WORK/etc/pgpass.app" | head -1); key_hex=$(awk '{print $2}' "$WORK/etc/keys")
if tr '\0' ' ' </proc/"$PID"/cmdline | grep -qF -e "$api_pw" -e "$key_hex"; then fail "a secret on the command line"; fi
if tr '\0' '\n' </proc/"$PID"/environ | grep -qF -e "$api_pw" -e "$key_hex"; then fail "a secret in the environment"; fi
echo "no password or key on its command line or in its environment"

say "haven-admin: an operator command with the application role only"
install -m 0600 "$WORK/etc/pgpass.app" "$WORK/etc/pgpass.admin"   # haven_api's line, as /etc/haven/pgpass
HAVEN_ENV_FILE=$WORK/etc/haven.env HAVEN_ADMIN_PGPASSFILE=$WORK/etc/pgpass.admin HAVEN_ADMIN_KEYS_FILE=$WORK/etc/keys HAVEN_BIN=$HAVEN \
    bash "$S/haven-admin.sh" audit verify | tee "$WORK/admin.out"
grep -q '^OK' "$WORK/admin.out" || fail "haven-admin audit verify with haven_api's passfile"
echo "haven-admin audit verify: OK with haven_api's passfile only (no haven_owner line in it)"
