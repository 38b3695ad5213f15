#!/usr/bin/env bash
# Runs a haven operator command on a host set up like haven.service, as root:
#   haven-admin audit verify | keys add | keys rotate | user create … | org create … | retention run | migrate
# Install as /usr/local/sbin/haven-admin (root:root 0700). It reads /etc/haven/haven.env and the
# key file (/etc/haven/keys). Operator commands connect as the application role, with the
# passfile haven.service uses (/etc/haven/pgpass): against an external database they never
# migrate, and stop with "run `haven migrate`" when the schema is behind. Only `haven-admin
# migrate` uses the schema owner's passfile (/etc/haven/owner.pgpass) and connects as
# HAVEN_MIGRATION_DATABASE_URL. No secret passes on the command line.
#
# Operator commands use named prepared statements, so they must reach PostgreSQL itself, never
# PgBouncer in transaction mode: when DATABASE_URL in haven.env names PgBouncer, set
# HAVEN_ADMIN_DATABASE_URL (in haven.env or the environment) to the primary's URL, and give
# /etc/haven/pgpass a line for the primary too.
set -euo pipefail
[ "$(id -u)" -eq 0 ] || { echo "haven-admin: run as root" >&2; exit 1; }
set -a
. "${HAVEN_ENV_FILE:-/etc/haven/haven.env}"
set +a
if [ "${1:-}" = migrate ]; then
    export PGPASSFILE=${HAVEN_ADMIN_PGPASSFILE:-/etc/haven/owner.pgpass}
else
    export PGPASSFILE=${HAVEN_ADMIN_PGPASSFILE:-/etc/haven/pgpass}
    if [ -n "${HAVEN_ADMIN_DATABASE_URL:-}" ]; then export DATABASE_URL=$HAVEN_ADMIN_DATABASE_URL; fi
fi
export HAVEN_KEYS_FILE=${HAVEN_ADMIN_KEYS_FILE:-/etc/haven/keys}
exec "${HAVEN_BIN:-/usr/local/bin/haven}" "$@"
