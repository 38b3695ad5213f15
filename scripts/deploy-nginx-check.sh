#!/usr/bin/env bash
# Proves deploy/nginx/haven.conf (with haven-upstream.conf): `nginx -t` passes with it and a self-signed certificate, then
# nginx terminates TLS on loopback in front of two `haven serve` instances sharing one temp
# PostgreSQL, and:
#   - /healthz and /readyz answer 200 over HTTPS (certificate verified against the test CA),
#     with HSTS; plain HTTP redirects; TLS 1.1 is refused, 1.2 and 1.3 accepted;
#   - both instances take traffic; /metrics is not exposed through the proxy;
#   - a body over 1 MiB gets 413 at the proxy;
#   - a login through the proxy records the real client address (127.0.0.2) in
#     audit_event.actor_ip even when the client sends a forged X-Forwarded-For, while the same
#     forged header sent straight to haven (an untrusted peer) is ignored; haven trusts the proxy
#     through a CIDR range (HAVEN_TRUSTED_PROXIES=127.0.0.0/31,::1/128: 127.0.0.0–127.0.0.1 and
#     IPv6 loopback), so 127.0.0.2 and 127.0.0.3 stay outside it;
#   - with one instance killed, every request still succeeds.
# Run as root on a machine with nginx (installed with apt-get when missing).
DEPLOY_NAME=nginx-check
source "$(dirname "$0")/deploy-lib.sh"

command -v nginx >/dev/null || { apt-get install -y -qq nginx >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq nginx >/dev/null; }; }
haven_install

say "PostgreSQL (temp cluster) with the production roles"
PGPORT=$(free_port)
pg_new pg "$PGPORT"
pg_start pg
pg_haven_roles "$PGPORT"
new_key_file "$WORK/keys"
export DATABASE_URL=$(app_url "$PGPORT") HAVEN_KEYS_FILE=$WORK/keys
HAVEN_MIGRATION_DATABASE_URL=$(owner_url "$PGPORT") "$HAVEN" migrate
"$HAVEN" org create --name "Check NGO" --type ngo --country MD >/dev/null
printf 'synthetic check passphrase 1\n' | "$HAVEN" user create --org "Check NGO" --role caseworker --username check.cw --password-stdin >/dev/null

say "two haven instances, trusting the proxy at 127.0.0.1 through a range"
A=$(free_port); B=$(free_port)
export HAVEN_TRUSTED_PROXIES=127.0.0.0/31,::1/128 HAVEN_NO_MIGRATE=1
echo "HAVEN_TRUSTED_PROXIES=$HAVEN_TRUSTED_PROXIES"
haven_serve "$WORK/haven-a.log" --port "$A"; PID_A=$LAST_PID
haven_serve "$WORK/haven-b.log" --port "$B"; PID_B=$LAST_PID
wait_http "http://127.0.0.1:$A/readyz" && wait_http "http://127.0.0.1:$B/readyz" || { tail "$WORK"/haven-*.log; fail "haven not ready"; }
echo "haven on 127.0.0.1:$A and 127.0.0.1:$B: ready"

say "self-signed certificate (CN/SAN localhost) and nginx -t"
NG=$WORK/nginx
mkdir -p "$NG/conf" "$NG/logs" "$NG/tmp"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$NG/conf/key.pem" -out "$NG/conf/cert.pem" 2>/dev/null
chmod 600 "$NG/conf/key.pem"
TLS=$(free_port); HTTP=$(free_port)
# The shipped file with only what is host-specific changed: ports, certificate, log path.
sed -e "s|server 127.0.0.1:8081 |server 127.0.0.1:$A |; s|server 127.0.0.1:8082 |server 127.0.0.1:$B |" \
    "$DEPLOY_ROOT/deploy/nginx/haven-upstream.conf" >"$NG/conf/haven-upstream.conf"
sed -e "s|include /etc/nginx/haven-upstream.conf;|include $NG/conf/haven-upstream.conf;|" \
    -e "s|listen 443 ssl http2;|listen 127.0.0.1:$TLS ssl http2;|; s|listen 80;|listen 127.0.0.1:$HTTP;|" \
    -e '/listen \[::\]/d' \
    -e "s|/etc/nginx/tls/haven.example.org.fullchain.pem|$NG/conf/cert.pem|; s|/etc/nginx/tls/haven.example.org.key.pem|$NG/conf/key.pem|" \
    -e "s|/var/log/nginx/haven.access.log|$NG/logs/haven.access.log|; s|server_name haven.example.org;|server_name localhost;|" \
    "$DEPLOY_ROOT/deploy/nginx/haven.conf" >"$NG/conf/haven.conf"
echo "changes to deploy/nginx/haven.conf and haven-upstream.conf for this run:"
diff "$DEPLOY_ROOT/deploy/nginx/haven.conf" "$NG/conf/haven.conf" | grep '^>' | grep -v '^> #' || true
diff "$DEPLOY_ROOT/deploy/nginx/haven-upstream.conf" "$NG/conf/haven-upstream.conf" | grep '^>' || true
cat >"$NG/conf/nginx.conf" <<CONF
user www-data;
worker_processes 1;
pid $NG/nginx.pid;
error_log $NG/logs/error.log warn;
events { worker_connections 256; }
http {
    client_body_temp_path $NG/tmp/body;
    proxy_temp_path $NG/tmp/proxy;
    fastcgi_temp_path $NG/tmp/fastcgi;
    uwsgi_temp_path $NG/tmp/uwsgi;
    scgi_temp_path $NG/tmp/scgi;
    access_log $NG/logs/access.log;
    default_type application/octet-stream;
    include $NG/conf/haven.conf;
}
CONF
nginx -t -p "$NG" -c "$NG/conf/nginx.conf" -e "$NG/logs/error.log" 2>&1
nginx -p "$NG" -c "$NG/conf/nginx.conf" -e "$NG/logs/error.log" -g 'daemon off;' &
DEPLOY_PIDS+=($!)
BASE=https://localhost:$TLS
CURL=(curl -s --max-time 10 --cacert "$NG/conf/cert.pem" --resolve "localhost:$TLS:127.0.0.1")
wait_http "$BASE/healthz" 200 20 --cacert "$NG/conf/cert.pem" --resolve "localhost:$TLS:127.0.0.1" || { cat "$NG/logs/error.log"; fail "nginx"; }

say "through the proxy"
for path in /healthz /readyz; do
    code=$("${CURL[@]}" -o "$WORK/out" -w '%{http_code}' "$BASE$path")
    echo "GET https $path -> $code $(cat "$WORK/out")"
    [ "$code" = 200 ] || fail "$path through nginx answered $code"
done
hsts=$("${CURL[@]}" -D - -o /dev/null "$BASE/healthz" | tr -d '\r' | grep -i '^strict-transport-security:' || true)
echo "$hsts"; [ -n "$hsts" ] || fail "no HSTS header"
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$HTTP/healthz")
echo "GET http /healthz -> $code"; [ "${code%% *}" = 301 ] || fail "plain HTTP does not redirect"
for v in tls1_1 tls1_2 tls1_3; do
    if openssl s_client -connect "127.0.0.1:$TLS" -servername localhost -"$v" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$WORK/s_client.$v" 2>&1; then
        result=accepted
    else
        result=refused
    fi
    if [ "$result" = accepted ]; then detail=$(grep -m1 -E '^ *Protocol *:' "$WORK/s_client.$v" || true)
    else detail=$(grep -m1 -oE 'alert [a-z ]+' "$WORK/s_client.$v" || grep -m1 -E 'error' "$WORK/s_client.$v" || true); fi
    echo "$v: $result ($(echo "$detail" | tr -s ' ' | cut -c1-90))"
    case "$v:$result" in tls1_1:accepted|tls1_2:refused|tls1_3:refused) fail "$v $result";; esac
done
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' "$BASE/metrics"); echo "GET /metrics through the proxy -> $code"
[ "$code" = 404 ] || fail "/metrics exposed through the proxy"
head -c 1100000 /dev/zero | tr '\0' 'a' >"$WORK/big.json"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data-binary @"$WORK/big.json" "$BASE/v1/auth/login")
echo "POST 1.1 MB body -> $code"; [ "$code" = 413 ] || fail "oversize body not refused with 413"

for _ in $(seq 1 20); do "${CURL[@]}" -o /dev/null "$BASE/healthz"; done
a=$(curl -s "http://127.0.0.1:$A/metrics" | awk '/^haven_http_requests_total.*route="\/healthz".*status="200"/ {s+=$2} END {print s+0}')
b=$(curl -s "http://127.0.0.1:$B/metrics" | awk '/^haven_http_requests_total.*route="\/healthz".*status="200"/ {s+=$2} END {print s+0}')
echo "/healthz answered by instance A: $a, by instance B: $b"
[ "$a" -gt 0 ] && [ "$b" -gt 0 ] || fail "load is not spread over both instances"

say "client address: X-Forwarded-For from the trusted proxy only"
body='{"username":"check.cw","password":"synthetic check passphrase 1"}'
rid=$("${CURL[@]}" --interface 127.0.0.2 -D - -o "$WORK/login.json" -H 'Content-Type: application/json' -H 'X-Forwarded-For: 203.0.113.66' \
    --data "$body" "$BASE/v1/auth/login" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-request-id" {print $2}')
TOKEN=$(json_field token <"$WORK/login.json")
ip=$(su_psql "$PGPORT" haven -Atc "SELECT actor_ip FROM audit_event WHERE request_id = '$rid'")
echo "login via nginx from 127.0.0.2 with a forged X-Forwarded-For: 203.0.113.66 -> request $rid, audit_event.actor_ip = $ip"
[ "$ip" = 127.0.0.2 ] || fail "expected actor_ip 127.0.0.2, got '$ip'"
rid=$(curl -s --interface 127.0.0.3 -D - -o /dev/null -H 'Content-Type: application/json' -H 'X-Forwarded-For: 203.0.113.66' \
    --data "$body" "http://127.0.0.1:$A/v1/auth/login" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-request-id" {print $2}')
ip=$(su_psql "$PGPORT" haven -Atc "SELECT actor_ip FROM audit_event WHERE request_id = '$rid'")
echo "login straight to haven from 127.0.0.3 (untrusted) with the same forged header -> audit_event.actor_ip = $ip"
[ "$ip" = 127.0.0.3 ] || fail "an untrusted peer's X-Forwarded-For was believed ($ip)"
grep -q "rid=" "$NG/logs/haven.access.log" && echo "nginx access log line: $(tail -1 "$NG/logs/haven.access.log")"

say "one instance down"
kill -9 "$PID_A"; wait "$PID_A" 2>/dev/null || true
ok=0; total=0
for i in $(seq 1 30); do
    for path in /healthz /readyz /v1/me; do
        total=$((total + 1))
        code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$path")
        [ "$code" = 200 ] && ok=$((ok + 1))
    done
done
echo "instance A killed: $ok/$total requests answered 200 through nginx"
[ "$ok" = "$total" ] || fail "requests failed with one instance down"
echo "nginx error log (the dead instance, as expected):"; grep -m2 -o 'connect() failed[^,]*' "$NG/logs/error.log" || true
