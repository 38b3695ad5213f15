#!/usr/bin/env bash
# The console's browser suite (Tests/Browser): headless Chromium walks the caseworker's and the
# partner's journeys, axe-core checks each page, requests checks status codes, security headers,
# cookie flags and page weight; screenshots at 1280 and 360 px wide go to docs/console/.
# Installs nothing: it needs chromium and chromium-driver (Debian) and python3 with selenium,
# axe-selenium-python, pytest and requests (.ci/run installs them when missing).
#
#   scripts/browser-tests.sh                          # swift build once, then the suite
#   HAVEN_BIN=/path/to/haven scripts/browser-tests.sh # that binary, nothing built
#   scripts/browser-tests.sh -k partner               # further arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -z "${HAVEN_BIN:-}" ]; then
    swift build
    HAVEN_BIN="$(swift build --show-bin-path)/haven"
fi
[ -x "$HAVEN_BIN" ] || { echo "scripts/browser-tests.sh: no haven binary at $HAVEN_BIN" >&2; exit 2; }
export HAVEN_BIN

status=0
python3 -m pytest -q Tests/Browser "$@" || status=$?
exit "$status"
