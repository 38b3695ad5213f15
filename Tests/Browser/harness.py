"""Helpers of the console's browser suite: the JSON API client that seeds synthetic data, TOTP
codes, form reading, console logins (through Chromium and through requests), axe-core checks
and screenshots. docs/console.md is the contract these helpers read pages by."""
import base64
import hashlib
import hmac
import re
import struct
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import requests
from selenium.common.exceptions import (
    NoSuchElementException, StaleElementReferenceException, TimeoutException, WebDriverException,
)
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "console"
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.IGNORECASE)
WAIT = 20  # seconds a page may take to appear before a test says what it saw instead
SESSION_COOKIE = "haven_session"
SECOND_FACTOR_ROLES = ("admin", "supervisor", "auditor")  # they enrol an authenticator at their first login


# --- people and records ---------------------------------------------------------------------

@dataclass
class User:
    username: str
    password: str
    display_name: str
    role: str
    organisation: str
    id: str = ""
    totp_secret: str | None = None
    last_step: int = -1  # the last TOTP step used: the server refuses a step at or before it
    recovery_codes: list = field(default_factory=list)

    def code(self):
        """A TOTP code the server has not seen yet (it takes one step of drift either way)."""
        while True:
            now = int(time.time()) // 30
            step = max(now, self.last_step + 1)
            if step <= now + 1:
                self.last_step = step
                return totp(self.totp_secret, step)
            time.sleep(1)


@dataclass
class World:
    """What the seed made: the base URL, users by key (cw, sup, partner), organisations and ids."""
    base: str
    users: dict
    ngo: dict
    shelter: dict
    case_id: str
    case_reference: str
    family_name: str
    phone: str
    need_id: str
    consent_id: str
    referral_id: str
    admin: User = field(repr=False, default=None)


def totp(secret_b32, step):
    secret = base64.b32decode(secret_b32 + "=" * ((8 - len(secret_b32) % 8) % 8))
    mac = hmac.new(secret, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


# --- the JSON API ---------------------------------------------------------------------------

class Api:
    def __init__(self, base):
        self.base = base
        self.http = requests.Session()

    def call(self, method, path, token=None, body=None, headers=None, expect=None):
        sent = {"Accept": "application/json", **(headers or {})}
        if token:
            sent["Authorization"] = "Bearer " + token
        response = self.http.request(method, self.base + path, json=body, headers=sent, timeout=60)
        payload = response.json() if response.content else None
        if expect is not None and response.status_code != expect:
            raise AssertionError(f"{method} {path}: expected {expect}, got {response.status_code}: {response.text}")
        return response.status_code, payload

    def login(self, user):
        body = {"username": user.username, "password": user.password}
        if user.totp_secret:
            body["totp"] = user.code()
        _, payload = self.call("POST", "/v1/auth/login", body=body, expect=200)
        return payload["token"]

    def enrol(self, token, user):
        """The first login's enrolment of the user's own authenticator: the secret Haven shows,
        confirmed with a code from it; keeps the secret and the recovery codes on `user`."""
        _, begun = self.call("POST", "/v1/me/second-factor", token, expect=200)
        user.totp_secret = begun["secret"]
        _, done = self.call("POST", "/v1/me/second-factor/confirm", token, {"code": user.code()}, expect=200)
        user.recovery_codes = done["recovery_codes"]


# --- reading HTML ---------------------------------------------------------------------------

class _FormReader(HTMLParser):
    """The fields of one form (by id): name -> value for inputs, selects and textareas."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.found = form_id, False, False
        self.action, self.method = None, "get"
        self.hidden, self.fields = {}, {}
        self._select, self._textarea = None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("id") == self.form_id
            if self.inside:
                self.found, self.action, self.method = True, a.get("action"), (a.get("method") or "get").lower()
            return
        if not self.inside:
            return
        name = a.get("name")
        if tag == "input" and name:
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[name] = a.get("value") or ""
            if kind == "hidden":
                self.hidden[name] = a.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self.fields.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value") or ""
        elif tag == "textarea" and name:
            self._textarea = name
            self.fields[name] = ""

    def handle_data(self, data):
        if self.inside and self._textarea:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def read_form(html, form_id):
    reader = _FormReader(form_id)
    reader.feed(html)
    assert reader.found, f"no form #{form_id} on the page:\n{html[:2000]}"
    return reader


class _Assets(HTMLParser):
    """Every URL a page makes the browser fetch on its own: style sheets, icons, scripts, images."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.urls = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and a.get("href") and (a.get("rel") or "").lower() not in ("canonical", "alternate", "next", "prev"):
            self.urls.append(a["href"])
        elif tag in ("script", "img", "iframe", "audio", "video", "source", "embed") and a.get("src"):
            self.urls.append(a["src"])
        elif tag == "object" and a.get("data"):
            self.urls.append(a["data"])


def assets_of(html):
    reader = _Assets()
    reader.feed(html)
    return reader.urls


def has_id(html, element_id):
    return re.search(r"""\bid\s*=\s*["']?%s["'\s>]""" % re.escape(element_id), html) is not None


# --- the console through requests -----------------------------------------------------------

def console_session(base, user, language="en"):
    """Logs in through the console's login form with requests; answers (session, the POST's response).
    The POST is not followed, so its raw Set-Cookie can be read."""
    session = requests.Session()
    session.headers["Accept-Language"] = language
    page = session.get(base + "/login", timeout=30)
    assert page.status_code == 200, f"GET /login answered {page.status_code}"
    form = read_form(page.text, "login-form")
    data = dict(form.hidden)
    data.update(username=user.username, password=user.password)
    if user.totp_secret:
        data["totp"] = user.code()
    response = session.post(urljoin(base + "/login", form.action or "/login"), data=data,
                            headers={"Origin": base}, allow_redirects=False, timeout=30)
    assert response.status_code == 303, f"POST /login answered {response.status_code}:\n{response.text[:2000]}"
    assert session.cookies.get(SESSION_COOKIE), f"no {SESSION_COOKIE} cookie after POST /login: {response.headers}"
    return session, response


def cookie_session(driver, language="en"):
    """A requests session carrying the browser's session cookie (HttpOnly cookies included)."""
    cookie = driver.get_cookie(SESSION_COOKIE)
    assert cookie, f"the browser holds no {SESSION_COOKIE} cookie"
    session = requests.Session()
    session.headers["Accept-Language"] = language
    session.cookies.set(SESSION_COOKIE, cookie["value"])
    return session


def set_cookies(response):
    """Every Set-Cookie header of a response, unmerged."""
    return response.raw.headers.getlist("Set-Cookie")


# --- the console through Chromium -----------------------------------------------------------

def describe(driver):
    """What the browser shows, for a failure message."""
    try:
        heading = " / ".join(h.text for h in driver.find_elements(By.CSS_SELECTOR, "h1"))
        errors = " / ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, "#form-errors, .field-error"))
    except Exception:  # the page is changing under us
        heading = errors = "?"
    return f"at {driver.current_url} (title {driver.title!r}, h1 {heading!r}, errors {errors!r})"


def wait_for(driver, selector, timeout=WAIT):
    try:
        return WebDriverWait(driver, timeout).until(
            expected_conditions.presence_of_element_located((By.CSS_SELECTOR, selector)))
    except TimeoutException:
        raise AssertionError(f"no {selector} {describe(driver)}") from None


def path_of(driver):
    """The page's path, lower-cased (ids in paths are UUIDs, whatever their case)."""
    return urlparse(driver.current_url).path.lower()


def fill(form, name, value):
    element = form.find_element(By.NAME, name)
    element.clear()
    element.send_keys(value)


def submit(form, previous=None):
    """Clicks the form's submit button and waits for the next page."""
    buttons = form.find_elements(By.CSS_SELECTOR, "button[type=submit], button:not([type]), input[type=submit]")
    if buttons:
        buttons[0].click()
    else:
        form.submit()
    _wait_gone(form)


def submit_choice(form, name, value):
    """Submits `name=value` the way the form offers it: a button carrying it, a select or a radio."""
    driver = form.parent
    for selector in (f'button[name="{name}"][value="{value}"]', f'input[type=submit][name="{name}"][value="{value}"]'):
        buttons = form.find_elements(By.CSS_SELECTOR, selector)
        if buttons:
            buttons[0].click()
            _wait_gone(form)
            return
    selects = form.find_elements(By.CSS_SELECTOR, f'select[name="{name}"]')
    radios = form.find_elements(By.CSS_SELECTOR, f'input[type=radio][name="{name}"][value="{value}"]')
    if selects:
        Select(selects[0]).select_by_value(value)
    elif radios:
        radios[0].click()
    else:
        raise AssertionError(f"the form #{form.get_attribute('id')} offers no {name}={value} {describe(driver)}")
    submit(form)


def _left_the_page(element):
    """True once `element` is no longer in the page shown. While Chromium swaps documents,
    chromedriver may answer "does not belong to the document" instead of a stale reference."""
    def check(_):
        try:
            element.is_enabled()
            return False
        except StaleElementReferenceException:
            return True
        except WebDriverException as error:
            if "does not belong to the document" in str(error):
                return True
            raise
    return check


def _wait_gone(element):
    try:
        WebDriverWait(element.parent, WAIT).until(_left_the_page(element))
    except TimeoutException:
        raise AssertionError(f"the form did not lead to another page {describe(element.parent)}") from None
    wait_for(element.parent, "body")


def log_in(driver, base, user, code=None):
    """Logs in through #login-form and waits for the page it leads to (the worklist). `code` goes
    in the code field in place of the authenticator's (a recovery code)."""
    driver.get(base + "/login")
    form = wait_for(driver, "#login-form")
    fill(form, "username", user.username)
    fill(form, "password", user.password)
    if code or user.totp_secret:
        fill(form, "totp", code or user.code())
    submit(form)
    assert not driver.find_elements(By.CSS_SELECTOR, "#login-form"), f"login of {user.username} refused {describe(driver)}"
    assert path_of(driver) != "/password", f"{user.username} was sent to change the password {describe(driver)}"


def click_link_to(driver, container, path):
    """Clicks the link inside `container` (a CSS selector) that leads to `path` (ids in any case)."""
    box = wait_for(driver, container)
    for link in box.find_elements(By.CSS_SELECTOR, "a[href]"):
        if urlparse(link.get_attribute("href")).path.lower() == path.lower():
            link.click()
            return
    raise AssertionError(f"no link to {path} in {container} {describe(driver)}:\n{box.text}")


def nav_to(driver, path):
    """Follows the navigation's link to `path`."""
    for link in driver.find_elements(By.CSS_SELECTOR, "nav a[href]"):
        if urlparse(link.get_attribute("href")).path.lower() == path.lower():
            link.click()
            return
    raise AssertionError(f"the navigation has no link to {path} {describe(driver)}")


def links_in(driver, container):
    box = wait_for(driver, container)
    return [urlparse(link.get_attribute("href")).path.lower() for link in box.find_elements(By.CSS_SELECTOR, "a[href]")]


def html_lang(driver):
    return (driver.find_element(By.TAG_NAME, "html").get_attribute("lang") or "").lower()


def text_of(driver, selector):
    try:
        return driver.find_element(By.CSS_SELECTOR, selector).text
    except NoSuchElementException:
        raise AssertionError(f"no {selector} {describe(driver)}") from None


def check_axe(driver, name):
    """Runs axe-core on the page and asserts it found nothing; the message lists every finding."""
    from axe_selenium_python import Axe

    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    engine = str(driver.execute_script("return axe.version"))
    violations = [v for v in (_without_known_false_positives(v, engine) for v in results.get("violations", [])) if v]
    assert not violations, f"axe-core {engine} on {name} ({driver.current_url}):\n" + format_violations(violations)


def _without_known_false_positives(violation, engine):
    """The axe-core that axe-selenium-python 2.1.6 bundles (3.1.1, 2018) predates the HTML
    autofill token `one-time-code`, the right one for a TOTP field; axe-core 4 knows it. Only
    those nodes are dropped, only under axe-core 3."""
    if violation["id"] != "autocomplete-valid" or not engine.startswith("3."):
        return violation
    nodes = [n for n in violation.get("nodes", []) if not re.search(r"""autocomplete=["']one-time-code["']""", n.get("html", ""))]
    return {**violation, "nodes": nodes} if nodes else None


def format_violations(violations):
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} <{violation.get('helpUrl', '')}>")
        for node in violation.get("nodes", [])[:10]:
            target = " ".join(map(str, node.get("target", [])))
            summary = " ".join((node.get("failureSummary") or "").split())
            lines.append(f"    {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
        if len(violation.get("nodes", [])) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def screenshot(driver, name):
    """docs/console/<name>-1280.png at 1280x900 and <name>-360.png at 360x800; the window is left at 1280x900."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width, height in ((1280, 900), (360, 800)):
        driver.set_window_size(width, height)
        driver.save_screenshot(str(SCREENSHOTS / f"{name}-{width}.png"))
    driver.set_window_size(1280, 900)
