#!/usr/bin/env python3
"""End-to-end walk through Haven's API against a running server, with synthetic data only.

Usage: scripts/smoke.py [BASE_URL] < bootstrap banner (the text `haven serve` printed)
Logs in as the bootstrap admin, creates two organisations and their users, takes in a case,
refers it with consent, lets the partner see and move the referral, then withdraws consent.
"""
import base64, hashlib, hmac, json, re, struct, sys, time, urllib.request, urllib.error

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"

def totp(secret_b32, offset=0):
    secret = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    counter = struct.pack(">Q", int(time.time()) // 30 + offset)
    mac = hmac.new(secret, counter, hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)

def call(method, path, token=None, body=None, headers=None, expect=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request) as response:
            status, text, hdrs = response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        status, text, hdrs = error.code, error.read().decode(), dict(error.headers)
    payload = json.loads(text) if text else None
    if expect is not None and status != expect:
        raise SystemExit(f"{method} {path}: expected {expect}, got {status}: {text}")
    return status, payload, hdrs

def login(username, password, secret=None):
    for offset in (0, 1):
        body = {"username": username, "password": password}
        if secret:
            body["totp"] = totp(secret, offset)
        status, payload, _ = call("POST", "/v1/auth/login", body=body)
        if status == 200:
            return payload["token"]
    raise SystemExit(f"login failed for {username}")

def enrol(token):
    """The first login's enrolment of an authenticator: the secret Haven shows, confirmed with a code."""
    _, begun, _ = call("POST", "/v1/me/second-factor", token, expect=200)
    call("POST", "/v1/me/second-factor/confirm", token, {"code": totp(begun["secret"])}, expect=200)
    return begun["secret"]

banner = sys.stdin.read()
admin_password = re.search(r"one-time password: (\S+)", banner).group(1)
admin = login("admin", admin_password)
new_admin_password = "synthetic operator passphrase 1"
call("POST", "/v1/me/password", admin, {"current_password": admin_password, "new_password": new_admin_password}, expect=204)
# Synthetic and throwaway: printed so a caller (Benchmarks/load/hygiene.py) can log in as the admin.
print("admin second factor:", enrol(admin))

_, ngo, _ = call("POST", "/v1/organisations", admin, {"name": "Synthetic NGO", "type": "ngo", "country": "MD",
                 "mandate": {"service_types": ["counselling"]}}, expect=201)
_, shelter, _ = call("POST", "/v1/organisations", admin, {"name": "Synthetic Shelter", "type": "shelter", "country": "MD",
                     "mandate": {"service_types": ["safe_accommodation"]}}, expect=201)

def make_user(org, role, name):
    password = f"synthetic passphrase of a {role} 7"
    _, created, _ = call("POST", "/v1/users", admin, {"organisation_id": org["id"], "role": role, "username": name, "password": password}, expect=201)
    token = login(name, password)
    new_password = password + " changed"
    call("POST", "/v1/me/password", token, {"current_password": password, "new_password": new_password}, expect=204)
    return token

caseworker = make_user(ngo, "caseworker", "cw.one")
partner = make_user(shelter, "partner", "shelter.desk")

_, case, hdrs = call("POST", "/v1/cases", caseworker, {
    "case_type": "trafficking", "identification_status": "presumed", "identified_by": "hotline",
    "identified_on": "2026-11-01", "risk_level": "high",
    "person": {"identity": {"given_name": "Synthetic", "family_name": "Person-One", "contact": {"phone": "+000 0000"}},
               "sex": "female", "birth_year": 1999, "citizenship": "MD", "languages": ["ro"]},
    "trafficking": {"exploitation_types": ["forced_labour"], "months_exploited": 7}}, headers={"Idempotency-Key": "intake-1"}, expect=201)
print("case", case["reference"], case["id"])
_, need, _ = call("POST", f"/v1/cases/{case['id']}/needs", caseworker, {"domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"}, expect=201)
_, consent, _ = call("POST", f"/v1/cases/{case['id']}/consents", caseworker, {"grantor": "self", "method": "written",
                     "provisions": [{"recipient_organisation": shelter["id"], "purpose": "safe accommodation", "categories": ["profile", "contact", "needs"]}]}, expect=201)
status, problem, _ = call("POST", f"/v1/cases/{case['id']}/referrals", caseworker, {"to_organisation": shelter["id"], "need_id": need["id"],
                          "consent_id": consent["id"], "shared_categories": ["identity", "profile"]})
print("uncovered referral ->", status, problem.get("missing_categories"))
_, referral, _ = call("POST", f"/v1/cases/{case['id']}/referrals", caseworker, {"to_organisation": shelter["id"], "need_id": need["id"],
                      "consent_id": consent["id"], "shared_categories": ["profile", "contact", "needs"], "note": "synthetic note"}, expect=201)
_, inbox, _ = call("GET", "/v1/referrals?direction=incoming", partner, expect=200)
print("partner inbox", len(inbox["items"]))
_, view, _ = call("GET", f"/v1/referrals/{referral['id']}", partner, expect=200)
print("partner view", json.dumps(view["case"]))
status, _, _ = call("GET", f"/v1/cases/{case['id']}", partner)
print("partner opens case ->", status)
call("POST", f"/v1/referrals/{referral['id']}/transitions", partner, {"to": "accepted"}, expect=200)
status, problem, _ = call("POST", f"/v1/referrals/{referral['id']}/transitions", partner, {"to": "completed", "outcome": "done"})
print("accepted -> completed ->", status, problem.get("allowed"))
_, withdrawal, _ = call("POST", f"/v1/cases/{case['id']}/consents/{consent['id']}/withdraw", caseworker, expect=200)
print("withdrawal cancelled", withdrawal["cancelled_referrals"])
_, view, _ = call("GET", f"/v1/referrals/{referral['id']}", partner, expect=200)
print("after withdrawal: status", view["status"], view["status_reason"], "case shown:", "case" in view)
_, history, _ = call("GET", f"/v1/referrals/{referral['id']}/history", caseworker, expect=200)
print("history", [(t.get("from"), t["to"]) for t in history["items"]])
_, case_history, _ = call("GET", f"/v1/cases/{case['id']}/history", caseworker, expect=200)
print("case history events", [e["event"] for e in case_history["items"]])
print("OK")
