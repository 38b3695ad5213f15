# The console (server-rendered HTML): the case page and the worklist, each alternated with its JSON
# counterpart in the same run as the caseworker of the auth section; then what each console page
# costs to transfer. Targets: a page ≥ 0.7 of its JSON counterpart; each page with the style sheet
# under 100 KB.
BASE="http://127.0.0.1:$HAVEN_PORT"
PSQL="$PGBIN/psql"; [ -x "$PSQL" ] || PSQL=psql
sql() { "$PSQL" -Atq "$SUPERUSER" -c "$1"; }
if [ -z "${CW_TOKEN:-}" ]; then source "$ROOT/Benchmarks/sections/auth.sh"; fi

# A page and its JSON counterpart, alternated PAIRS times (page first); the ratio page/JSON is taken
# within each pair and its median reported with the range, like `paired` does against pgbench.
#   paired_http NAME PAGE_URL [wrk args…] -- JSON_URL [wrk args…]
#   → "rps p99_ms errors p95_ms json_rps json_p99_ms ratio low-high" (errors: both sides')
# Each pair's line in the report says where the CPU went per request on either side.
paired_http() {
    local name=$1; shift
    local page=() json=() side=page
    for arg in "$@"; do
        if [ "$side" = page ] && [ "$arg" = "--" ]; then side=json; continue; fi
        if [ "$side" = page ]; then page+=("$arg"); else json+=("$arg"); fi
    done
    : >"$WORK/paired_http.lines"
    local p j
    for _ in $(seq 1 "$PAIRS"); do
        p=$(measure "${page[@]}"); cp "$WORK/cpu.endpoint" "$WORK/cpu.page"
        j=$(measure "${json[@]}"); cp "$WORK/cpu.endpoint" "$WORK/cpu.json"
        echo "$p | $j" >>"$WORK/paired_http.lines"
        python3 - "$name" "$p" "$j" "$DURATION" "$(getconf CLK_TCK)" "$WORK/cpu.page" "$WORK/cpu.json" >>"$WORK/pairs.txt" <<'PY'
import sys
name, page, json_, seconds, tick = sys.argv[1], sys.argv[2].split(), sys.argv[3].split(), float(sys.argv[4]), float(sys.argv[5])
rps, jrps = float(page[0]), float(json_[0])
def split(path, rate):
    b0, b1, h0, h1, user, system = open(path).read().split()
    per = 1000 / (rate * seconds) if rate > 0 else 0
    busy, haven, wrk = (float(b1) - float(b0)) / tick * per, (float(h1) - float(h0)) / tick * per, (float(user) + float(system)) * per
    return haven, wrk, busy - haven - wrk
(ph, pw, pr), (jh, jw, jr) = split(sys.argv[6], rps), split(sys.argv[7], jrps)
print(f"{name} (page first, then its JSON counterpart): {rps:.0f} req/s vs {jrps:.0f} req/s, ratio {rps / jrps if jrps else 0:.2f}"
      f" · CPU ms per request, page vs JSON: haven {ph:.3f} vs {jh:.3f}, wrk {pw:.3f} vs {jw:.3f},"
      f" PostgreSQL and the rest {pr:.3f} vs {jr:.3f}")
PY
    done
    local json_errors
    json_errors=$(awk -F'|' '{split($2, f, " "); s += f[3]} END {print s + 0}' "$WORK/paired_http.lines")
    python3 "$ROOT/Benchmarks/median_pairs.py" <"$WORK/paired_http.lines" \
        | awk -v extra="$json_errors" '{$3 = $3 + extra; print}'
}
# status URL [curl args…] → the HTTP status of a GET
status() { local url=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$url"; }

CW_USER=$(sql "SELECT username FROM app_user WHERE id = '$CW_ID'")
curl -s -o /dev/null -D "$WORK/console-login.headers" -X POST -H "Content-Type: application/x-www-form-urlencoded" \
    --data-urlencode "username=$CW_USER" --data-urlencode "password=synthetic-seed-passphrase" "$BASE/login"
SESSION=$(sed -n 's/^[Ss]et-[Cc]ookie: haven_session=\([^;]*\);.*/\1/p' "$WORK/console-login.headers" | tr -d '\r' | head -1)
[ -n "$SESSION" ] || { echo "the console login set no haven_session cookie:"; cat "$WORK/console-login.headers"; exit 1; }
COOKIE=(-H "Cookie: haven_session=$SESSION")

# One of the caseworker's open cases, preferring one with needs, services, consents and referrals
# so that every section of the page has something to read.
PAGE_CASE=$(sql "SELECT c.id FROM case_file c WHERE c.assigned_to = '$CW_ID' AND c.status = 'open'
    ORDER BY (EXISTS (SELECT 1 FROM need n WHERE n.case_id = c.id))::int
           + (EXISTS (SELECT 1 FROM service_episode s WHERE s.case_id = c.id))::int
           + (EXISTS (SELECT 1 FROM consent k WHERE k.case_id = c.id))::int
           + (EXISTS (SELECT 1 FROM referral r WHERE r.case_id = c.id))::int DESC, c.id LIMIT 1")
[ -n "$PAGE_CASE" ] || { echo "the caseworker has no open case"; exit 1; }
CONTENTS=$(sql "SELECT (SELECT count(*) FROM need WHERE case_id = '$PAGE_CASE') || ' needs, '
    || (SELECT count(*) FROM service_episode WHERE case_id = '$PAGE_CASE') || ' services, '
    || (SELECT count(*) FROM consent WHERE case_id = '$PAGE_CASE') || ' consents, '
    || (SELECT count(*) FROM referral WHERE case_id = '$PAGE_CASE') || ' referrals'")
echo "case page: $CONTENTS"
for check in "/cases/$PAGE_CASE" /worklist; do
    s=$(status "$BASE$check" "${COOKIE[@]}")
    [ "$s" = 200 ] || { echo "the console answers GET $check with $s, not 200"; exit 1; }
done
for check in "/v1/cases/$PAGE_CASE" "/v1/cases?status=open&limit=20"; do
    s=$(status "$BASE$check" "${AUTH[@]}")
    [ "$s" = 200 ] || { echo "the API answers GET $check with $s, not 200"; exit 1; }
done

# Every view of the page adds one audit event to the case, and so does every JSON read;
# the history section lists the case's changes only, so its query has those reads to filter out.
events() { sql "SELECT count(*) FROM audit_event WHERE case_id = '$PAGE_CASE'"; }
echo "case page: $(events) audit events on the case before the measurements"
read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired_http "/cases/{id} vs /v1/cases/{id}" \
    "$BASE/cases/$PAGE_CASE" "${COOKIE[@]}" -- "$BASE/v1/cases/$PAGE_CASE" "${AUTH[@]}")"
row "GET /cases/{id} (page: the case, its needs, services, consents, referrals and history, with names, in one audited read) vs GET /v1/cases/{id} (one audited read)" \
    "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.7"

# What the caseworker's worklist reads, in one audited transaction: the lapsed-consent sweep,
# referrals awaiting the organisation (requested, received) with names, and 20 open cases.
WAITING=$(sql "SELECT count(*) FROM referral r JOIN app_user u ON u.organisation_id = r.to_organisation_id
    WHERE u.id = '$CW_ID' AND r.status IN ('requested', 'received')")
if [ "$WAITING" -gt 0 ]; then names="and a name lookup ($WAITING referrals waiting)"; else names="no referral waiting, so no name lookup"; fi
read -r rps p99 err _ limit limit_p99 r spread <<<"$(paired_http "/worklist vs /v1/cases?status=open&limit=20" \
    "$BASE/worklist" "${COOKIE[@]}" -- "$BASE/v1/cases?status=open&limit=20" "${AUTH[@]}")"
row "GET /worklist (page: referrals requested and received and 20 open cases, one audited read, $names) vs GET /v1/cases?status=open&limit=20 (one audited list)" \
    "$rps" "$p99" "$err" "$limit (p99 $limit_p99)" "$r ($spread)" "≥ 0.7"

# The case page's history query (the store's condition, order and limit, with the id written in,
# as the superuser, so without row-level security): what it has to filter out by now.
echo "case page: $(events) audit events on the case after the measurements; its history query:"
sql "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM audit_event WHERE case_id = '$PAGE_CASE' AND action <> 'R' AND outcome = 'success'
    ORDER BY id LIMIT 101" | grep -E 'Scan|Rows Removed|Execution Time' | sed 's/^ */    /'
# The worklist's two heaviest reads, planned the same way: the lapsed-consent sweep over the
# organisation's open referrals, and the referrals waiting for its answer.
CW_ORG=$(sql "SELECT organisation_id FROM app_user WHERE id = '$CW_ID'")
echo "worklist: $(sql "SELECT count(*) FROM referral WHERE to_organisation_id = '$CW_ORG' OR from_organisation_id = '$CW_ORG'") referrals to or from the organisation; the sweep and the waiting list:"
sql "EXPLAIN (ANALYZE, COSTS OFF) SELECT r.id FROM referral r JOIN consent c ON c.id = r.consent_id
    WHERE (r.to_organisation_id = '$CW_ORG' OR r.from_organisation_id = '$CW_ORG')
      AND r.status IN ('requested', 'received', 'accepted', 'in-progress', 'on-hold')
      AND (c.withdrawn_at IS NOT NULL OR (c.expires_at IS NOT NULL AND c.expires_at <= now()))" | grep -E 'Scan|Execution Time' | sed 's/^ */    /'
sql "EXPLAIN (ANALYZE, COSTS OFF) SELECT id FROM referral WHERE to_organisation_id = '$CW_ORG' AND status IN ('requested', 'received')
    ORDER BY due_at, id LIMIT 50" | grep -E 'Scan|Execution Time' | sed 's/^ */    /'
for check in "/cases/$PAGE_CASE" /worklist; do
    s=$(status "$BASE$check" "${COOKIE[@]}")
    [ "$s" = 200 ] || echo "after the measurements the console answers GET $check with $s, not 200: the rows above are not the page"
done

# Each page's bytes as a browser without a cache receives them: the HTML and the one style sheet,
# as sent (curl's size_download, the body after any content coding) with and without asking for
# compression (haven sends them uncompressed: the two agree unless that changes).
HISTORY=$(sql "SELECT count(*) FROM audit_event WHERE case_id = '$PAGE_CASE' AND action <> 'R' AND outcome = 'success'")
kb() { python3 -c "import sys; print(f'{int(sys.argv[1]) / 1024:.1f}')" "$1"; }
for path in /login /worklist /cases "/cases/$PAGE_CASE" /referrals; do
    auth=("${COOKIE[@]}"); [ "$path" = /login ] && auth=()
    errors=0 sizes=()
    for url in "$BASE$path" "$BASE/static/haven.css"; do
        for compressed in "" --compressed; do
            out=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' $compressed "${auth[@]}" "$url")
            [ "${out%% *}" = 200 ] || errors=$((errors + 1))
            sizes+=("${out#* }")
        done
    done
    html=${sizes[0]} html_z=${sizes[1]} css=${sizes[2]} css_z=${sizes[3]}
    total=$((html + css)) total_z=$((html_z + css_z))
    label=$path; [ "$path" = "/cases/$PAGE_CASE" ] && label="/cases/{id} ($CONTENTS, $HISTORY changes in its history)"
    [ "$path" = /login ] && label="/login (signed out)"
    row "GET $label transferred: HTML $html B + /static/haven.css $css B; with --compressed $html_z B + $css_z B" \
        "-" "$(kb "$total") KB; $(kb "$total_z") KB compressed" "$errors" "100 KB" "$(ratio "$total" 102400)" "< 100 KB"
done
