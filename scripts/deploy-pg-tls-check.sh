#!/usr/bin/env bash
# Proves TLS to PostgreSQL with libpq's sslmode=verify-full (docs/operations.md, "TLS to
# PostgreSQL"): a private CA and a server certificate for localhost made with openssl; a temp
# PostgreSQL with ssl=on on 127.0.0.1 that rejects every non-TLS connection; then
#   - `haven migrate` and `haven serve` (+ /readyz) connect with
#     sslmode=verify-full&sslrootcert=<CA>, and pg_stat_ssl shows their sessions encrypted;
#   - PgBouncer with deploy/pgbouncer/pgbouncer.ini's server_tls_sslmode = verify-full (only the
#     CA path, ports and files changed) carries haven to that server (/readyz 200);
#   - sslmode=disable is refused by the server (pg_hba: hostnossl … reject);
#   - with the server switched to a certificate for another host name (same CA), verify-full
#     FAILS (while sslmode=require would still connect: why verify-full is the setting);
#   - a CA the client does not trust FAILS too.
DEPLOY_NAME=pg-tls-check
source "$(dirname "$0")/deploy-lib.sh"
haven_install

say "a private CA and two server certificates"
T=$WORK/tls
mkdir -p "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Haven test database CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$T/ca.key" -out "$T/ca.crt" 2>/dev/null
server_cert() {  # NAME CN SAN
    openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$T/$1.key" -out "$T/$1.csr" 2>/dev/null
    printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n' "$3" >"$T/$1.ext"
    openssl x509 -req -in "$T/$1.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" -CAcreateserial -days 2 -extfile "$T/$1.ext" -out "$T/$1.crt" 2>/dev/null
    echo "$1: $(openssl x509 -in "$T/$1.crt" -noout -subject -ext subjectAltName | tr '\n' ' ' | tr -s ' ')"
}
server_cert server localhost "DNS:localhost,IP:127.0.0.1"
server_cert other db.other.example "DNS:db.other.example"
# An unrelated CA, to show an untrusted root fails.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Some other CA" -keyout "$T/rogue-ca.key" -out "$T/rogue-ca.crt" 2>/dev/null
chmod 644 "$T"/*.crt

say "PostgreSQL with ssl=on, TLS required for every TCP connection"
PGPORT=$(free_port)
pg_new pg "$PGPORT"
D=$WORK/pg
for name in server other; do
    install -o postgres -g postgres -m 600 "$T/$name.key" "$D/$name.key"
    install -o postgres -g postgres -m 644 "$T/$name.crt" "$D/$name.crt"
done
cat >>"$D/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = 'server.crt'
ssl_key_file = 'server.key'
ssl_min_protocol_version = 'TLSv1.2'
CONF
cat >"$D/pg_hba.conf" <<HBA
# TYPE     DATABASE  USER      ADDRESS        METHOD
local      all       postgres                 peer
hostssl    all       all       127.0.0.1/32   scram-sha-256
hostnossl  all       all       0.0.0.0/0      reject
host       all       all       ::/0           reject
HBA
pg_start pg
pg_haven_roles "$PGPORT"
new_key_file "$WORK/keys"
export HAVEN_KEYS_FILE=$WORK/keys
TLSQ="sslrootcert=$T/ca.crt"
URL_APP="postgresql://haven_api@localhost:$PGPORT/haven?sslmode=verify-full&$TLSQ"
URL_OWNER="postgresql://haven_owner@localhost:$PGPORT/haven?sslmode=verify-full&$TLSQ"

say "verify-full against the right certificate"
echo "HAVEN_MIGRATION_DATABASE_URL=$URL_OWNER"
DATABASE_URL=$URL_APP HAVEN_MIGRATION_DATABASE_URL=$URL_OWNER "$HAVEN" migrate | tee "$WORK/migrate.out"
grep -q 'applied migrations' "$WORK/migrate.out" || fail "haven migrate over verify-full"
HP=$(free_port)
DATABASE_URL=$URL_APP HAVEN_NO_MIGRATE=1 haven_serve "$WORK/haven.log" --port "$HP"
wait_http "http://127.0.0.1:$HP/readyz" || { tail "$WORK/haven.log"; fail "haven serve over verify-full not ready"; }
echo "haven serve: /readyz -> $(curl -s "http://127.0.0.1:$HP/readyz")"
su_psql "$PGPORT" postgres -Atc "SELECT a.usename, s.ssl, s.version, s.cipher, count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
    WHERE a.usename LIKE 'haven%' GROUP BY 1, 2, 3, 4" | sed 's/^/pg_stat_ssl: /'
unencrypted=$(su_psql "$PGPORT" postgres -Atc "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename LIKE 'haven%' AND NOT s.ssl")
[ "$unencrypted" = 0 ] || fail "unencrypted haven sessions"

say "PgBouncer → PostgreSQL with the shipped server_tls_sslmode = verify-full"
command -v pgbouncer >/dev/null || { apt-get install -y -qq pgbouncer >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq pgbouncer >/dev/null; }; }
BP=$(free_port)
PB=$WORK/pgbouncer
mkdir -p "$PB"
install -m 644 "$T/ca.crt" "$PB/pg-root.crt"
su_psql "$PGPORT" postgres -Atc "SELECT format('\"%s\" \"%s\"', rolname, rolpassword) FROM pg_authid WHERE rolname = 'haven_api'" >"$PB/userlist.txt"
sed -e "s|^haven = host=db-primary.internal port=5432 |haven = host=127.0.0.1 port=$PGPORT |" -e "s|^listen_port = 6432|listen_port = $BP|" \
    -e "s|^auth_file = .*|auth_file = $PB/userlist.txt|" -e "s|^server_tls_ca_file = .*|server_tls_ca_file = $PB/pg-root.crt|" \
    -e "s|^logfile =\$|logfile = $PB/pgbouncer.log|" -e "s|^pidfile = .*|pidfile = $PB/pgbouncer.pid|" \
    "$DEPLOY_ROOT/deploy/pgbouncer/pgbouncer.ini" >"$PB/pgbouncer.ini"
chown -R postgres:postgres "$PB"; chmod 600 "$PB/userlist.txt"
grep -E '^server_tls_(sslmode|ca_file|protocols)' "$PB/pgbouncer.ini" | sed 's/^/pgbouncer.ini: /'
(exec_as_postgres pgbouncer "$PB/pgbouncer.ini") >"$PB/stderr.log" 2>&1 &
DEPLOY_PIDS+=($!)
for _ in $(seq 1 40); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$BP" -U haven_api -d haven && break; sleep 0.25; done
HP2=$(free_port)
DATABASE_URL="postgresql://haven_api@127.0.0.1:$BP/haven?sslmode=disable" HAVEN_NO_MIGRATE=1 HAVEN_STATEMENT_TIMEOUT_MS=0 \
    haven_serve "$WORK/haven-pgb.log" --port "$HP2" --pgbouncer
wait_http "http://127.0.0.1:$HP2/readyz" 200 30 || { tail "$PB/pgbouncer.log" "$WORK/haven-pgb.log"; fail "haven through PgBouncer with server TLS"; }
echo "haven → PgBouncer → PostgreSQL (verify-full): /readyz $(curl -s "http://127.0.0.1:$HP2/readyz")"
echo "pg_stat_ssl, every haven_api session (haven's own and PgBouncer's; pg_hba rejects any other): $(su_psql "$PGPORT" postgres -Atc "SELECT s.ssl || ' ' || s.version || ' x' || count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid)
    WHERE a.usename = 'haven_api' GROUP BY s.ssl, s.version")"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true

say "the server refuses plain connections"
if out=$(DATABASE_URL="postgresql://haven_owner@localhost:$PGPORT/haven?sslmode=disable" "$HAVEN" migrate 2>&1); then fail "sslmode=disable connected"; fi
echo "sslmode=disable -> refused: $(grep -o "pg_hba.conf rejects connection.*" <<<"$out" | head -1 | cut -c1-120)"

say "the server presents a certificate for db.other.example (same CA)"
su_psql "$PGPORT" postgres -c "ALTER SYSTEM SET ssl_cert_file = 'other.crt'" -c "ALTER SYSTEM SET ssl_key_file = 'other.key'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
echo | openssl s_client -connect "127.0.0.1:$PGPORT" -starttls postgres 2>/dev/null | openssl x509 -noout -subject | sed 's/^/now served: /'
if out=$(DATABASE_URL=$URL_APP HAVEN_MIGRATION_DATABASE_URL=$URL_OWNER "$HAVEN" migrate 2>&1); then fail "verify-full accepted a certificate for another host name"; fi
echo "verify-full -> FAILS as it must: $(grep -o 'server certificate for.*does not match host name[^,]*' <<<"$out" | head -1 | cut -c1-120)"
grep -q 'does not match host name' <<<"$out" || { echo "$out"; fail "unexpected failure"; }
if DATABASE_URL="postgresql://haven_owner@localhost:$PGPORT/haven?sslmode=require" "$HAVEN" migrate >/dev/null 2>&1; then
    echo "sslmode=require -> connects anyway (encrypts but does not check who answers: not enough)"
fi

say "a root the client does not trust"
su_psql "$PGPORT" postgres -c "ALTER SYSTEM SET ssl_cert_file = 'server.crt'" -c "ALTER SYSTEM SET ssl_key_file = 'server.key'" -c "SELECT pg_reload_conf()" >/dev/null
sleep 1
if out=$(DATABASE_URL="postgresql://haven_owner@localhost:$PGPORT/haven?sslmode=verify-full&sslrootcert=$T/rogue-ca.crt" "$HAVEN" migrate 2>&1); then fail "verify-full trusted an unknown CA"; fi
echo "verify-full with another CA as sslrootcert -> FAILS: $(grep -o 'certificate verify failed[^"]*' <<<"$out" | head -1)"
DATABASE_URL=$URL_APP HAVEN_MIGRATION_DATABASE_URL=$URL_OWNER "$HAVEN" migrate | sed 's/^/back on the right certificate, verify-full: /'
