"""A first login's second-factor enrolment, as a person does it at the console or API: log in
with the password, ask for a TOTP secret, confirm it with a code. For the drills' fixtures.

    python3 Benchmarks/load/enrol.py BASE_URL USERNAME PASSWORD   → prints "TOKEN SECRET"
"""
import base64, hashlib, hmac, json, struct, sys, time, urllib.request


def call(base, path, body, token=None):
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    with urllib.request.urlopen(request) as answer:
        return json.load(answer)


def totp(secret_b32):
    key = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    mac = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1000000)


def enrol(base, username, password):
    """Logs in, enrols an authenticator; answers (token, secret). The token is the enrolment's session."""
    token = call(base, "/v1/auth/login", {"username": username, "password": password})["token"]
    secret = call(base, "/v1/me/second-factor", {}, token)["secret"]
    call(base, "/v1/me/second-factor/confirm", {"code": totp(secret)}, token)
    return token, secret


if __name__ == "__main__":
    print(*enrol(*sys.argv[1:4]))
