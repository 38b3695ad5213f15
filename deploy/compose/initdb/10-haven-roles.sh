#!/usr/bin/env bash
# Runs once, when the compose `db` volume is first initialised (postgres image:
# /docker-entrypoint-initdb.d). Creates Haven's roles and database (docs/operations.md, "Roles
# and grants"). Passwords arrive as SCRAM secrets in compose secrets, made by make-secrets.sh:
# no plain password is ever sent to or stored in PostgreSQL.
#   haven_owner      LOGIN; owns the database and every table; runs migrations
#   haven_app        NOLOGIN group role; the migrations grant it what the application may do
#   haven_api        LOGIN member of haven_app; owns nothing (row-level security applies)
#   pgbouncer_stats  LOGIN; only for PgBouncer's SHOW commands (checked by PgBouncer itself)
set -euo pipefail
SECRETS=${SECRETS_DIR:-/run/secrets}
psql -X -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v owner_secret="$(cat "$SECRETS/haven_owner_scram")" \
    -v api_secret="$(cat "$SECRETS/haven_api_scram")" \
    -v stats_secret="$(cat "$SECRETS/pgbouncer_stats_scram")" <<'SQL'
CREATE ROLE haven_owner LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'owner_secret';
CREATE ROLE haven_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
CREATE ROLE haven_api LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS PASSWORD :'api_secret' IN ROLE haven_app;
-- haven sets its statement timeout per transaction, which holds through PgBouncer; statements
-- it sends outside a transaction (the bearer-token check) run under this role setting.
ALTER ROLE haven_api SET statement_timeout = '30s';
CREATE ROLE pgbouncer_stats LOGIN NOSUPERUSER NOINHERIT PASSWORD :'stats_secret';
CREATE DATABASE haven OWNER haven_owner;
REVOKE ALL ON DATABASE haven FROM PUBLIC;
GRANT CONNECT ON DATABASE haven TO haven_app;
SQL
