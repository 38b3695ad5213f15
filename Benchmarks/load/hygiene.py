#!/usr/bin/env python3
"""Exercises a fresh haven with known synthetic secrets and identifying values, for
scripts/drill-log-hygiene.sh, and writes every one of them to a file (one per line) so the drill
can grep haven's log for each.

    hygiene.py BASE_URL BANNER_FILE MARKERS_OUT

Runs scripts/smoke.py (bootstrap admin from the banner, organisations, users, a case, consent,
referral, partner view, transitions, withdrawal), then more: users of every role with known
passwords (supervisor with TOTP), logins right and wrong, unknown users, forged and revoked tokens,
a case full of marked identifying values (names, aliases, birth date, phone, e-mail, address,
document number, note), a PATCH of them, a need and referral and transition with notes, a
break-glass reason, a subject-access export with a wrong and a right password, malformed and
invalid bodies that carry marked values, marked values in query strings, a password change.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request

BASE, BANNER, OUT = sys.argv[1], sys.argv[2], sys.argv[3]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
markers = []  # (category, value)
counts = {"requests": 0}


def mark(category, value):
    markers.append((category, value))
    return value


def totp(secret_b32, offset=0):
    secret = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    counter = struct.pack(">Q", int(time.time()) // 30 + offset)
    mac = hmac.new(secret, counter, hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def call(method, path, token=None, body=None, headers=None, raw=None, expect=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    counts["requests"] += 1
    try:
        with urllib.request.urlopen(request) as response:
            status, text, hdrs = response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, text, hdrs = error.code, error.read().decode(), dict(error.headers)
    if expect is not None and status not in (expect if isinstance(expect, tuple) else (expect,)):
        raise SystemExit(f"{method} {path}: expected {expect}, got {status}: {text[:300]}")
    try:
        payload = json.loads(text) if text else None
    except ValueError:
        payload = text
    return status, payload, hdrs


def login(username, password, secret=None):
    for offset in (0, 1, 2):
        body = {"username": username, "password": password}
        if secret:
            body["totp"] = totp(secret, offset)
        status, payload, _ = call("POST", "/v1/auth/login", body=body)
        if status == 200:
            token = payload["token"]
            mark("token", token)
            mark("token", token[len("hvt_"):])
            return token
        if secret and offset == 1:
            time.sleep(31 - time.time() % 30)
    raise SystemExit(f"login failed for {username}")


banner = open(BANNER).read()
admin_password = mark("password", re.search(r"one-time password: (\S+)", banner).group(1))

# 1. The smoke walk: its passwords, names, phone and note are known.
for value in ["synthetic operator passphrase 1", "synthetic passphrase of a caseworker 7", "synthetic passphrase of a caseworker 7 changed",
              "synthetic passphrase of a partner 7", "synthetic passphrase of a partner 7 changed"]:
    mark("password", value)
mark("name", "Person-One")
mark("phone", "+000 0000")
mark("note", "synthetic note")
smoke = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "smoke.py"), BASE], input=banner, capture_output=True, text=True)
if smoke.returncode != 0 or "OK" not in smoke.stdout:
    raise SystemExit(f"smoke.py failed: {smoke.stdout[-500:]} {smoke.stderr[-500:]}")
counts["smoke"] = "OK"
admin_secret = mark("totp-secret", re.search(r"admin second factor: ([A-Z2-7]+)", smoke.stdout).group(1))

# 2. More, with marked values.
admin = login("admin", "synthetic operator passphrase 1", admin_secret)
_, orgs, _ = call("GET", "/v1/organisations?limit=50", admin, expect=200)
ngo = next(o for o in orgs["items"] if o["name"] == "Synthetic NGO")
shelter = next(o for o in orgs["items"] if o["name"] == "Synthetic Shelter")


def make_user(org, role, username, password):
    mark("password", password)
    _, created, _ = call("POST", "/v1/users", admin, {"organisation_id": org["id"], "role": role, "username": username, "password": password}, expect=201)
    assert "otpauth" not in json.dumps(created), "the administrator is handed no second factor"
    token = login(username, password)
    new_password = mark("password", password + " Renewed-8841")
    call("POST", "/v1/me/password", token, {"current_password": password, "new_password": new_password}, expect=204)
    secret = None
    if role in ("supervisor", "auditor", "admin"):
        # The first login's enrolment: the secret is shown to the user only, and confirmed with a code.
        _, begun, _ = call("POST", "/v1/me/second-factor", token, expect=200)
        secret = mark("totp-secret", begun["secret"])
        _, done, _ = call("POST", "/v1/me/second-factor/confirm", token, {"code": totp(secret)}, expect=200)
        for code in done["recovery_codes"]:
            mark("recovery-code", code)
    return login(username, new_password, secret), new_password


caseworker, cw_password = make_user(ngo, "caseworker", "hyg.caseworker", "Hygiene-Caseworker-Passphrase-5521")
supervisor, _ = make_user(ngo, "supervisor", "hyg.supervisor", "Hygiene-Supervisor-Passphrase-7734")
partner, _ = make_user(shelter, "partner", "hyg.partner", "Hygiene-Partner-Passphrase-9918")

# Failed logins: a wrong password, an unknown user, a wrong TOTP code.
call("POST", "/v1/auth/login", body={"username": "hyg.caseworker", "password": mark("password", "Wrong-Hygiene-Passphrase-3381")}, expect=401)
call("POST", "/v1/auth/login", body={"username": "ghost.hygiene", "password": mark("password", "Ghost-Hygiene-Passphrase-4470")}, expect=401)
call("POST", "/v1/auth/login", body={"username": "hyg.supervisor", "password": "Hygiene-Supervisor-Passphrase-7734 Renewed-8841", "totp": "000000"}, expect=401)
# Forged and malformed tokens.
call("GET", "/v1/me", mark("token", "hvt_HygieneForgedTokenMarker0000000000000000000"), expect=401)
call("GET", "/v1/me", headers={"Authorization": mark("token", "Basic SHlnaWVuZUJhc2ljTWFya2Vy")}, expect=401)

identity = {
    "given_name": mark("name", "Zyxhygienegiven"), "family_name": mark("name", "Qwhygienefamily"),
    "aliases": [mark("name", "Aliashygienemarker")], "date_of_birth": mark("birth-date", "1987-03-14"),
    "contact": {"phone": mark("phone", "+000 5550199"), "email": mark("email", "hygiene.marker@example.invalid"),
                "other": mark("contact", "Signal hygiene-contact-7781")},
    "address": mark("address", "17 Hygienemarker Street, Cahul"),
    "identity_documents": [{"type": "passport", "number": mark("document", "HYGDOC4471"), "issuing_country": "MD"}],
}
_, case, hdrs = call("POST", "/v1/cases", caseworker, {
    "case_type": "trafficking", "identification_status": "presumed", "identified_by": "ngo", "identified_on": "2026-10-01",
    "risk_level": "high", "note": mark("note", "Hygiene case note marker 7731"),
    "person": {"identity": identity, "sex": "female", "birth_year": 1987, "citizenship": "MD", "languages": ["ro"]},
    "trafficking": {"exploitation_types": ["forced_labour"], "months_exploited": 3}}, headers={"Idempotency-Key": "hygiene-intake-1"}, expect=201)
cid = case["id"]
# The same intake again (idempotent replay), and a read, a PATCH of identifying values.
call("POST", "/v1/cases", caseworker, {
    "case_type": "trafficking", "identification_status": "presumed", "identified_by": "ngo", "identified_on": "2026-10-01",
    "risk_level": "high", "note": "Hygiene case note marker 7731",
    "person": {"identity": identity, "sex": "female", "birth_year": 1987, "citizenship": "MD", "languages": ["ro"]},
    "trafficking": {"exploitation_types": ["forced_labour"], "months_exploited": 3}}, headers={"Idempotency-Key": "hygiene-intake-1"}, expect=201)
_, case, hdrs = call("GET", f"/v1/cases/{cid}", caseworker, expect=200)
patched = dict(identity, family_name=mark("name", "Qwhygienerenamed"), address=mark("address", "99 Hygienemoved Lane"))
call("PATCH", f"/v1/cases/{cid}", caseworker, {"person": {"identity": patched}, "note": mark("note", "Hygiene patched note 5512")},
     headers={"If-Match": hdrs["ETag"]}, expect=200)
# A stale If-Match (412) and a duplicate-looking second case (possible duplicate hint).
call("PATCH", f"/v1/cases/{cid}", caseworker, {"note": "Hygiene patched note 5512"}, headers={"If-Match": 'W/"1"'}, expect=412)
call("POST", "/v1/cases", caseworker, {
    "case_type": "trafficking", "identification_status": "potential", "identified_by": "ngo", "identified_on": "2026-10-02",
    "risk_level": "low", "person": {"identity": patched, "sex": "female", "birth_year": 1987}}, expect=201)
_, need, _ = call("POST", f"/v1/cases/{cid}/needs", caseworker, {"domain": "personal", "service_type": "safe_accommodation",
                                                                  "priority": "urgent", "note": mark("note", "Hygiene need note 6630")}, expect=201)
_, consent, _ = call("POST", f"/v1/cases/{cid}/consents", caseworker, {"grantor": "self", "method": "written", "provisions": [
    {"recipient_organisation": shelter["id"], "purpose": "safe accommodation", "categories": ["identity", "contact", "profile", "needs"]}]}, expect=201)
_, referral, _ = call("POST", f"/v1/cases/{cid}/referrals", caseworker, {
    "to_organisation": shelter["id"], "need_id": need["id"], "consent_id": consent["id"],
    "shared_categories": ["identity", "contact", "profile", "needs"], "note": mark("note", "Hygiene referral note 2290")}, expect=201)
call("GET", f"/v1/referrals/{referral['id']}", partner, expect=200)
call("POST", f"/v1/referrals/{referral['id']}/transitions", partner, {"to": "accepted", "note": mark("note", "Hygiene transition note 4418")}, expect=200)
call("POST", f"/v1/referrals/{referral['id']}/transitions", partner, {"to": "completed", "outcome": "done"}, expect=409)
call("GET", f"/v1/cases/{cid}", partner, expect=404)
call("GET", f"/v1/cases/{cid}/history", caseworker, expect=200)
call("GET", f"/v1/referrals/{referral['id']}/history", partner, expect=200)
# Break-glass by a supervisor of another organisation, with a marked reason, then a read under it.
outsider, _ = make_user(shelter, "supervisor", "hyg.outsider", "Hygiene-Outsider-Passphrase-1187")
call("POST", f"/v1/cases/{cid}/break-glass", outsider, {"reason": mark("reason", "Hygiene break glass reason marker 3321")}, expect=201)
call("GET", f"/v1/cases/{cid}", outsider, expect=200)
# Subject-access export: a wrong password, then the right one.
call("GET", f"/v1/cases/{cid}/export", supervisor, headers={"X-Reauthenticate": "password " + mark("password", "Reauth-Wrong-Hygiene-6612")}, expect=(401, 403))
call("GET", f"/v1/cases/{cid}/export", supervisor, headers={"X-Reauthenticate": "password Hygiene-Supervisor-Passphrase-7734 Renewed-8841"})
# Malformed and invalid bodies carrying marked values; marked values in query strings and paths.
call("POST", "/v1/cases", caseworker, raw=b'{"person": {"identity": {"given_name": "' + mark("name", "Zyxmalformedmarker").encode() + b'"', expect=400)
call("POST", "/v1/cases", caseworker, {"case_type": mark("value", "Zyxbadenummarker"), "person": {}}, expect=(400, 422))
call("PATCH", f"/v1/cases/{cid}", caseworker, {"person": {"identity": {"date_of_birth": mark("birth-date", "1850-02-03")}}},
     headers={"If-Match": 'W/"99"'}, expect=(412, 422))
call("GET", "/v1/cases?status=" + mark("query", "Zyxquerymarker"), caseworker, expect=400)
call("GET", "/v1/cases?assignee=" + mark("query", "Zyxassigneemarker"), caseworker, expect=400)
call("GET", "/v1/cases/" + mark("path", "Zyxpathmarker"), caseworker, expect=404)
call("POST", "/v1/auth/login", raw=b'{"username": "hyg.caseworker", "password": "' + mark("password", "Truncated-Hygiene-Passphrase-9001").encode(), expect=400)
# Logout revokes; the revoked token is rejected.
call("POST", "/v1/auth/logout", caseworker, expect=204)
call("GET", "/v1/me", caseworker, expect=401)

with open(OUT, "w") as out:
    for category, value in markers:
        out.write(f"{category}\t{value}\n")
counts["markers"] = len(markers)
print(json.dumps(counts))
