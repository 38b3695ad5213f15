#!/usr/bin/env bash
# Runs every deployment check (docs/operations.md, "The check scripts") one after another and
# prints a summary line per script; exits non-zero if any failed. Root, loopback only.
#   scripts/deploy-check-all.sh [name …]   e.g. nginx pgbouncer (default: all)
cd "$(dirname "$0")"
names=${*:-systemd nginx pgbouncer pg-tls replica backup manifests}
passed=0 failed=0 summary=()
for name in $names; do
    log=$(mktemp "/tmp/haven-deploy-$name.XXXXXX.log")
    start=$(date +%s)
    if bash "./deploy-$name-check.sh" >"$log" 2>&1; then
        passed=$((passed + 1)); summary+=("PASS deploy-$name-check.sh ($(( $(date +%s) - start )) s)"); rm -f "$log"
    else
        failed=$((failed + 1)); summary+=("FAIL deploy-$name-check.sh ($(( $(date +%s) - start )) s) — log: $log")
    fi
done
printf '%s\n' "${summary[@]}"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
