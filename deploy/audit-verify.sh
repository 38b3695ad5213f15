#!/usr/bin/env bash
# Runs `haven audit verify` and records the outcome for Prometheus (node_exporter's textfile
# collector), so "the audit trail does not verify" and "nobody verified it lately" can alert.
#
#   deploy/audit-verify.sh [--metrics-file /var/lib/prometheus/node-exporter/haven_audit.prom]
#
# Uses the environment haven's operator commands use: DATABASE_URL (the application role,
# straight to PostgreSQL, not PgBouncer), HAVEN_KEYS_FILE, PGPASSFILE with that role's line,
# HAVEN_SCHEMA_DIR. No owner credentials: `haven audit verify` never migrates an external
# database; it fails with "run `haven migrate`" when the schema is behind. HAVEN_BIN names the
# binary (default: haven on PATH; haven-audit-verify.service uses haven-admin). Exit status:
# haven's (0 = intact).
# Metrics written:
#   haven_audit_verify_ok                      1 intact; 0 TAMPERED (changed, deleted, inserted,
#                                              reordered), wrong key file, or failed to run
#   haven_audit_verify_last_run_timestamp_seconds
#   haven_audit_verify_events                  sealed events checked
set -uo pipefail
METRICS=${HAVEN_AUDIT_METRICS_FILE:-}
[ "${1:-}" = "--metrics-file" ] && METRICS=$2
HAVEN=${HAVEN_BIN:-$(command -v haven || echo /usr/local/bin/haven)}
out=$("$HAVEN" audit verify 2>&1); status=$?
echo "$out"
ok=0; [ $status -eq 0 ] && grep -q '^OK' <<<"$out" && ok=1
events=$(grep -oE '^OK: [0-9]+' <<<"$out" | grep -oE '[0-9]+' || echo 0)
if [ -n "$METRICS" ]; then
    tmp=$(mktemp "$(dirname "$METRICS")/.haven_audit.XXXXXX")
    cat >"$tmp" <<PROM
# HELP haven_audit_verify_ok 1 when the last haven audit verify found the trail intact.
# TYPE haven_audit_verify_ok gauge
haven_audit_verify_ok $ok
# HELP haven_audit_verify_last_run_timestamp_seconds When haven audit verify last ran.
# TYPE haven_audit_verify_last_run_timestamp_seconds gauge
haven_audit_verify_last_run_timestamp_seconds $(date +%s)
# HELP haven_audit_verify_events Sealed audit events checked by the last run.
# TYPE haven_audit_verify_events gauge
haven_audit_verify_events ${events:-0}
PROM
    chmod 644 "$tmp" && mv "$tmp" "$METRICS"
fi
[ $ok -eq 1 ] || exit $(( status == 0 ? 1 : status ))
