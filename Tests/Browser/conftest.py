"""Fixtures of the console's browser suite.

`haven`: one `haven serve` for the whole run (embedded PostgreSQL in a temporary folder, a fresh
key file), its bootstrap banner read from standard output. `world`: synthetic organisations,
users, a case, a need, a consent and a referral made through the JSON API, as scripts/smoke.py
does. `browser`/`driver`: headless Chromium from Debian. Helpers live in harness.py.

Environment: HAVEN_BIN (default `$(swift build --show-bin-path)/haven`), CHROMIUM_BIN
(/usr/bin/chromium), CHROMEDRIVER_BIN (/usr/bin/chromedriver).
"""
import datetime
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from harness import ROOT, SECOND_FACTOR_ROLES, Api, User, World

CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
START_TIMEOUT = 180  # seconds for a first start: initdb, migrations, the bootstrap admin


def _binary():
    configured = os.environ.get("HAVEN_BIN")
    if configured:
        return Path(configured)
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        pytest.exit(f"set HAVEN_BIN or build first: swift build --show-bin-path failed: {out.stderr}", returncode=2)
    return Path(out.stdout.strip()) / "haven"


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _tail(path, lines=40):
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


class Server:
    def __init__(self, base, work, process, admin_password):
        self.base, self.work, self.process = base, work, process
        self.admin_password = admin_password
        self.log = work / "haven.log"


@pytest.fixture(scope="session")
def haven(request):
    binary = _binary()
    if not os.access(binary, os.X_OK):
        pytest.exit(f"no haven binary at {binary} (set HAVEN_BIN or run swift build)", returncode=2)
    # Short and open to others: run as root, haven hands the cluster to the postgres user, and the
    # socket path must stay under 100 bytes.
    work = Path(tempfile.mkdtemp(prefix="haven-browser.", dir="/tmp"))
    work.chmod(0o755)
    keys = work / "keys"
    keys.write_text(f"k1 {secrets.token_hex(32)}\n")
    keys.chmod(0o600)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "HAVEN_MIGRATION_DATABASE_URL", "HAVEN_REPLICA_URL")}
    out_path = work / "haven.out"
    with open(out_path, "wb") as out, open(work / "haven.log", "wb") as err:
        process = subprocess.Popen(
            [str(binary), "serve", "--port", str(port), "--data-dir", str(work / "pg"), "--keys-file", str(keys),
             "--schema-dir", str(ROOT / "Schema"), "--login-rate", "1000"],
            stdout=out, stderr=err, env=env, cwd=ROOT)
    server = None
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while server is None:
            if process.poll() is not None:
                raise RuntimeError(f"haven serve exited with {process.returncode}:\n{_tail(work / 'haven.log')}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"haven serve was not ready after {START_TIMEOUT} s:\n{_tail(work / 'haven.log')}")
            banner = out_path.read_text(errors="replace")
            password = re.search(r"one-time password:\s*(\S+)", banner)
            if password and _ready(base):
                server = Server(base, work, process, password.group(1))
            else:
                time.sleep(0.2)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if request.session.testsfailed:
            shutil.rmtree(work / "pg", ignore_errors=True)
            request.config._haven_log = work / "haven.log"
        else:
            shutil.rmtree(work, ignore_errors=True)


def _ready(base):
    try:
        return requests.get(base + "/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def pytest_terminal_summary(terminalreporter, config):
    log = getattr(config, "_haven_log", None)
    if log:
        terminalreporter.write_line(f"haven's log of this run: {log}")


@pytest.fixture(scope="session")
def world(haven):
    """Synthetic data through the JSON API; every user has changed the first-login password, and
    those whose role needs a second factor have enrolled their own authenticator at that login."""
    api = Api(haven.base)
    admin = User("admin", haven.admin_password, "", "admin", "")
    token = api.login(admin)
    admin.password = "synthetic operator passphrase 1"
    api.call("POST", "/v1/me/password", token, {"current_password": haven.admin_password, "new_password": admin.password}, expect=204)
    api.enrol(token, admin)

    _, ngo = api.call("POST", "/v1/organisations", token, {
        "name": "Synthetic NGO", "type": "ngo", "country": "MD", "mandate": {"service_types": ["counselling"]}}, expect=201)
    _, shelter = api.call("POST", "/v1/organisations", token, {
        "name": "Synthetic Shelter", "type": "shelter", "country": "MD", "mandate": {"service_types": ["safe_accommodation"]}}, expect=201)

    def make_user(org, role, username, display_name):
        first = f"synthetic first passphrase of a {role} 7"
        _, created = api.call("POST", "/v1/users", token, {
            "organisation_id": org["id"], "role": role, "username": username, "display_name": display_name,
            "password": first}, expect=201)
        assert "otpauth" not in str(created), "the administrator is handed no second factor"
        user = User(username, first, display_name, role, org["name"], id=created["user"]["id"])
        user_token = api.login(user)
        user.password = f"synthetic passphrase of a {role} 8 changed"
        api.call("POST", "/v1/me/password", user_token, {"current_password": first, "new_password": user.password}, expect=204)
        if role in SECOND_FACTOR_ROLES:
            api.enrol(user_token, user)
        return user

    users = {
        "cw": make_user(ngo, "caseworker", "cw.one", "Synthetic Caseworker One"),
        "sup": make_user(ngo, "supervisor", "sup.one", "Synthetic Supervisor One"),
        "partner": make_user(shelter, "partner", "shelter.desk", "Synthetic Shelter Desk"),
    }
    caseworker = api.login(users["cw"])
    family_name, phone = "Person-One", "+000 0000"
    identified_on = (datetime.date.today() - datetime.timedelta(days=30)).isoformat()
    _, case = api.call("POST", "/v1/cases", caseworker, {
        "case_type": "trafficking", "identification_status": "presumed", "identified_by": "hotline",
        "identified_on": identified_on, "risk_level": "high",
        "person": {"identity": {"given_name": "Synthetic", "family_name": family_name, "contact": {"phone": phone}},
                   "sex": "female", "birth_year": 1999, "citizenship": "MD", "languages": ["ro"]},
        "trafficking": {"exploitation_types": ["forced_labour"], "months_exploited": 7}},
        headers={"Idempotency-Key": "browser-intake-1"}, expect=201)
    _, need = api.call("POST", f"/v1/cases/{case['id']}/needs", caseworker, {
        "domain": "personal", "service_type": "safe_accommodation", "priority": "emergency"}, expect=201)
    _, consent = api.call("POST", f"/v1/cases/{case['id']}/consents", caseworker, {
        "grantor": "self", "method": "written",
        "provisions": [{"recipient_organisation": shelter["id"], "purpose": "safe accommodation", "categories": ["profile", "needs"]}]},
        expect=201)
    _, referral = api.call("POST", f"/v1/cases/{case['id']}/referrals", caseworker, {
        "to_organisation": shelter["id"], "need_id": need["id"], "consent_id": consent["id"],
        "shared_categories": ["profile", "needs"], "note": "synthetic note"}, expect=201)
    return World(base=haven.base, users=users, ngo=ngo, shelter=shelter, case_id=case["id"], case_reference=case["reference"],
                 family_name=family_name, phone=phone, need_id=need["id"], consent_id=consent["id"],
                 referral_id=referral["id"], admin=admin)


@pytest.fixture
def browser():
    """Makes headless Chromium drivers: browser(language="en", javascript=True). All quit after the test."""
    drivers = []

    def make(language="en", javascript=True):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        options.add_argument("--headless=new")
        options.add_argument("--window-size=1280,900")
        options.add_argument(f"--lang={language}")
        options.add_argument("--disable-dev-shm-usage")
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            options.add_argument("--no-sandbox")  # Chromium refuses to start as root with its sandbox
        prefs = {"intl.accept_languages": language}
        if not javascript:
            prefs["profile.managed_default_content_settings.javascript"] = 2
        options.add_experimental_option("prefs", prefs)
        driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
        driver.set_window_size(1280, 900)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@pytest.fixture
def driver(browser):
    return browser()
