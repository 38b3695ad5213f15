"""What users rely on in the console (docs/console.md), walked in headless Chromium and checked
with requests where the browser hides it (status codes, headers, cookies). Synthetic data only."""
import uuid
from urllib.parse import urljoin, urlparse

import pytest
import requests
from selenium.webdriver.common.by import By

from harness import (
    SESSION_COOKIE, UUID, Api, assets_of, check_axe, click_link_to, console_session, cookie_session, describe,
    has_id, html_lang, links_in, log_in, nav_to, path_of, read_form, screenshot, set_cookies, submit,
    submit_choice, text_of, wait_for,
)

FOREIGN_ORIGIN = "https://attacker.example"


# --- (a) languages --------------------------------------------------------------------------

def test_login_page_follows_accept_language(world, browser):
    english, romanian = browser("en"), browser("ro")
    english.get(world.base + "/login")
    romanian.get(world.base + "/login")
    english_form = wait_for(english, "#login-form").text
    romanian_form = wait_for(romanian, "#login-form").text
    assert html_lang(english).startswith("en")
    assert html_lang(romanian).startswith("ro")
    assert english_form != romanian_form, f"the login form reads the same in English and Romanian:\n{english_form}"


def test_language_switch_changes_the_page_language(world, driver):
    driver.get(world.base + "/login")
    english_form = wait_for(driver, "#login-form").text
    assert html_lang(driver).startswith("en")
    submit_choice(wait_for(driver, "#language-form"), "language", "ro")
    driver.get(world.base + "/login")  # the choice outlives the page it was made on
    assert html_lang(driver).startswith("ro"), describe(driver)
    assert wait_for(driver, "#login-form").text != english_form


# --- (b) the caseworker's journey -----------------------------------------------------------

def test_caseworker_finds_and_opens_the_case(world, driver):
    caseworker = world.users["cw"]
    log_in(driver, world.base, caseworker)
    wait_for(driver, "#awaiting-answer")
    wait_for(driver, "#my-cases")

    nav_to(driver, "/cases")
    assert world.case_reference in wait_for(driver, "#case-list").text
    click_link_to(driver, "#case-list", f"/cases/{world.case_id}")

    for section in ("#summary", "#needs", "#services", "#consents", "#referrals", "#history"):
        wait_for(driver, section)
    assert world.case_reference in text_of(driver, "h1"), "the case page's heading does not name the case"
    assert "accommodation" in text_of(driver, "#needs").lower()
    assert world.shelter["name"] in text_of(driver, "#consents")
    assert world.shelter["name"] in text_of(driver, "#referrals")
    history = text_of(driver, "#history")
    assert caseworker.display_name in history, f"the history does not name who did what:\n{history}"
    shown_ids = UUID.findall(text_of(driver, "main"))
    assert not shown_ids, f"the case page shows raw ids {shown_ids}"


# --- (c) the partner's journey --------------------------------------------------------------

def test_partner_accepts_the_referral(world, driver):
    partner = world.users["partner"]
    referral_path = f"/referrals/{world.referral_id}".lower()
    log_in(driver, world.base, partner)
    assert referral_path in links_in(driver, "#awaiting-answer"), f"the worklist does not list the referral {describe(driver)}"

    nav_to(driver, "/referrals")
    click_link_to(driver, "#referral-list", referral_path)
    shared = wait_for(driver, "#shared-case").text
    page = driver.page_source
    assert world.family_name not in page and world.phone not in page, "the referral shows identity or contact the consent does not cover"
    assert "accommodation" in shared.lower()

    submit_choice(wait_for(driver, "#transition-form"), "to", "accepted")
    if path_of(driver) != referral_path:
        driver.get(world.base + referral_path)
    status = text_of(driver, "main")
    for form in driver.find_elements(By.CSS_SELECTOR, "main form"):  # what the forms offer next is not the status
        status = status.replace(form.text, "")
    assert "accepted" in status.lower(), f"the referral's status is not shown in words {describe(driver)}:\n{status}"
    api = Api(world.base)
    _, referral = api.call("GET", f"/v1/referrals/{world.referral_id}", api.login(partner), expect=200)
    assert referral["status"] == "accepted"


# --- (d) a page outside the role ------------------------------------------------------------

def test_partner_gets_404_for_the_case(world, driver):
    log_in(driver, world.base, world.users["partner"])
    case_path = f"/cases/{world.case_id}"
    driver.get(world.base + case_path)
    wait_for(driver, "h1")
    assert world.case_reference not in driver.page_source

    session = cookie_session(driver)
    refused = session.get(world.base + case_path, allow_redirects=False)
    unknown = session.get(world.base + f"/cases/{uuid.uuid4()}", allow_redirects=False)
    assert refused.status_code == 404 and unknown.status_code == 404, (refused.status_code, unknown.status_code)
    for leaked in (world.case_reference, world.case_id, world.family_name):
        assert leaked.lower() not in refused.text.lower(), f"the 404 page shows {leaked}"
    assert "text/html" in refused.headers.get("Content-Type", "")

    caseworker, _ = console_session(world.base, world.users["cw"])
    assert caseworker.get(world.base + case_path, allow_redirects=False).status_code == 200


# --- (e) CSRF and Origin --------------------------------------------------------------------

def _logout_fields(base, session):
    page = session.get(base + "/worklist", allow_redirects=False)
    assert page.status_code == 200, f"GET /worklist answered {page.status_code}"
    form = read_form(page.text, "logout-form")
    return urljoin(base + "/worklist", form.action or "/logout"), dict(form.hidden)


def _still_logged_in(base, session):
    page = session.get(base + "/worklist", allow_redirects=False)
    return page.status_code == 200 and not has_id(page.text, "login-form")


def test_forms_without_csrf_or_from_elsewhere_are_refused(world):
    base = world.base
    session, _ = console_session(base, world.users["cw"])
    action, fields = _logout_fields(base, session)
    assert fields.get("csrf"), f"#logout-form carries no csrf field: {fields}"
    without_csrf = {k: v for k, v in fields.items() if k != "csrf"}
    attempts = [
        ("no csrf", without_csrf, {"Origin": base}),
        ("a wrong csrf", {**fields, "csrf": "0" * len(fields["csrf"])}, {"Origin": base}),
        ("a foreign Origin", fields, {"Origin": FOREIGN_ORIGIN}),
        ("Sec-Fetch-Site: cross-site", fields, {"Origin": "null", "Sec-Fetch-Site": "cross-site"}),
    ]
    for what, data, headers in attempts:
        refused = session.post(action, data=data, headers=headers, allow_redirects=False)
        assert refused.status_code == 403, f"a post with {what} answered {refused.status_code}"
        assert "text/html" in refused.headers.get("Content-Type", "") and "<h1" in refused.text, \
            f"the 403 for {what} is not a page that says what happened"
        assert _still_logged_in(base, session), f"a post with {what} logged the user out"

    # The same form with its token from the console's own origin goes through.
    accepted = session.post(action, data=fields, headers={"Origin": base}, allow_redirects=False)
    assert accepted.status_code == 303, f"the logout with its csrf answered {accepted.status_code}"


# --- (f) cookie flags -----------------------------------------------------------------------

def test_session_cookie_flags(world):
    _, response = console_session(world.base, world.users["cw"])
    cookies = [c for c in set_cookies(response) if c.startswith(SESSION_COOKIE + "=")]
    assert len(cookies) == 1, f"Set-Cookie of POST /login: {set_cookies(response)}"
    attributes = [part.strip().lower() for part in cookies[0].split(";")[1:]]
    assert "httponly" in attributes, cookies[0]
    assert "samesite=strict" in attributes, cookies[0]
    assert "path=/" in attributes, cookies[0]


# --- (g) security headers -------------------------------------------------------------------

def test_security_headers_on_pages(world):
    caseworker, _ = console_session(world.base, world.users["cw"])
    anonymous = requests.Session()
    pages = [
        (anonymous, "/login", 200),
        (caseworker, "/worklist", 200),
        (caseworker, "/cases", 200),
        (caseworker, f"/cases/{world.case_id}", 200),
        (caseworker, f"/cases/{uuid.uuid4()}", 404),
    ]
    for session, path, status in pages:
        response = session.get(world.base + path, allow_redirects=False)
        assert response.status_code == status, f"GET {path} answered {response.status_code}"
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        directives = [d.strip() for d in csp.split(";")]
        assert "default-src 'self'" in directives, f"{path}: Content-Security-Policy {csp!r}"
        assert "frame-ancestors 'none'" in directives, f"{path}: Content-Security-Policy {csp!r}"
        assert "unsafe-" not in csp, f"{path}: Content-Security-Policy {csp!r}"
        assert headers.get("X-Content-Type-Options", "").lower() == "nosniff", path
        assert headers.get("Referrer-Policy", "").lower() == "no-referrer", path
        assert headers.get("X-Frame-Options", "").upper() == "DENY", path
        assert "no-store" in headers.get("Cache-Control", ""), f"{path}: Cache-Control {headers.get('Cache-Control')!r}"


# --- (h) accessibility, with screenshots ----------------------------------------------------

PAGES = [
    # name, who logs in, path, what shows the page is there
    ("login", None, "/login", "#login-form"),
    ("worklist", "cw", "/worklist", "#my-cases"),
    ("case-list", "cw", "/cases", "#case-list"),
    ("case", "cw", "/cases/{case}", "#summary"),
    ("referral-list", "partner", "/referrals", "#referral-list"),
    ("referral", "partner", "/referrals/{referral}", "#shared-case"),
]


@pytest.mark.parametrize("name,who,path,marker", PAGES, ids=[p[0] for p in PAGES])
def test_page_has_no_axe_violations(world, driver, name, who, path, marker):
    if who:
        log_in(driver, world.base, world.users[who])
    driver.get(world.base + path.format(case=world.case_id, referral=world.referral_id))
    wait_for(driver, marker)
    screenshot(driver, name)
    check_axe(driver, name)
    driver.set_window_size(360, 800)
    check_axe(driver, f"{name} at 360 px")


# --- (i) without JavaScript -----------------------------------------------------------------

def test_caseworker_works_without_javascript(world, browser):
    driver = browser(javascript=False)
    log_in(driver, world.base, world.users["cw"])
    driver.get(world.base + "/cases")
    click_link_to(driver, "#case-list", f"/cases/{world.case_id}")
    wait_for(driver, "#summary")
    assert world.case_reference in text_of(driver, "h1"), describe(driver)


# --- (j) logout -----------------------------------------------------------------------------

def test_logout_ends_the_session(world, driver):
    log_in(driver, world.base, world.users["cw"])
    old = cookie_session(driver)
    assert _still_logged_in(world.base, old)

    submit(wait_for(driver, "#logout-form"))
    wait_for(driver, "#login-form")

    page = old.get(world.base + "/")
    assert has_id(page.text, "login-form"), f"the old cookie still gets {page.url}"
    assert not has_id(page.text, "awaiting-answer") and not has_id(page.text, "my-cases")
    assert urlparse(page.url).path == "/login"


# --- (k) page weight ------------------------------------------------------------------------

def test_every_page_transfers_under_100_kb(world):
    caseworker, _ = console_session(world.base, world.users["cw"])
    partner, _ = console_session(world.base, world.users["partner"])
    pages = [
        (requests.Session(), "/login"),
        (caseworker, "/worklist"),
        (caseworker, "/cases"),
        (caseworker, f"/cases/{world.case_id}"),
        (caseworker, "/referrals?direction=outgoing"),
        (partner, "/worklist"),
        (partner, "/referrals"),
        (partner, f"/referrals/{world.referral_id}"),
    ]
    for session, path in pages:
        page = session.get(world.base + path, allow_redirects=False)
        assert page.status_code == 200, f"GET {path} answered {page.status_code}"
        assets = {urljoin(page.url, url) for url in assets_of(page.text)} | {world.base + "/static/haven.css"}
        foreign = [url for url in assets if urlparse(url).netloc != urlparse(world.base).netloc]
        assert not foreign, f"{path} loads from elsewhere: {foreign}"
        total = len(page.content)
        for url in sorted(assets):
            asset = session.get(url)
            assert asset.status_code == 200, f"{path} refers to {url}, which answers {asset.status_code}"
            total += len(asset.content)
        assert total < 100 * 1024, f"{path} with its assets is {total} bytes"
