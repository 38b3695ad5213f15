"""Small helpers for Benchmarks/run.sh: log in, read JSON fields, hash a token like Haven does."""
import base64, hashlib, json, sys, urllib.request

def call(method, url, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"null")

command = sys.argv[1]
if command == "login":  # login BASE USERNAME PASSWORD → token
    print(call("POST", sys.argv[2] + "/v1/auth/login", body={"username": sys.argv[3], "password": sys.argv[4]})["token"])
elif command == "login-totp":  # login-totp BASE USERNAME PASSWORD OTPAUTH_URI → token (second-factor roles)
    import urllib.parse
    from load import totp  # the load driver's RFC 6238 code
    secret = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[5]).query)["secret"][0]
    print(call("POST", sys.argv[2] + "/v1/auth/login", body={"username": sys.argv[3], "password": sys.argv[4], "totp": totp(secret)})["token"])
elif command == "token-hash":  # token-hash TOKEN → \x<sha256 of the token's bytes>
    raw = sys.argv[2][len("hvt_"):]
    print("\\x" + hashlib.sha256(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))).hexdigest())
elif command == "get":  # get URL TOKEN JSONPATH(dot separated, numbers index lists)
    value = call("GET", sys.argv[2], token=sys.argv[3])
    for part in sys.argv[4].split("."):
        value = value[int(part)] if part.isdigit() else value[part]
    print(value)
elif command == "login-field":  # login-field FILE ROLE INDEX FIELD
    logins = [l for l in json.load(open(sys.argv[2]))["logins"] if l["role"] == sys.argv[3]]
    print(logins[int(sys.argv[4])][sys.argv[5]])
