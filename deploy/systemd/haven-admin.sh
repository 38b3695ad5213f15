#!/usr/bin/env bash
# Runs a haven operator command on a host set up like haven.service, as root:
#   haven-admin audit verify | keys add | keys rotate | user create … | org create … | retention run | migrate
# Install as /usr/local/sbin/haven-admin (root:root 0700). It reads /etc/haven/haven.env and
# uses the owner's passfile (/etc/haven/owner.pgpass) and the key file (/etc/haven/keys):
# operator commands bring the schema up to date first, so they connect as the owner
# (HAVEN_MIGRATION_DATABASE_URL). No secret passes on the command line.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "haven-admin: run as root" >&2; exit 1; }
set -a
. "${HAVEN_ENV_FILE:-/etc/haven/haven.env}"
set +a
export PGPASSFILE=${HAVEN_ADMIN_PGPASSFILE:-/etc/haven/owner.pgpass}
export HAVEN_KEYS_FILE=${HAVEN_ADMIN_KEYS_FILE:-/etc/haven/keys}
exec "${HAVEN_BIN:-/usr/local/bin/haven}" "$@"
