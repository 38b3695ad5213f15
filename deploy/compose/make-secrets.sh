#!/usr/bin/env bash
# Makes the secrets deploy/compose.yaml mounts, in deploy/compose/secrets/ (git-ignored):
#   pg_superuser_password   postgres superuser (the postgres image's POSTGRES_PASSWORD_FILE)
#   haven_owner_scram, haven_api_scram, pgbouncer_stats_scram
#                           SCRAM-SHA-256 secrets the db init script gives the roles
#   pgbouncer_userlist      PgBouncer's auth_file: the same SCRAM secrets, no plain password
#   haven_api_pgpass        libpq passfile for the haven replicas (via PgBouncer) and for
#                           operator commands (the `admin` service, straight to db)
#   haven_owner_pgpass      libpq passfile for the one-shot `migrate` service (straight to db)
#   haven_keys              the field-encryption key file ("k1 <64 hex>")
#   tls/                    a self-signed certificate for nginx (replace it for real use)
# Each file is owned by the user id of the container that reads it, mode 0600 (libpq refuses
# a passfile others can read), so run it as root (sudo). Existing files are kept: it never
# replaces a key file. BACK UP secrets/haven_keys APART FROM THE DATABASE (docs/operations.md).
set -euo pipefail
cd "$(dirname "$0")"
[ "$(id -u)" -eq 0 ] || { echo "run as root: the secrets are chowned to the containers' users" >&2; exit 1; }
mkdir -p -m 0755 secrets secrets/tls
cd secrets
PG_UID=999 HAVEN_UID=10001 PGBOUNCER_UID=10002   # postgres image, deploy/Dockerfile, pgbouncer.Dockerfile
put() {  # NAME UID CONTENT — write once
    [ -e "$1" ] && { echo "kept    secrets/$1"; return; }
    (umask 077; printf '%s\n' "$3" >"$1"); chown "$2" "$1"; chmod 600 "$1"; echo "made    secrets/$1"
}
scram() {  # PASSWORD → SCRAM-SHA-256 secret as PostgreSQL stores it
    python3 -c '
import base64, hashlib, hmac, os, sys
password, salt, n = sys.argv[1].encode(), os.urandom(16), 4096
salted = hashlib.pbkdf2_hmac("sha256", password, salt, n)
client = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
server = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
b = lambda x: base64.b64encode(x).decode()
print(f"SCRAM-SHA-256${n}:{b(salt)}${b(hashlib.sha256(client).digest())}:{b(server)}")' "$1"
}
if [ ! -e haven_api_pgpass ]; then
    OWNER_PW=$(openssl rand -hex 24); API_PW=$(openssl rand -hex 24); STATS_PW=$(openssl rand -hex 24)
    OWNER_SCRAM=$(scram "$OWNER_PW"); API_SCRAM=$(scram "$API_PW"); STATS_SCRAM=$(scram "$STATS_PW")
    put haven_owner_scram "$PG_UID" "$OWNER_SCRAM"
    put haven_api_scram "$PG_UID" "$API_SCRAM"
    put pgbouncer_stats_scram "$PG_UID" "$STATS_SCRAM"
    put pgbouncer_userlist "$PGBOUNCER_UID" "\"haven_api\" \"$API_SCRAM\"
\"pgbouncer_stats\" \"$STATS_SCRAM\""
    put haven_api_pgpass "$HAVEN_UID" "pgbouncer:6432:haven:haven_api:$API_PW
db:5432:haven:haven_api:$API_PW"
    put haven_owner_pgpass "$HAVEN_UID" "db:5432:haven:haven_owner:$OWNER_PW"
    put pgbouncer_stats_pgpass 0 "*:6432:pgbouncer:pgbouncer_stats:$STATS_PW"
else
    echo "kept    the database passwords (delete secrets/ to start over with a new database)"
fi
put pg_superuser_password "$PG_UID" "$(openssl rand -hex 24)"
put haven_keys "$HAVEN_UID" "k1 $(openssl rand -hex 32)"
if [ ! -e tls/fullchain.pem ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 -subj "/CN=haven.example.org" \
        -addext "subjectAltName=DNS:haven.example.org,DNS:localhost" -keyout tls/privkey.pem -out tls/fullchain.pem 2>/dev/null
    chmod 600 tls/privkey.pem; chmod 644 tls/fullchain.pem
    echo "made    secrets/tls/ (self-signed, 30 days: replace with a real certificate)"
fi
