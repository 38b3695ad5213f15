#!/usr/bin/env bash
# Benchmarks/load.py without --base-url lands here: a throwaway haven on loopback (embedded
# PostgreSQL in a temp folder, seeded with synthetic data and four TOTP supervisors), the load
# driver against it with every check on, then everything stopped and removed.
#   CASES=5000 POOL_SIZE=16 python3 Benchmarks/load.py --duration 60 --connections 64
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
source "$ROOT/Benchmarks/load/lib.sh"
work_init load
haven_build
say "seeding ${CASES:-5000} synthetic cases"
seed_fixture "${CASES:-5000}" 4
PORT=$(free_port)
haven_start main "$PORT" --pool-size "${POOL_SIZE:-16}"
BASE="http://127.0.0.1:$PORT"
say "haven (pid $PID_main) ready on $BASE"
set +e
load_run --audit-verify "$(audit_verify_cmd)" "$@"
status=$?
set -e
say "haven RSS after the run: $(( $(rss_kb "$PID_main") / 1024 )) MB"
exit $status
