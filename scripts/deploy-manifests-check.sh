#!/usr/bin/env bash
# Checks what cannot run here (no Docker engine, no Kubernetes cluster) as far as it can offline:
#   - every YAML file under deploy/ parses; `kubectl kustomize deploy/k8s` renders (if kubectl);
#   - deploy/k8s: Deployment ≥ 2 replicas, /readyz readiness, /healthz liveness, requests and
#     limits, non-root + read-only root FS + no privilege escalation + no capabilities; the
#     PodDisruptionBudget and Service select the Deployment's pods; the key file is a Secret
#     mounted as a file where HAVEN_KEYS_FILE points; the CloudNativePG Cluster has
#     instances: 2, owner haven_owner, haven_api a member of haven_app; the Pooler is in
#     transaction mode and haven runs with HAVEN_PGBOUNCER=1;
#   - deploy/compose.yaml: PostgreSQL, PgBouncer, two haven replicas, nginx, a migrate step, an
#     on-demand admin service (application role, straight to PostgreSQL); each replica's
#     HAVEN_TRUSTED_PROXIES is nginx's fixed address; every secret file it names is one
#     deploy/compose/make-secrets.sh makes; every mounted file exists; the replicas' health check
#     is the Dockerfile's (`haven healthcheck`);
#   - every HAVEN_* variable set anywhere under deploy/ is one the haven binary knows
#     (from `haven serve --help`), so no setting is silently ignored;
#   - deploy/Dockerfile: Swift 6 build stage, slim runtime with libpq5 and libssl3, non-root
#     USER, HEALTHCHECK, Schema/ copied where HAVEN_SCHEMA_DIR points, every target path of
#     Package.swift copied into the build; and its HEALTHCHECK command (`haven healthcheck`, no
#     shell or curl), run against a live haven, passes (and fails once haven is stopped); that
#     haven runs with every HAVEN_TRUSTED_PROXIES value under deploy/ (ranges included);
#   - the compose pieces for real: make-secrets.sh's SCRAM secrets, the db init script,
#     compose/pgbouncer.ini and its userlist, with a temp PostgreSQL and PgBouncer, haven
#     through them, and an operator command as the admin service runs it (haven_api's passfile
#     only, straight to PostgreSQL) — only host names and ports changed.
DEPLOY_NAME=manifests-check
source "$(dirname "$0")/deploy-lib.sh"
haven_install
D=$DEPLOY_ROOT/deploy

say "YAML"
find "$D" -name '*.yaml' -o -name '*.yml' | sort | while read -r f; do
    python3 -c 'import sys, yaml; docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]; print(f"  {sys.argv[1][len(sys.argv[2]) + 1:]}: {len(docs)} document(s)")' "$f" "$DEPLOY_ROOT" || fail "$f"
done
if command -v kubectl >/dev/null; then
    kubectl kustomize "$D/k8s" >"$WORK/k8s.yaml" || fail "kubectl kustomize deploy/k8s"
    echo "kubectl kustomize deploy/k8s: $(grep -c '^kind:' "$WORK/k8s.yaml") objects"
else
    python3 -c 'import sys, yaml
out = []
for f in yaml.safe_load(open(sys.argv[1] + "/kustomization.yaml"))["resources"]:
    out += [d for d in yaml.safe_load_all(open(sys.argv[1] + "/" + f)) if d]
yaml.safe_dump_all(out, open(sys.argv[2], "w"))' "$D/k8s" "$WORK/k8s.yaml"
fi
"$HAVEN" serve --help >"$WORK/serve-help.txt"

say "Kubernetes, compose, Dockerfile, environment"
python3 - "$WORK/k8s.yaml" "$D" "$WORK/serve-help.txt" "$DEPLOY_ROOT" <<'PY'
import os, re, sys, yaml
rendered, deploy, help_file, root = sys.argv[1:5]
problems = []
def check(cond, message):
    print(("  ok   " if cond else "  FAIL ") + message)
    if not cond: problems.append(message)

objs = [d for d in yaml.safe_load_all(open(rendered)) if d]
by_kind = {}
for o in objs: by_kind.setdefault(o["kind"], []).append(o)
dep = by_kind["Deployment"][0]; spec = dep["spec"]; pod = spec["template"]["spec"]
labels = spec["template"]["metadata"]["labels"]
check(spec["replicas"] >= 2, f"Deployment replicas = {spec['replicas']} (≥ 2)")
check(spec["strategy"]["rollingUpdate"]["maxUnavailable"] == 0, "rolling update never drops below the replica count")
c = pod["containers"][0]
check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", "readinessProbe GET /readyz")
check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", "livenessProbe GET /healthz")
for cont in pod["containers"] + pod.get("initContainers", []):
    r = cont.get("resources", {})
    check(all(k in r.get("requests", {}) for k in ("cpu", "memory")) and "memory" in r.get("limits", {}),
          f"container {cont['name']}: cpu/memory requests and a memory limit")
    sc = cont.get("securityContext", {})
    check(sc.get("readOnlyRootFilesystem") is True and sc.get("allowPrivilegeEscalation") is False
          and sc.get("capabilities", {}).get("drop") == ["ALL"] and sc.get("runAsNonRoot") is True,
          f"container {cont['name']}: read-only root FS, no privilege escalation, no capabilities, non-root")
psc = pod["securityContext"]
check(psc.get("runAsNonRoot") and psc.get("runAsUser", 0) != 0 and psc.get("seccompProfile", {}).get("type") == "RuntimeDefault",
      f"pod: runAsNonRoot, uid {psc.get('runAsUser')}, seccomp RuntimeDefault")
def selects(selector): return all(labels.get(k) == v for k, v in selector.items())
pdb = by_kind["PodDisruptionBudget"][0]
check(selects(pdb["spec"]["selector"]["matchLabels"]) and pdb["spec"].get("minAvailable", 0) >= 1, "PodDisruptionBudget selects the pods, minAvailable ≥ 1")
svc = by_kind["Service"][0]
check(selects(svc["spec"]["selector"]), "Service selects the pods")
env = {e["name"]: e.get("value") for e in c.get("env", [])}
mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
vols = {v["name"]: v for v in pod["volumes"]}
keys_vol = [n for n, v in vols.items() if v.get("secret", {}).get("secretName") == "haven-keys"]
check(bool(keys_vol) and env.get("HAVEN_KEYS_FILE", "").startswith(mounts.get(keys_vol[0], "?") + "/"),
      f"key file: Secret haven-keys mounted as a file, HAVEN_KEYS_FILE={env.get('HAVEN_KEYS_FILE')}")
check(env.get("PGPASSFILE", "").startswith("/run/haven/"), "database password: a passfile (PGPASSFILE), from a Secret")
cm = by_kind["ConfigMap"][0]["data"]
check(cm.get("HAVEN_PGBOUNCER") == "1" and "pooler" in cm["DATABASE_URL"], "haven reaches the pooler with HAVEN_PGBOUNCER=1")
check(all("sslmode=verify-full" in cm[k] for k in ("DATABASE_URL", "HAVEN_REPLICA_URL", "HAVEN_MIGRATION_DATABASE_URL")), "every database URL: sslmode=verify-full")
cl = by_kind["Cluster"][0]
check(cl["apiVersion"] == "postgresql.cnpg.io/v1" and cl["spec"]["instances"] == 2, "CloudNativePG Cluster, instances: 2 (primary + replica)")
check(cl["spec"]["bootstrap"]["initdb"]["owner"] == "haven_owner", "Cluster owner role haven_owner")
roles = {r["name"]: r for r in cl["spec"]["managed"]["roles"]}
check(roles.get("haven_app", {}).get("login") is False and "haven_app" in roles.get("haven_api", {}).get("inRoles", [])
      and roles["haven_api"].get("login") is True, "managed roles: haven_app NOLOGIN, haven_api LOGIN member of haven_app")
pooler = by_kind["Pooler"][0]
check(pooler["spec"]["pgbouncer"]["poolMode"] == "transaction", "Pooler in transaction mode")
job = by_kind["Job"][0]
check(job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"], "migrations: a Job running haven migrate")

compose = yaml.safe_load(open(os.path.join(deploy, "compose.yaml")))
svcs = compose["services"]
check({"db", "pgbouncer", "migrate", "haven-1", "haven-2", "nginx"} <= set(svcs), "compose: db, pgbouncer, migrate, haven-1, haven-2, nginx")
nginx_ip = svcs["nginx"]["networks"]["edge"]["ipv4_address"]
for name in ("haven-1", "haven-2"):
    e = svcs[name]["environment"]
    check(e["HAVEN_TRUSTED_PROXIES"] == nginx_ip and e["HAVEN_PGBOUNCER"] == "1" and "pgbouncer:6432" in e["DATABASE_URL"],
          f"compose {name}: trusts nginx ({nginx_ip}) only, through PgBouncer")
    check(svcs[name]["read_only"] and svcs[name]["cap_drop"] == ["ALL"], f"compose {name}: read-only, no capabilities")
check(svcs["migrate"]["command"] == ["migrate"] and "db:5432" in svcs["migrate"]["environment"]["HAVEN_MIGRATION_DATABASE_URL"],
      "compose migrate: haven migrate straight to PostgreSQL")
admin = svcs.get("admin", {})
check(admin.get("profiles") == ["admin"] and "haven_api@db:5432" in admin.get("environment", {}).get("DATABASE_URL", "")
      and admin.get("secrets") == ["haven_keys", "haven_api_pgpass"],
      "compose admin: on demand only, as haven_api straight to PostgreSQL, no owner secret")
made = open(os.path.join(deploy, "compose", "make-secrets.sh")).read()
for name, s in compose["secrets"].items():
    check(os.path.basename(s["file"]) in made, f"compose secret {name}: made by make-secrets.sh")
for name, s in svcs.items():
    for v in s.get("volumes", []):
        src = v.split(":")[0]
        if src.startswith("./") and "/secrets/" not in src:
            check(os.path.exists(os.path.join(deploy, src)), f"compose {name}: mounts {src}")
upstream = open(os.path.join(deploy, "compose", "nginx-upstream.conf")).read()
check(all(f"server {n}:8080" in upstream for n in ("haven-1", "haven-2")), "compose nginx upstream: haven-1:8080, haven-2:8080")
pgb = open(os.path.join(deploy, "compose", "pgbouncer.ini")).read()
check("pool_mode = transaction" in pgb and "/run/secrets/pgbouncer_userlist" in pgb and "pgbouncer_userlist" in svcs["pgbouncer"]["secrets"],
      "compose PgBouncer: transaction mode, userlist from its secret")

known = set(re.findall(r"env\s+(HAVEN_[A-Z_]+|DATABASE_URL)", open(help_file).read()))
known |= {"HAVEN_LOG_LEVEL", "DATABASE_URL"}
used = {}
for dirpath, _, files in os.walk(deploy):
    for f in files:
        path = os.path.join(dirpath, f)
        if "/secrets/" in path: continue
        for var in re.findall(r"\b(HAVEN_[A-Z_]+?)(?==|: |\"?:)", open(path, errors="ignore").read()):
            used.setdefault(var, set()).add(os.path.relpath(path, root))
script_only = {"HAVEN_UID", "HAVEN_BIN", "HAVEN_ENV_FILE", "HAVEN_ADMIN_PGPASSFILE", "HAVEN_ADMIN_KEYS_FILE", "HAVEN_ADMIN_DATABASE_URL",
               "HAVEN_AUDIT_METRICS_FILE"}
unknown = {v: sorted(p) for v, p in used.items() if v not in known and v not in script_only}
check(not unknown, f"every HAVEN_* setting under deploy/ is known to haven ({len(used)} used; unknown: {unknown or 'none'})")

dockerfile = open(os.path.join(deploy, "Dockerfile")).read()
check(re.search(r"ARG SWIFT_VERSION=6\.\d+", dockerfile) and "FROM swift:${SWIFT_VERSION}" in dockerfile, "Dockerfile: swift:6.x build stage")
check(re.search(r"FROM debian:\$\{DEBIAN_RELEASE\}-slim", dockerfile) and "libpq5" in dockerfile and "libssl3" in dockerfile, "Dockerfile: slim Debian runtime with libpq5 and libssl3")
check(re.search(r"^USER 10001", dockerfile, re.M) is not None and "HEALTHCHECK" in dockerfile, "Dockerfile: non-root USER, HEALTHCHECK")
import json
hc = json.loads(re.search(r"HEALTHCHECK .*?CMD (\[.*\])", dockerfile.replace("\\\n", " ")).group(1))
check(hc[:2] == ["/usr/local/bin/haven", "healthcheck"] and "/dev/tcp" not in dockerfile, f"Dockerfile HEALTHCHECK: {' '.join(hc)}")
for name in ("haven-1", "haven-2"):
    test = svcs[name].get("healthcheck", {}).get("test", [])
    check(test[:1] == ["CMD"] and test[1:] == hc, f"compose {name}: health check {' '.join(test[1:])}, the Dockerfile's")
proxies = {cm.get("HAVEN_TRUSTED_PROXIES", "")} | {svcs[n]["environment"]["HAVEN_TRUSTED_PROXIES"] for n in ("haven-1", "haven-2")}
open(os.path.join(os.path.dirname(rendered), "trusted-proxies.txt"), "w").write(",".join(sorted(proxies - {""})))
schema_dir = re.search(r"HAVEN_SCHEMA_DIR=(\S+)", dockerfile).group(1)
check("/out" + schema_dir in dockerfile, f"Dockerfile: Schema/ copied to HAVEN_SCHEMA_DIR ({schema_dir})")
manifest = open(os.path.join(root, "Package.swift")).read()
paths = set(re.findall(r'path:\s*"([^"]+)"', manifest)) | {"Sources", "Schema"}
if ".testTarget" in manifest: paths.add("Tests")
for p in sorted(paths):
    top = p if p in ("Sources", "Tests", "Schema") else p
    check(re.search(rf"^COPY {re.escape(top)} ", dockerfile, re.M) is not None, f"Dockerfile copies {p} (Package.swift needs it)")
ignore = open(os.path.join(deploy, "Dockerfile.dockerignore")).read()
check(all(f"!{p}" in ignore for p in paths), "Dockerfile.dockerignore lets those paths in")
if problems:
    sys.exit(f"{len(problems)} problem(s)")
PY

say "the image's HEALTHCHECK command against a live haven"
# The exec-form CMD, with the image's /usr/local/bin/haven replaced by the binary under test.
mapfile -t HC < <(python3 -c 'import json, re, sys
text = open(sys.argv[1]).read().replace("\\\n", " ")
for word in json.loads(re.search(r"HEALTHCHECK .*?CMD (\[.*\])", text).group(1)):
    print(sys.argv[2] if word == "/usr/local/bin/haven" else word)' "$D/Dockerfile" "$HAVEN")
echo "HEALTHCHECK CMD: ${HC[*]}"
PGPORT=$(free_port)
pg_new pg "$PGPORT"
pg_start pg
pg_haven_roles "$PGPORT"
new_key_file "$WORK/keys"
export HAVEN_KEYS_FILE=$WORK/keys DATABASE_URL=$(app_url "$PGPORT") HAVEN_MIGRATION_DATABASE_URL=$(owner_url "$PGPORT")
HP=$(free_port)
PROXIES=$(cat "$WORK/trusted-proxies.txt")
echo "haven serve with HAVEN_TRUSTED_PROXIES=$PROXIES (every value under deploy/)"
HAVEN_TRUSTED_PROXIES=$PROXIES haven_serve "$WORK/haven.log" --port "$HP"
wait_http "http://127.0.0.1:$HP/readyz" || { cat "$WORK/haven.log"; fail "haven"; }
HAVEN_PORT=$HP "${HC[@]}" && echo "HEALTHCHECK with haven ready: healthy" || fail "HEALTHCHECK failed against a ready haven"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
if HAVEN_PORT=$HP "${HC[@]}"; then fail "HEALTHCHECK passed with haven stopped"; fi
echo "HEALTHCHECK with haven stopped: unhealthy"

say "compose pieces: make-secrets.sh, the db init script, compose PgBouncer, haven through them"
cp -r "$D/compose" "$WORK/compose"            # secrets are made in this copy, not in the repository
"$WORK/compose/make-secrets.sh" | sed 's/^/  /'
SEC=$WORK/compose/secrets
for f in pg_superuser_password haven_owner_scram haven_api_scram pgbouncer_userlist haven_api_pgpass haven_owner_pgpass haven_keys; do
    [ "$(stat -c %a "$SEC/$f")" = 600 ] || fail "secrets/$f is not mode 600"
done
grep -q '^"haven_api" "SCRAM-SHA-256\$4096:' "$SEC/pgbouncer_userlist" || fail "userlist holds no SCRAM secret"
! grep -qF "$(cut -d: -f5 "$SEC/haven_api_pgpass")" "$SEC/pgbouncer_userlist" || fail "a plain password in the userlist"
echo "  secrets: mode 600, SCRAM secrets only in the database and userlist, plain passwords only in the passfiles"
CP=$(free_port)
pg_new db "$CP"
pg_start db
# The uids of the containers do not exist here: the postgres user reads a copy.
mkdir -m 700 "$WORK/db-secrets"; cp "$SEC"/*_scram "$WORK/db-secrets/"; chown -R postgres "$WORK/db-secrets"
as_postgres env PGHOST="$WORK/run" PGPORT="$CP" POSTGRES_USER=postgres POSTGRES_DB=postgres SECRETS_DIR="$WORK/db-secrets" \
    bash "$WORK/compose/initdb/10-haven-roles.sh"
echo "  initdb/10-haven-roles.sh: $(su_psql "$CP" postgres -Atc "SELECT string_agg(rolname || CASE WHEN rolcanlogin THEN '' ELSE ' (nologin)' END, ', ' ORDER BY rolname) FROM pg_roles WHERE rolname IN ('haven_owner','haven_app','haven_api','pgbouncer_stats')")"
BP=$(free_port)
mkdir -m 700 "$WORK/pgb"; cp "$SEC/pgbouncer_userlist" "$WORK/pgb/userlist"; chown -R postgres "$WORK/pgb"
sed -e "s|^haven = host=db port=5432|haven = host=127.0.0.1 port=$CP|" -e "s|^listen_addr = 0.0.0.0|listen_addr = 127.0.0.1|" \
    -e "s|^listen_port = 6432|listen_port = $BP|" -e "s|/run/secrets/pgbouncer_userlist|$WORK/pgb/userlist|" \
    "$WORK/compose/pgbouncer.ini" >"$WORK/pgb/pgbouncer.ini"
(exec_as_postgres pgbouncer "$WORK/pgb/pgbouncer.ini") >"$WORK/pgb/log" 2>&1 &
DEPLOY_PIDS+=($!)
for _ in $(seq 1 40); do "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$BP" -U haven_api -d haven && break; sleep 0.25; done
# The passfiles name the compose hosts; here the same lines point at loopback ports.
sed "s|^db:5432:|127.0.0.1:$CP:|" "$SEC/haven_owner_pgpass" >"$WORK/owner.pgpass"
sed -e "s|^pgbouncer:6432:|127.0.0.1:$BP:|" -e "s|^db:5432:|127.0.0.1:$CP:|" "$SEC/haven_api_pgpass" >"$WORK/api.pgpass"
chmod 600 "$WORK/owner.pgpass" "$WORK/api.pgpass"
export HAVEN_KEYS_FILE=$SEC/haven_keys
PGPASSFILE=$WORK/owner.pgpass DATABASE_URL="postgresql://haven_api@127.0.0.1:$CP/haven?sslmode=disable" \
    HAVEN_MIGRATION_DATABASE_URL="postgresql://haven_owner@127.0.0.1:$CP/haven?sslmode=disable" "$HAVEN" migrate | sed 's/^/  migrate (compose owner passfile): /'
HP=$(free_port)
PGPASSFILE=$WORK/api.pgpass DATABASE_URL="postgresql://haven_api@127.0.0.1:$BP/haven?sslmode=disable" HAVEN_PGBOUNCER=1 HAVEN_STATEMENT_TIMEOUT_MS=30000 \
    haven_serve "$WORK/haven2.log" --port "$HP" --no-migrate
wait_http "http://127.0.0.1:$HP/readyz" || { cat "$WORK/haven2.log" "$WORK/pgb/log"; fail "haven through the compose PgBouncer"; }
echo "  haven (compose api passfile) → PgBouncer (compose ini, SCRAM userlist) → PostgreSQL: /readyz $(curl -s "http://127.0.0.1:$HP/readyz")"
timeout=$(PGPASSFILE=$WORK/api.pgpass "$PGBIN/psql" -X -Atc "SHOW statement_timeout" "postgresql://haven_api@127.0.0.1:$BP/haven?sslmode=disable")
echo "  statement_timeout of haven_api through PgBouncer: $timeout"
[ "$timeout" = 30s ] || fail "role statement_timeout not set"
kill "$LAST_PID"; wait "$LAST_PID" 2>/dev/null || true
# The admin service: haven_api's passfile only (no owner secret), straight to PostgreSQL.
PGPASSFILE=$WORK/api.pgpass DATABASE_URL="postgresql://haven_api@127.0.0.1:$CP/haven?sslmode=disable" HAVEN_MIGRATION_DATABASE_URL= \
    "$HAVEN" audit verify | sed 's/^/  admin (compose api passfile, no owner secret): audit verify: /' | tee "$WORK/admin.out"
grep -q ': OK' "$WORK/admin.out" || fail "an operator command as the compose admin service"
