#!/usr/bin/env python3
"""Haven's mixed-workload load driver, and the proof afterwards that nothing was lost.

    python3 Benchmarks/load.py                      # builds haven, seeds a throwaway database, 64 connections for 60 s
    python3 Benchmarks/load.py --duration 10 --connections 16
    python3 Benchmarks/load.py --base-url http://127.0.0.1:8080 --fixture fixture.json \
        --superuser-db "host=/tmp/x/pg port=5432 user=postgres dbname=haven" \
        --audit-verify "haven audit verify --data-dir /tmp/x/pg --keys-file /tmp/x/keys"

Without --base-url the driver runs Benchmarks/load/standalone.sh, which starts its own haven on
loopback (embedded PostgreSQL in a temp dir, `haven dev seed`, supervisors with TOTP), runs this
driver against it and removes everything afterwards.

The workload (raw HTTP/1.1 keep-alive connections on asyncio, one request at a time on each):
  caseworkers  intake → need → consent → referral to a partner organisation; read and PATCH their
               cases under If-Match; list cases and outgoing referrals; read referral histories;
               now and then log out and in again
  partners     list their incoming referrals by status, read one, move it on
               (requested → received → accepted → in-progress → completed); two connections share
               each inbox, so concurrent moves of one referral meet: 409, as the state machine says
  supervisors  read their organisation's audit trail, list and read cases, PATCH a case a caseworker
               may be changing at the same moment (412 when they collide), the overdue worklist

Every request carries a unique X-Request-Id. The run FAILS on any answer other than 2xx and the
expected 409 (transition race) / 412 (stale If-Match). Afterwards, with --superuser-db:
  - every acknowledged create (201: case, need, consent, referral) exists, and every referral has
    its first transition;
  - every acknowledged transition is in the referral's history (referral_transition);
  - every acknowledged PATCH's version is in place (the case's version is at least it);
  - audit events match the audited requests one for one: joining audit_event.request_id with the
    ids sent, each acknowledged request has exactly as many events as its handler writes
    (1 for login, logout, intake, need, consent, referral, transition, case read/list/update/history,
    referral read/list/history, overdue list; 0 for the audit-trail reads and for a 409/412), and
    no event carries an id the driver did not send;
  - with --audit-verify, `haven audit verify` exits 0.
For fault drills, --tolerate lists answers that count as "in doubt" instead of failures (503,
502, conn = connection dropped); an in-doubt write may or may not exist, and an in-doubt request
may have at most its usual number of audit events.

Two haven bugs found with this driver, both fixed, are still recognised precisely (KNOWN_BUGS
below) so that a regression is named: a recipient's referral read answering 404 while a colleague
ends the referral (confirmed by reading it again), and 503s while PostgreSQL logs a deadlock in the
lapsed-referral sweep of GET /v1/referrals (with --pg-log). They fail the run (STRICT=0 only
reports them).

The driver's own ceiling on a machine: --calibrate (GET /healthz only, no database).
"""
import argparse
import asyncio
import base64
import collections
import datetime
import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import socket
import struct
import subprocess
import sys
import time
import urllib.parse

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# ---------------------------------------------------------------------------------------------
# HTTP/1.1 keep-alive client


class HTTPError(Exception):
    pass


class Connection:
    """One keep-alive connection; one request at a time."""

    def __init__(self, host, port, timeout):
        self.host, self.port, self.timeout = host, port, timeout
        self.reader = self.writer = None
        self.hostheader = f"{host}:{port}".encode()

    def close(self):
        if self.writer is not None:
            try:
                self.writer.close()
            except Exception:
                pass
        self.reader = self.writer = None

    async def _open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 22)
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    async def request(self, method, path, headers, body):
        return await asyncio.wait_for(self._request(method, path, headers, body), self.timeout)

    async def _request(self, method, path, headers, body):
        if self.writer is None:
            await self._open()
        head = [f"{method} {path} HTTP/1.1".encode(), b"Host: " + self.hostheader]
        for name, value in headers:
            head.append(f"{name}: {value}".encode())
        if body is not None:
            head.append(b"Content-Type: application/json")
            head.append(b"Content-Length: " + str(len(body)).encode())
        self.writer.write(b"\r\n".join(head) + b"\r\n\r\n" + (body or b""))
        line = await self.reader.readline()
        if not line:
            raise ConnectionResetError("connection closed before an answer")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise HTTPError(f"bad status line {line[:80]!r}")
        status = int(parts[1])
        hdrs = {}
        while True:
            line = await self.reader.readline()
            if not line:
                raise ConnectionResetError("connection closed in the headers")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode("latin-1").partition(":")
            hdrs[name.strip().lower()] = value.strip()
        if "content-length" in hdrs:
            data = await self.reader.readexactly(int(hdrs["content-length"]))
        elif hdrs.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                if size == 0:
                    while (await self.reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(await self.reader.readexactly(size))
                await self.reader.readline()
            data = b"".join(chunks)
        elif status in (204, 304) or method == "HEAD":
            data = b""
        else:
            data = await self.reader.read()
            self.close()
        if hdrs.get("connection", "").lower() == "close":
            self.close()
        return status, hdrs, data


# ---------------------------------------------------------------------------------------------
# Bookkeeping

TERMINAL = {"rejected", "completed", "failed", "cancelled", "entered-in-error"}

# Haven bugs found by this driver and fixed since; recognised precisely so that a regression is
# named instead of a bare failure. They fail the run unless STRICT=0; docs/reliability.md tells the story.
KNOWN_BUGS = {
    "referral-read-404-race":
        "GET /v1/referrals/{id} by the recipient answers 404 'no such referral' when another user of the organisation moves "
        "the referral to a final state during the read: the referral row is read as open, then the shared case is loaded by a "
        "later statement of the same READ COMMITTED transaction, whose row-level security (haven_case_referred_to_me) already "
        "sees the referral ended (SharedCase.load -> CaseStore.find -> nil -> notFound).",
    "lapsed-sweep-locks-open-referrals":
        "GET /v1/referrals runs haven_end_lapsed_referrals_of, whose WHERE clause calls haven_end_lapsed_referral (SELECT ... "
        "FOR UPDATE on the referral) for rows the planner has not yet filtered by the consent condition: depending on the plan "
        "every open referral of the organisation is locked, concurrent lists deadlock (PostgreSQL logs 'deadlock detected' in "
        "haven_end_lapsed_referrals_of) and the pool can run dry (503).",
}

TRANSITION_NEXT = {"requested": "received", "received": "accepted", "accepted": "in-progress", "in-progress": "completed"}


class Run:
    def __init__(self, args):
        self.args = args
        self.run_id = args.run_id or ("ld" + secrets.token_hex(4))
        self.tolerate = set(t.strip() for t in args.tolerate.split(",") if t.strip())
        self.seq = 0
        # op -> Counter(status)
        self.by_op = collections.defaultdict(collections.Counter)
        self.latencies = collections.defaultdict(list)  # op -> [seconds]
        self.records = []  # (t_start, t_end, status, op, conn, upstream)
        self.expected = {}  # request id -> (events expected, acknowledged?, attempts)
        self.completions = []  # (referral id, request id): each may also meet the need its referral served
        self.retried = 0
        self.failures = []  # samples of unexpected answers
        self.failure_count = 0
        self.failed_ids = []  # request ids of unexpected answers: their audit events are shown afterwards
        self.failure_lines = {}  # request id -> its line in `failures`
        # Answers explained by a known haven bug (see KNOWN_BUGS): request id -> bug name. They are
        # reported by name, and fail the run unless STRICT=0.
        self.known = {}
        self.created = []  # (kind, id, request id)
        self.transitions = []  # (referral id, from, to, request id)
        self.patches = []  # (case id, version, request id)
        self.doubtful_writes = 0
        self.errors_by_conn = collections.Counter()
        self.started = self.ended = None
        self.measuring = False

    def explain(self, rid, bug):
        """An answer a known haven bug explains: counted under the bug, no longer a failure."""
        self.known[rid] = bug
        if rid in self.failure_lines:
            self.failure_count -= 1
            self.failed_ids.remove(rid)
            line = self.failure_lines.pop(rid)
            if line in self.failures:
                self.failures.remove(line)

    def next_id(self, conn):
        self.seq += 1
        return f"{self.run_id}-{conn}-{self.seq}"


class Client:
    """A virtual user's connection: sends one request at a time and books every answer."""

    def __init__(self, run, index, url):
        self.run, self.index = run, index
        parsed = urllib.parse.urlparse(url)
        self.conn = Connection(parsed.hostname, parsed.port or 80, run.args.request_timeout)
        self.token = None

    async def call(self, op, method, path, body=None, events=1, ok=(200,), soft=(), headers=()):
        """Sends a request. `events`: audit events an acknowledged success writes. `ok`: the
        success codes; `soft`: expected refusals (409/412) that write nothing."""
        run = self.run
        rid = run.next_id(self.index)
        hdrs = [("X-Request-Id", rid)]
        if self.token:
            hdrs.append(("Authorization", "Bearer " + self.token))
        hdrs.extend(headers)
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else None
        wall = time.time()
        t0 = time.perf_counter()
        status, rh, payload = 0, {}, b""
        try:
            status, rh, payload = await self.conn.request(method, path, hdrs, data)
        except asyncio.TimeoutError:
            status = -1
            self.conn.close()
        except (OSError, asyncio.IncompleteReadError, HTTPError, ConnectionError):
            status = 0
            self.conn.close()
        elapsed = time.perf_counter() - t0
        if run.measuring:
            run.by_op[op][status] += 1
            run.latencies[op].append(elapsed)
        run.records.append((wall, wall + elapsed, status, op, self.index, rh.get("x-upstream", ""), rid))
        label = {0: "conn", -1: "timeout"}.get(status, str(status))
        backoff = False
        # Behind a proxy that retried the request on another instance (X-Upstream lists both), the
        # first attempt may have run to its end too: up to `attempts` times the events.
        attempts = rh.get("x-upstream", "").count(",") + 1
        if attempts > 1:
            run.retried += 1
        if status in ok:
            run.expected[rid] = (events, True, attempts)
        elif status in soft:
            run.expected[rid] = (0, True, attempts)
        elif label in run.tolerate:
            run.expected[rid] = (events, False, attempts)  # in doubt: 0..events
            run.errors_by_conn[self.index] += 1
            backoff = True
            if status == 503 and not rh.get("content-type", "").startswith("application/problem+json"):
                self.fail(op, method, path, status, rid, payload, "503 without a problem+json body")
            if status == 503 and run.args.max_503_seconds and elapsed > run.args.max_503_seconds:
                self.fail(op, method, path, status, rid, payload, f"503 took {elapsed:.2f} s")
        else:
            run.expected[rid] = (events, False, attempts)
            self.fail(op, method, path, status, rid, payload, "unexpected status")
        if backoff:
            await asyncio.sleep(0.1)  # a client told to retry (503) or cut off waits a moment before the next request
        result = None
        if payload and rh.get("content-type", "").startswith("application/json") and status in ok:
            try:
                result = json.loads(payload)
            except ValueError:
                self.fail(op, method, path, status, rid, payload, "body is not JSON")
        return status, rh, result, rid

    def fail(self, op, method, path, status, rid, payload, why):
        self.run.failure_count += 1
        self.run.failed_ids.append(rid)
        line = f"{why}: {method} {path} -> {status} (request {rid}) {payload[:300]!r}"
        self.run.failure_lines[rid] = line
        if len(self.run.failures) < 25:
            self.run.failures.append(line)

    async def login(self, username, password, totp_secret=None):
        self.token = None
        for attempt in range(4):
            body = {"username": username, "password": password}
            if totp_secret:
                body["totp"] = totp(totp_secret, offset=attempt if attempt < 2 else 0)
            ok = (200,) if attempt == 3 or not totp_secret else (200, 401)
            status, _, result, _ = await self.call("login", "POST", "/v1/auth/login", body, events=1, ok=ok)
            if status == 200 and result:
                self.token = result["token"]
                return True
            if status == 401 and totp_secret:
                if attempt == 1:
                    await asyncio.sleep(31 - time.time() % 30)  # the step was used: wait for the next one
                continue
            return False
        return False


def totp(secret_b32, offset=0):
    secret = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    counter = struct.pack(">Q", int(time.time()) // 30 + offset)
    mac = hmac.new(secret, counter, hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


SYLLABLES = ["an", "ba", "ri", "to", "mel", "sa", "vi", "ne", "lo", "da", "ru", "ka", "mi", "pe", "zo"]


def synthetic_name(rng):
    text = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return "Ld" + text


# ---------------------------------------------------------------------------------------------
# Virtual users


class World:
    """What the virtual users share: organisations, mandates, who works which inbox."""

    def __init__(self, organisations, partner_orgs):
        self.organisations = organisations  # id(lower) -> service types
        self.partner_orgs = partner_orgs  # orgs whose inbox is worked by partner connections


async def caseworker(client, run, world, login, deadline, rng):
    me = login["organisation_id"].lower()
    cases = []  # [case id, etag]
    referrals = []
    targets = [o for o in world.partner_orgs if o != me] or [o for o in world.organisations if o != me]
    today = datetime.datetime.now(datetime.timezone.utc).date()
    while time.time() < deadline:
        roll = rng.random()
        if roll < 0.35 or not cases:
            # Intake, a need, a consent covering a partner organisation, a referral under it.
            to = rng.choice(targets)
            service = rng.choice(world.organisations[to])
            kind = rng.choice(["trafficking", "domestic_violence", "both"])
            body = {
                "case_type": kind, "identification_status": rng.choice(["potential", "presumed", "identified"]),
                "identified_by": rng.choice(["police", "ngo", "hotline", "self"]),
                "identified_on": (today - datetime.timedelta(days=rng.randint(1, 300))).isoformat(),
                "risk_level": rng.choice(["high", "medium", "low"]),
                "person": {"identity": {"given_name": synthetic_name(rng), "family_name": synthetic_name(rng),
                                        "contact": {"phone": "+000 %07d" % rng.randint(0, 9999999)}},
                           "sex": rng.choice(["female", "male", "other", "unknown"]), "birth_year": rng.randint(1960, 2006),
                           "citizenship": "MD", "languages": ["ro"]},  # adults: a person under 18 cannot consent alone
            }
            if kind != "domestic_violence":
                body["trafficking"] = {"exploitation_types": [rng.choice(["forced_labour", "sexual", "begging"])], "months_exploited": rng.randint(1, 24)}
            status, rh, case, rid = await client.call("case.create", "POST", "/v1/cases", body, ok=(201,))
            if status != 201 or not case:
                continue
            run.created.append(("case", case["id"], rid))
            cases.append([case["id"], rh.get("etag")])
            if len(cases) > 50:
                cases.pop(0)
            cid = case["id"]
            status, _, need, rid = await client.call("need.create", "POST", f"/v1/cases/{cid}/needs",
                                                     {"domain": "personal", "service_type": service, "priority": rng.choice(["urgent", "normal"])},
                                                     ok=(201,))
            if status != 201 or not need:
                continue
            run.created.append(("need", need["id"], rid))
            status, _, consent, rid = await client.call("consent.create", "POST", f"/v1/cases/{cid}/consents", {
                "grantor": "self", "method": "written",
                "provisions": [{"recipient_organisation": to, "purpose": "services", "categories": ["profile", "needs", "contact"]}]},
                ok=(201,))
            if status != 201 or not consent:
                continue
            run.created.append(("consent", consent["id"], rid))
            status, _, referral, rid = await client.call("referral.create", "POST", f"/v1/cases/{cid}/referrals", {
                "to_organisation": to, "need_id": need["id"], "consent_id": consent["id"], "shared_categories": ["profile", "needs"]},
                ok=(201,))
            if status == 201 and referral:
                run.created.append(("referral", referral["id"], rid))
                referrals.append(referral["id"])
                if len(referrals) > 50:
                    referrals.pop(0)
        elif roll < 0.55:
            entry = rng.choice(cases)
            status, rh, case, _ = await client.call("case.read", "GET", f"/v1/cases/{entry[0]}")
            if status != 200 or not case:
                continue
            risk = rng.choice([r for r in ("high", "medium", "low") if r != case.get("risk_level")])
            status, rh, updated, rid = await client.call("case.update", "PATCH", f"/v1/cases/{entry[0]}", {"risk_level": risk},
                                                         ok=(200,), soft=(412,), headers=[("If-Match", rh.get("etag", ""))])
            if status == 200 and updated:
                run.patches.append((entry[0], updated["version"], rid))
        elif roll < 0.70:
            await client.call("case.list", "GET", "/v1/cases?status=open&limit=20")
        elif roll < 0.80:
            await client.call("referral.list", "GET", "/v1/referrals?direction=outgoing&limit=20")
        elif roll < 0.90 and referrals:
            await client.call("referral.history", "GET", f"/v1/referrals/{rng.choice(referrals)}/history")
        elif roll < 0.99:
            await client.call("case.history", "GET", f"/v1/cases/{rng.choice(cases)[0]}/history?limit=20")
        else:
            await client.call("logout", "POST", "/v1/auth/logout", ok=(204,))
            # A login refused by an outage (503) leaves no token: try again until it works.
            while not await client.login(login["username"], login["password"]) and time.time() < deadline:
                await asyncio.sleep(0.2)


async def partner(client, run, world, login, deadline, rng):
    statuses = ["requested", "requested", "received", "accepted", "in-progress"]
    while time.time() < deadline:
        status_filter = rng.choice(statuses)
        status, _, page, _ = await client.call("referral.inbox", "GET", f"/v1/referrals?direction=incoming&status={status_filter}&limit=20")
        if status != 200 or not page or not page.get("items"):
            continue
        item = rng.choice(page["items"])
        rid_ = item["id"]
        status, _, referral, read_id = await client.call("referral.read", "GET", f"/v1/referrals/{rid_}")
        if status == 404:
            # Known haven bug (KNOWN_BUGS["referral-read-404-race"]): read again; if the referral is
            # there and has just ended, the 404 was that race. Its transaction rolled back: no event.
            again_status, _, again, _ = await client.call("referral.read", "GET", f"/v1/referrals/{rid_}")
            if again_status == 200 and again and again.get("status") in TERMINAL:
                run.explain(read_id, "referral-read-404-race")
                run.expected[read_id] = (0, True, 1)
            continue
        if status != 200 or not referral:
            continue
        current = referral["status"]
        target = TRANSITION_NEXT.get(current)
        if target is None:
            continue
        body = {"to": target}
        if target == "completed":
            body["outcome"] = "service delivered"
        if rng.random() < 0.2:
            body["business_status"] = "appointment-scheduled"
        # Completing a referral that serves an open need also meets it (need.close): a second
        # event. The partner's view does not name the need, and a soak run completes referrals an
        # earlier run created, so the check counts it from the need the database says it met.
        status, _, moved, rid = await client.call("referral.transition", "POST", f"/v1/referrals/{rid_}/transitions", body,
                                                  ok=(200,), soft=(409,))
        if target == "completed":
            run.completions.append((rid_, rid))
        if status == 200:
            run.transitions.append((rid_, current, target, rid))
        if rng.random() < 0.1:
            await client.call("referral.history", "GET", f"/v1/referrals/{rid_}/history")


async def supervisor(client, run, world, login, deadline, rng):
    while time.time() < deadline:
        roll = rng.random()
        if roll < 0.30:
            await client.call("audit.list", "GET", "/v1/audit-events?limit=50", events=1)  # audit.read
        elif roll < 0.40:
            await client.call("audit.list", "GET", "/v1/audit-events?subtype=referral.transition&limit=20", events=1)  # audit.read
        elif roll < 0.75:
            status, _, page, _ = await client.call("case.list", "GET", "/v1/cases?limit=20")
            if status != 200 or not page or not page.get("items"):
                continue
            case_id = rng.choice(page["items"][:5])["id"]
            status, rh, case, _ = await client.call("case.read", "GET", f"/v1/cases/{case_id}")
            if status != 200 or not case or case.get("status") != "open" or rng.random() < 0.5:
                continue
            risk = rng.choice([r for r in ("high", "medium", "low") if r != case.get("risk_level")])
            status, _, updated, rid = await client.call("case.update", "PATCH", f"/v1/cases/{case_id}", {"risk_level": risk},
                                                        ok=(200,), soft=(412,), headers=[("If-Match", rh.get("etag", ""))])
            if status == 200 and updated:
                run.patches.append((case_id, updated["version"], rid))
        elif roll < 0.90:
            await client.call("service.overdue", "GET", "/v1/services/overdue?limit=20")
        else:
            await client.call("referral.list", "GET", "/v1/referrals?direction=outgoing&limit=20")


# ---------------------------------------------------------------------------------------------
# The run


def plan_roles(connections, caseworkers, partners, supervisors):
    """Splits the connections: ~56 % caseworkers, ~31 % partners (two per inbox), ~13 % supervisors."""
    n_sup = max(1, round(connections * 0.125)) if supervisors else 0
    n_par = max(2, round(connections * 0.3125)) if partners else 0
    if connections < 6:
        n_sup, n_par = (1 if supervisors and connections >= 3 else 0), (1 if partners and connections >= 2 else 0)
    n_cw = max(1, connections - n_sup - n_par)
    roles = []
    for i in range(n_cw):
        roles.append(("caseworker", caseworkers[i % len(caseworkers)]))
    inboxes = max(1, n_par // 2)
    for i in range(n_par):
        roles.append(("partner", partners[(i % inboxes) % len(partners)]))
    for i in range(n_sup):
        roles.append(("supervisor", supervisors[(i // 2) % len(supervisors)]))
    return roles


async def run_load(args):
    run = Run(args)
    fixture = json.load(open(args.fixture))
    logins = fixture["logins"]
    caseworkers = [l for l in logins if l["role"] == "caseworker"]
    partners = [l for l in logins if l["role"] == "partner"]
    supervisors = fixture.get("supervisors", [])
    rng = random.Random(args.seed)
    rng.shuffle(caseworkers)
    # Partners of organisations that also have supervisors are fine; pick inboxes at random.
    rng.shuffle(partners)
    roles = plan_roles(args.connections, caseworkers, partners, supervisors)
    print(f"run {run.run_id}: {args.connections} connections "
          f"({sum(r == 'caseworker' for r, _ in roles)} caseworkers, {sum(r == 'partner' for r, _ in roles)} partners, "
          f"{sum(r == 'supervisor' for r, _ in roles)} supervisors) for {args.duration} s against {args.base_url}", flush=True)

    clients = [Client(run, i, args.base_url) for i in range(len(roles))]
    # Log in: one login per user (TOTP steps are single-use), shared by that user's connections.
    tokens = {}
    for client, (role, login) in zip(clients, roles):
        key = login["username"]
        if key in tokens:
            client.token = tokens[key]
            continue
        if not await client.login(login["username"], login["password"], login.get("totp_secret")):
            print(f"login failed for {key}; failures: {run.failures[-3:]}", file=sys.stderr)
            return run, 2
        tokens[key] = client.token
    # The organisation directory: mandates decide which services a referral may ask for.
    organisations, cursor = {}, None
    while True:
        path = "/v1/organisations?limit=200" + (f"&cursor={urllib.parse.quote(cursor)}" if cursor else "")
        status, _, page, _ = await clients[0].call("organisation.list", "GET", path, events=0)
        if status != 200:
            return run, 2
        for org in page["items"]:
            if org["active"] and org["mandate"].get("accepts_referrals", True) and org["mandate"]["service_types"]:
                organisations[org["id"].lower()] = sorted(set(org["mandate"]["service_types"]))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    partner_orgs = sorted({l["organisation_id"].lower() for r, l in roles if r == "partner"} & set(organisations))
    world = World(organisations, partner_orgs)

    if args.ready_file:
        open(args.ready_file, "w").write(f"{time.time()}\n")
    run.measuring = True
    run.started = time.time()
    deadline = run.started + args.duration
    behaviours = {"caseworker": caseworker, "partner": partner, "supervisor": supervisor}

    async def worker(client, role, login, seed):
        try:
            await behaviours[role](client, run, world, login, deadline, random.Random(seed))
        finally:
            client.conn.close()

    await asyncio.gather(*(worker(c, role, login, args.seed * 1000 + i) for i, (c, (role, login)) in enumerate(zip(clients, roles))))
    run.ended = time.time()
    run.measuring = False
    return run, 0


# ---------------------------------------------------------------------------------------------
# Report and verification


def explain_deadlock_503s(run, pg_log):
    """503s (or slow answers) while PostgreSQL reported a deadlock inside haven_end_lapsed_referrals_of."""
    if not pg_log or not os.path.exists(pg_log):
        return
    deadlocks, pending = [], None
    for line in open(pg_log, errors="replace"):
        if "ERROR:  deadlock detected" in line:
            try:
                pending = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=datetime.timezone.utc).timestamp()
            except ValueError:
                pending = None
        elif pending is not None and "STATEMENT:" in line:
            if "haven_end_lapsed_referrals_of" in line:
                deadlocks.append(pending)
            pending = None
    run.lapsed_sweep_deadlocks = len(deadlocks)
    if not deadlocks:
        return
    for start, end, status, op, conn, upstream, rid in run.records:
        if status == 503 and any(start - 3 <= t <= end + 1 for t in deadlocks):
            run.explain(rid, "lapsed-sweep-locks-open-referrals")


def percentile(sorted_values, p):
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * (len(sorted_values) - 1)))))
    return sorted_values[k]


def report(run):
    elapsed = max(0.001, run.ended - run.started)
    total = sum(sum(c.values()) for c in run.by_op.values())
    all_lat = sorted(x for v in run.latencies.values() for x in v)
    statuses = collections.Counter()
    for c in run.by_op.values():
        statuses.update(c)
    summary = {
        "run_id": run.run_id, "seconds": round(elapsed, 1), "connections": run.args.connections, "requests": total,
        "rps": round(total / elapsed, 1), "p50_ms": round(percentile(all_lat, 50) * 1000, 1),
        "p99_ms": round(percentile(all_lat, 99) * 1000, 1), "max_ms": round((all_lat[-1] if all_lat else 0) * 1000, 1),
        "statuses": {("conn-error" if k == 0 else "timeout" if k == -1 else str(k)): v for k, v in sorted(statuses.items())},
        "unexpected": run.failure_count, "ops": {},
    }
    print(f"\n{total} requests in {elapsed:.1f} s = {summary['rps']} req/s; p50 {summary['p50_ms']} ms, "
          f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms")
    print("status counts: " + ", ".join(f"{k}: {v}" for k, v in summary["statuses"].items()))
    print(f"{'operation':<22}{'count':>8}{'p50 ms':>9}{'p99 ms':>9}  statuses")
    for op in sorted(run.by_op):
        lat = sorted(run.latencies[op])
        counts = run.by_op[op]
        summary["ops"][op] = {"count": sum(counts.values()), "p50_ms": round(percentile(lat, 50) * 1000, 1),
                              "p99_ms": round(percentile(lat, 99) * 1000, 1),
                              "statuses": {str(k): v for k, v in sorted(counts.items())}}
        print(f"{op:<22}{sum(counts.values()):>8}{percentile(lat, 50) * 1000:>9.1f}{percentile(lat, 99) * 1000:>9.1f}  "
              + " ".join(f"{k}:{v}" for k, v in sorted(counts.items())))
    return summary


def find_psql():
    for candidate in sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin/psql"), reverse=True) + [shutil.which("psql") or ""]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise SystemExit("psql not found: apt-get install postgresql-client")


def psql(conninfo, script):
    result = subprocess.run([find_psql(), "-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", conninfo],
                            input=script, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()[:2000]}")
    return [line.split("|") for line in result.stdout.splitlines() if line.strip()]


def copy_block(table, rows):
    lines = [f"COPY {table} FROM STDIN;"]
    for row in rows:
        lines.append("\t".join("\\N" if v is None else str(v) for v in row))
    lines.append("\\.")
    return "\n".join(lines) + "\n"


def verify(run, args):
    """Returns (ok, facts): every acknowledged write is there, audit events match one for one."""
    problems, facts = [], {}
    acked = lambda rid: run.expected.get(rid, (0, False, 1))[1]
    created = [(k, i, r) for k, i, r in run.created if acked(r)]
    transitions = [(ref, f, t, r) for ref, f, t, r in run.transitions if acked(r)]
    patches = [(c, v, r) for c, v, r in run.patches if acked(r)]
    script = ["BEGIN;",
              "CREATE TEMP TABLE want_created (kind text, id uuid);", copy_block("want_created", [(k, i) for k, i, _ in created]),
              "CREATE TEMP TABLE want_moves (referral uuid, from_status text, to_status text);",
              copy_block("want_moves", [(a, b, c) for a, b, c, _ in transitions]),
              "CREATE TEMP TABLE want_patch (id uuid, version int);", copy_block("want_patch", [(c, v) for c, v, _ in patches]),
              "CREATE TEMP TABLE want_events (rid text, n int, acked boolean, attempts int);",
              copy_block("want_events", [(rid, n, "t" if a else "f", k) for rid, (n, a, k) in run.expected.items()]),
              "CREATE TEMP TABLE completions (referral uuid, rid text);", copy_block("completions", run.completions),
              # The one completion that met a need wrote its need.close too (a refused one wrote nothing).
              "UPDATE want_events w SET n = w.n + 1 FROM completions c WHERE w.rid = c.rid AND w.n > 0 "
              "AND EXISTS (SELECT 1 FROM need x WHERE x.met_by_referral = c.referral);",
              "CREATE TEMP TABLE got_events AS SELECT request_id AS rid, count(*)::int AS n FROM audit_event "
              f"WHERE request_id LIKE '{run.run_id}-%' GROUP BY 1;",
              # Temporary tables have no statistics until analysed: without them a 5-minute soak's
              # 250 000 ids were joined by nested loop and the check ran for over 15 minutes.
              "ANALYZE want_created, want_moves, want_patch, want_events, got_events;",
              # 1. acknowledged creates that are missing
              """SELECT 'missing-create', w.kind, w.id::text FROM want_created w WHERE NOT CASE w.kind
                   WHEN 'case' THEN EXISTS (SELECT 1 FROM case_file x WHERE x.id = w.id)
                   WHEN 'need' THEN EXISTS (SELECT 1 FROM need x WHERE x.id = w.id)
                   WHEN 'consent' THEN EXISTS (SELECT 1 FROM consent x WHERE x.id = w.id)
                   WHEN 'referral' THEN EXISTS (SELECT 1 FROM referral x WHERE x.id = w.id)
                     AND EXISTS (SELECT 1 FROM referral_transition t WHERE t.referral_id = w.id AND t.from_status IS NULL AND t.to_status = 'requested')
                   ELSE false END LIMIT 20;""",
              # 2. acknowledged transitions missing from the history
              """SELECT 'missing-transition', w.referral::text, w.from_status || '->' || w.to_status FROM want_moves w
                 WHERE NOT EXISTS (SELECT 1 FROM referral_transition t WHERE t.referral_id = w.referral
                                   AND t.from_status = w.from_status AND t.to_status = w.to_status) LIMIT 20;""",
              # 3. acknowledged case versions that are not in place
              """SELECT 'lost-update', w.id::text, w.version::text FROM want_patch w
                 WHERE NOT EXISTS (SELECT 1 FROM case_file c WHERE c.id = w.id AND c.version >= w.version) LIMIT 20;""",
              # 4. audit events one for one
              """SELECT 'audit-mismatch', w.rid, w.n || ' expected, ' || coalesce(g.n, 0) || ' found' || CASE WHEN w.acked THEN '' ELSE ' (in doubt)' END
                 FROM want_events w LEFT JOIN got_events g USING (rid)
                 WHERE (w.acked AND (coalesce(g.n, 0) < w.n OR coalesce(g.n, 0) > w.n * w.attempts))
                    OR (NOT w.acked AND coalesce(g.n, 0) > w.n * w.attempts) LIMIT 20;""",
              """SELECT 'audit-stray', g.rid, g.n || ' events for an id never sent' FROM got_events g
                 WHERE NOT EXISTS (SELECT 1 FROM want_events w WHERE w.rid = g.rid) LIMIT 20;""",
              """SELECT 'count', 'events', (SELECT coalesce(sum(n), 0) FROM got_events)::text;""",
              """SELECT 'count', 'expected', (SELECT coalesce(sum(n), 0) FROM want_events WHERE acked)::text;""",
              """SELECT 'count', 'doubtful-with-events', (SELECT count(*) FROM want_events w JOIN got_events g USING (rid) WHERE NOT w.acked)::text;""",
              """SELECT 'count', 'doubtful', (SELECT count(*) FROM want_events WHERE NOT acked)::text;""",
              # Evidence for unexpected answers: what the audit trail holds under their request ids.
              "CREATE TEMP TABLE failed_ids (rid text);", copy_block("failed_ids", [(r,) for r in run.failed_ids[:200]]),
              """SELECT 'evidence', e.request_id, e.subtype || ' ' || e.outcome || ' entity=' || coalesce(e.entity_kind, '') || ':' ||
                        coalesce(e.entity_id, '') || ' actor=' || coalesce(e.actor_role, '') || ':' || coalesce(e.actor_user::text, '') ||
                        ' detail=' || e.detail
                 FROM audit_event e JOIN failed_ids f ON f.rid = e.request_id ORDER BY e.id LIMIT 50;""",
              """SELECT 'count', 'retried-twice-run', (SELECT count(*) FROM want_events w JOIN got_events g USING (rid) WHERE w.attempts > 1 AND g.n > w.n)::text;""",
              "ROLLBACK;"]
    rows = psql(args.superuser_db, "\n".join(script))
    counts = {}
    evidence = []
    for row in rows:
        if row[0] == "count":
            counts[row[1]] = int(row[2])
        elif row[0] == "evidence":
            evidence.append(" ".join(row[1:]))
        else:
            problems.append(" ".join(row))
    if run.failed_ids:
        print(f"audit events under the {len(run.failed_ids)} unexpected answers' request ids: " + ("; ".join(evidence[:20]) or "none"))
        facts["failed_request_audit_events"] = evidence[:50]
    facts.update({
        "creates_checked": len(created), "transitions_checked": len(transitions), "patches_checked": len(patches),
        "audited_requests": sum(1 for n, a, _ in run.expected.values() if a and n > 0),
        "audit_events_expected": counts.get("expected", 0), "audit_events_found": counts.get("events", 0),
        "in_doubt_requests": counts.get("doubtful", 0), "in_doubt_with_events": counts.get("doubtful-with-events", 0),
        "retried_by_proxy": run.retried, "retried_and_run_twice": counts.get("retried-twice-run", 0),
    })
    print(f"verified: {len(created)} acknowledged creates exist, {len(transitions)} acknowledged transitions are in their "
          f"histories, {len(patches)} acknowledged updates in place; audit events {counts.get('events', 0)} found for "
          f"{counts.get('expected', 0)} expected from {len(run.expected)} requests"
          + (f" ({counts.get('doubtful', 0)} in doubt, {counts.get('doubtful-with-events', 0)} of them committed)" if counts.get("doubtful") else "")
          + (f"; {run.retried} requests retried by the proxy on another instance, {counts.get('retried-twice-run', 0)} of them ran on both"
             if run.retried else ""))
    if args.audit_verify:
        result = subprocess.run(args.audit_verify, shell=True, capture_output=True, text=True)
        line = (result.stdout.strip().splitlines() or [""])[-1]
        facts["audit_verify"] = line
        print("haven audit verify:", line or result.stderr.strip()[-300:])
        if result.returncode != 0:
            problems.append(f"haven audit verify exited {result.returncode}: {line} {result.stderr.strip()[-500:]}")
    return problems, facts


async def calibrate(args):
    """The driver's own ceiling: GET /healthz (no database) on every connection."""
    run = Run(args)
    clients = [Client(run, i, args.base_url) for i in range(args.connections)]
    run.measuring = True
    run.started = time.time()
    deadline = run.started + args.duration

    async def spin(client):
        while time.time() < deadline:
            await client.call("healthz", "GET", "/healthz", events=0)
        client.conn.close()

    await asyncio.gather(*(spin(c) for c in clients))
    run.ended = time.time()
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument("--base-url", help="haven to drive (default: start a throwaway one, see above)")
    parser.add_argument("--fixture", help="JSON: {logins: [haven dev seed --logins entries], supervisors: [{username, password, totp_secret, organisation_id}]}")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("DURATION", 60)), help="seconds (default 60)")
    parser.add_argument("--connections", type=int, default=int(os.environ.get("CONNECTIONS", 64)), help="connections (default 64)")
    parser.add_argument("--superuser-db", help="libpq conninfo of a superuser, for the checks after the run")
    parser.add_argument("--audit-verify", help="shell command that runs `haven audit verify` on the same database")
    parser.add_argument("--tolerate", default="", help="comma-separated answers that count as in doubt, not failures: 503,502,conn")
    parser.add_argument("--max-503-seconds", type=float, default=0, help="fail a 503 that took longer than this")
    parser.add_argument("--request-timeout", type=float, default=30, help="client timeout per request in seconds (a timeout always fails)")
    parser.add_argument("--events", help="write one CSV line per request: start,end,status,op,connection,upstream")
    parser.add_argument("--json-out", help="write the summary as JSON here")
    parser.add_argument("--ready-file", help="touch this file when the measured load starts")
    parser.add_argument("--run-id", help="prefix of the request ids (default: random)")
    parser.add_argument("--seed", type=int, default=1, help="random seed")
    parser.add_argument("--calibrate", action="store_true", help="only GET /healthz: the driver's own ceiling on this machine")
    parser.add_argument("--pg-log", help="PostgreSQL server log: 503s during a deadlock it logged in the lapsed-referral sweep are put down to that known bug")
    parser.add_argument("--strict", action="store_true", default=os.environ.get("STRICT", "1") == "1",
                        help="answers explained by a known (fixed) haven bug fail the run (the default; STRICT=0 reports them only)")
    args = parser.parse_args()

    if not args.base_url:
        script = os.path.join(ROOT, "Benchmarks", "load", "standalone.sh")
        os.execvp("bash", ["bash", script] + sys.argv[1:])
    if args.calibrate:
        summary = report(asyncio.run(calibrate(args)))
        if args.json_out:
            json.dump(summary, open(args.json_out, "w"), indent=2)
        sys.exit(0 if summary["unexpected"] == 0 else 1)
    if not args.fixture:
        parser.error("--fixture is required with --base-url")

    run, code = asyncio.run(run_load(args))
    if code != 0:
        print("FAIL: setup did not complete", file=sys.stderr)
        for line in run.failures:
            print("  " + line, file=sys.stderr)
        sys.exit(code)
    explain_deadlock_503s(run, args.pg_log)
    summary = report(run)
    problems = []
    known = collections.Counter(run.known.values())
    summary["known_bugs"] = dict(known)
    summary["lapsed_sweep_deadlocks"] = getattr(run, "lapsed_sweep_deadlocks", None)
    if known:
        print("answers explained by known haven bugs (see docs/reliability.md): "
              + "; ".join(f"{name} ×{count}: {KNOWN_BUGS[name]}" for name, count in known.items()))
        if args.strict:
            problems.append("known haven bugs met (--strict): " + ", ".join(f"{n} ×{c}" for n, c in known.items()))
    if run.failure_count:
        problems.append(f"{run.failure_count} unexpected answers")
    if args.superuser_db:
        try:
            found, facts = verify(run, args)
        except RuntimeError as error:
            found, facts = [str(error)], {}
        problems.extend(found)
        summary.update(facts)
    summary["errors_by_connection_max"] = max(run.errors_by_conn.values(), default=0)
    summary["in_doubt"] = sum(run.errors_by_conn.values())
    if args.events:
        with open(args.events, "w") as out:
            out.write("start,end,status,op,conn,upstream,known\n")
            for r in run.records:
                out.write(f"{r[0]:.6f},{r[1]:.6f},{r[2]},{r[3]},{r[4]},{r[5].replace(',', ' ')},{run.known.get(r[6], '')}\n")
    summary["ok"] = not problems
    summary["problems"] = problems[:40]
    if args.json_out:
        json.dump(summary, open(args.json_out, "w"), indent=2)
    if run.failures:
        print("unexpected answers (first ones):")
        for line in run.failures[:25]:
            print("  " + line)
    if problems:
        print("FAIL: " + "; ".join(problems[:10]))
        sys.exit(1)
    print(f"PASS: {summary['requests']} requests, {summary['rps']} req/s, p50 {summary['p50_ms']} ms, p99 {summary['p99_ms']} ms, "
          f"0 unexpected answers" + (", nothing lost, audit one for one" if args.superuser_db else "")
          + (f"; known haven bugs met: {dict(known)}" if known else ""))


if __name__ == "__main__":
    main()
