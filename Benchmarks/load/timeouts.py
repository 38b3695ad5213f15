#!/usr/bin/env python3
"""The scenarios of scripts/drill-timeouts.sh against a haven started with a small statement
timeout and a tiny pool (e.g. --statement-timeout-ms 3000 --pool-size 2 --pool-timeout 1):

1. statement timeout: a psql session locks a case row (SELECT ... FOR UPDATE, held open with
   pg_sleep); a PATCH of that case waits on the lock until the statement timeout cancels it:
   expect 503 problem+json ("took too long") after about the statement timeout, not a hang.
2. full pool: while the row is locked, many concurrent PATCHes of it: two hold the pool's
   connections, the rest wait at most the pool timeout and get 503 problem+json; /readyz says
   503 ("no connection free") meanwhile, /healthz still answers at once; after the lock goes,
   /readyz says 200 and requests succeed again.
3. database down: PostgreSQL stopped: /readyz 503, an API request 503 problem+json at once;
   started again: /readyz 200 and requests succeed.
Prints one JSON object with the measurements and a list of problems (empty = pass).
"""
import argparse
import concurrent.futures
import http.client
import json
import subprocess
import sys
import threading
import time
import os
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from analyse import pg_moments  # noqa: E402


def request(base, method, path, token=None, body=None, headers=None, timeout=30):
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    hdrs = dict(headers or {})
    if token:
        hdrs["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        hdrs["Content-Type"] = "application/json"
    started = time.time()
    try:
        conn.request(method, path, body=data, headers=hdrs)
        response = conn.getresponse()
        raw = response.read()
        status, ctype, etag = response.status, response.getheader("Content-Type", ""), response.getheader("ETag")
    except Exception as error:
        return {"status": 0, "error": type(error).__name__, "seconds": time.time() - started}
    finally:
        conn.close()
    result = {"status": status, "seconds": round(time.time() - started, 3), "content_type": ctype, "etag": etag}
    try:
        result["body"] = json.loads(raw) if raw else None
    except ValueError:
        result["body"] = raw[:200].decode("utf-8", "replace")
    return result


class Poller(threading.Thread):
    """Polls a path every `interval` seconds until stopped; keeps (time, status, seconds, body)."""

    def __init__(self, base, path, interval=0.1):
        super().__init__(daemon=True)
        self.base, self.path, self.interval = base, path, interval
        self.samples, self.stopped = [], threading.Event()

    def run(self):
        while not self.stopped.is_set():
            t = time.time()
            r = request(self.base, "GET", self.path, timeout=10)
            self.samples.append((t, r["status"], r["seconds"], r.get("body")))
            self.stopped.wait(max(0.0, self.interval - (time.time() - t)))

    def between(self, start, end):
        return [s for s in self.samples if start <= s[0] and s[0] + s[2] <= end]


def problem_json(r):
    return r["content_type"].startswith("application/problem+json") and isinstance(r.get("body"), dict) and r["body"].get("status") == r["status"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--username", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--superuser-db", required=True)
    parser.add_argument("--psql", default="psql")
    parser.add_argument("--pg-ctl", required=True, help="pg_ctl command (as the postgres user)")
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--statement-timeout", type=float, required=True, help="seconds")
    parser.add_argument("--pool-timeout", type=float, required=True, help="seconds")
    parser.add_argument("--concurrent", type=int, default=16)
    parser.add_argument("--slack", type=float, default=1.5)
    args = parser.parse_args()
    facts, problems = {}, []
    base = args.base

    login = request(base, "POST", "/v1/auth/login", body={"username": args.username, "password": args.password})
    if login["status"] != 200:
        print(json.dumps({"problems": [f"login failed: {login}"]}))
        sys.exit(1)
    token = login["body"]["token"]
    cases = request(base, "GET", "/v1/cases?status=open&limit=1", token)
    case_id = cases["body"]["items"][0]["id"]
    read = request(base, "GET", f"/v1/cases/{case_id}", token)
    etag = read["etag"]
    risk = {"high": "low", "low": "medium", "medium": "high"}[read["body"]["risk_level"]]

    hold = args.statement_timeout * 2 + 4
    lock_sql = (f"BEGIN; SELECT id FROM case_file WHERE id = '{case_id.lower()}' FOR UPDATE; "
                f"SELECT pg_sleep({hold}); COMMIT;")

    def lock_row():
        process = subprocess.Popen([args.psql, "-X", "-q", "-c", lock_sql, args.superuser_db], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        # Wait until the lock is really held (the backend shows up sleeping).
        for _ in range(100):
            out = subprocess.run([args.psql, "-X", "-At", "-c", "SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' "
                                  "AND state = 'active' AND pid <> pg_backend_pid()", args.superuser_db], capture_output=True, text=True).stdout.strip()
            if out == "1":
                return process
            time.sleep(0.05)
        raise SystemExit("could not take the row lock")

    ready_poller = Poller(base, "/readyz")
    health_poller = Poller(base, "/healthz")
    ready_poller.start()
    health_poller.start()

    # 1. Statement timeout.
    locker = lock_row()
    r = request(base, "PATCH", f"/v1/cases/{case_id}", token, {"risk_level": risk}, {"If-Match": etag})
    facts["statement_timeout"] = {"status": r["status"], "seconds": r["seconds"], "problem": (r.get("body") or {}).get("detail") if isinstance(r.get("body"), dict) else r.get("body")}
    if r["status"] != 503 or not problem_json(r):
        problems.append(f"a PATCH blocked past the statement timeout answered {r['status']} {r.get('body')}")
    if r["seconds"] > args.statement_timeout + args.slack:
        problems.append(f"the statement timeout answer took {r['seconds']} s (timeout {args.statement_timeout} s)")
    if r["seconds"] < args.statement_timeout - 0.3:
        problems.append(f"the PATCH answered after {r['seconds']} s, before the statement timeout: was the row locked?")

    # 2. Full pool: many concurrent PATCHes of the locked row.
    start = time.time()
    with concurrent.futures.ThreadPoolExecutor(args.concurrent) as pool:
        futures = [pool.submit(request, base, "PATCH", f"/v1/cases/{case_id}", token, {"risk_level": risk}, {"If-Match": etag})
                   for _ in range(args.concurrent)]
        # While they wait: is /readyz telling the truth?
        time.sleep(min(args.pool_timeout, args.statement_timeout) / 2)
        readyz_busy = request(base, "GET", "/readyz")
        results = [f.result() for f in futures]
    end = time.time()
    statuses = {}
    for x in results:
        statuses[str(x["status"])] = statuses.get(str(x["status"]), 0) + 1
    details = sorted({(x.get("body") or {}).get("detail", "") for x in results if isinstance(x.get("body"), dict)})
    facts["full_pool"] = {"requests": len(results), "statuses": statuses, "slowest_s": max(x["seconds"] for x in results),
                          "fastest_s": min(x["seconds"] for x in results), "details": details,
                          "readyz_while_busy": {"status": readyz_busy["status"], "body": readyz_busy.get("body"), "seconds": readyz_busy["seconds"]}}
    if any(x["status"] != 503 or not problem_json(x) for x in results):
        problems.append(f"under a full pool some answers were not 503 problem+json: {statuses}")
    if max(x["seconds"] for x in results) > args.statement_timeout + args.pool_timeout + args.slack:
        problems.append(f"a request waited {max(x['seconds'] for x in results)} s under a full pool")
    if readyz_busy["status"] != 503:
        problems.append(f"/readyz said {readyz_busy['status']} while the pool was exhausted")
    health_busy = [s for s in health_poller.samples if start <= s[0] <= end]
    facts["full_pool"]["healthz_while_busy"] = {"samples": len(health_busy), "slowest_s": max((s[2] for s in health_busy), default=None),
                                                "statuses": sorted({s[1] for s in health_busy})}
    if not health_busy or any(s[1] != 200 for s in health_busy):
        problems.append("/healthz did not answer 200 while the pool was exhausted")

    locker.terminate()
    locker.wait()
    subprocess.run([args.psql, "-X", "-q", "-c", "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(%' AND pid <> pg_backend_pid()",
                    args.superuser_db], capture_output=True)
    released = time.time()
    r = None
    for _ in range(50):
        r = request(base, "PATCH", f"/v1/cases/{case_id}", token, {"risk_level": risk}, {"If-Match": etag})
        if r["status"] == 200:
            break
        time.sleep(0.1)
    facts["after_release"] = {"patch_status": r["status"], "seconds_after_release": round(time.time() - released, 3)}
    if r["status"] != 200:
        problems.append(f"after the lock was released the PATCH answered {r['status']} {r.get('body')}")
    time.sleep(0.5)
    ready_after = [s for s in ready_poller.samples if s[0] > released + 0.2]
    facts["after_release"]["readyz"] = sorted({s[1] for s in ready_after})
    if not ready_after or ready_after[-1][1] != 200:
        problems.append("/readyz did not come back to 200 after the pool emptied")

    # 3. Database down.
    stop_started = time.time()
    subprocess.run(args.pg_ctl.split() + ["stop", "-D", args.data_dir, "-m", "fast", "-w"], check=True, capture_output=True)
    stopped = time.time()
    time.sleep(1.0)
    r = request(base, "GET", f"/v1/cases/{case_id}", token)
    readyz_down = request(base, "GET", "/readyz")
    facts["database_down"] = {"api_status": r["status"], "api_seconds": r["seconds"], "readyz_status": readyz_down["status"],
                              "readyz_body": readyz_down.get("body")}
    if r["status"] != 503 or not problem_json(r) or r["seconds"] > args.pool_timeout + args.slack:
        problems.append(f"with the database down an API request answered {r['status']} after {r['seconds']} s")
    if readyz_down["status"] != 503:
        problems.append(f"/readyz said {readyz_down['status']} with the database down")
    subprocess.run(args.pg_ctl.split() + ["start", "-D", args.data_dir, "-w", "-l", args.data_dir + "/server.log"], check=True, capture_output=True)
    up = time.time()
    # PostgreSQL's own log says when it went and came back (pg_ctl returns a little later).
    logged_stop, logged_up = pg_moments(args.data_dir + "/server.log", stop_started)
    stopped, up = logged_stop or stopped, logged_up or up
    first_ok = None
    while time.time() - up < 10:
        r = request(base, "GET", f"/v1/cases/{case_id}", token)
        if r["status"] == 200:
            first_ok = time.time() - up
            break
        time.sleep(0.05)
    time.sleep(0.3)
    down_samples = ready_poller.between(stopped, up)
    up_samples = [s for s in ready_poller.samples if s[0] >= up]
    facts["database_down"].update({"readyz_samples_while_down": {str(k): sum(1 for s in down_samples if s[1] == k) for k in {s[1] for s in down_samples}},
                                   "first_2xx_after_db_back_s": round(first_ok, 3) if first_ok is not None else None,
                                   "readyz_200_after_db_back_s": round(min((s[0] + s[2] for s in up_samples if s[1] == 200), default=up + 99) - up, 3)})
    if any(s[1] != 503 for s in down_samples):
        problems.append(f"/readyz answered {facts['database_down']['readyz_samples_while_down']} while the database was down")
    if first_ok is None or first_ok > 5:
        problems.append("haven did not serve again within 5 s of the database coming back")
    if facts["database_down"]["readyz_200_after_db_back_s"] > 5:
        problems.append("/readyz did not say 200 within 5 s of the database coming back")
    ready_poller.stopped.set()
    health_poller.stopped.set()
    facts["problems"] = problems
    print(json.dumps(facts))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
