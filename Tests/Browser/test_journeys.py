"""The brief's three journeys (/work/shared/console.md), walked end to end through the console's
forms in headless Chromium: the caseworker's intake to referral (in English, in Romanian, and with
JavaScript off), the partner working that referral to completion, and the supervisor's oversight
(closure, history, audit trail, report). Only the world fixture's organisations and users come from
the API; every case, need, consent and referral here is typed into the console. Synthetic data only."""
import datetime
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import (
    SESSION_COOKIE, UUID, Api, User, check_axe, click_link_to, console_session, cookie_session, describe, fill, html_lang, log_in,
    path_of, screenshot, submit, text_of, wait_for,
)
from journeys import (
    Person, add_need, case_id_of, case_with_referral, choose, field_error, fill_intake, fill_referral, land_on_case,
    open_intake, open_referral_form, record_consent, referral_id_of, register_case, scripts_run, value_of, words,
)

SAFE_ACCOMMODATION = "service_type.safe_accommodation"


# --- 1 and 4: intake to referral (caseworker) ------------------------------------------------

@pytest.mark.parametrize("language,javascript", [("en", True), ("ro", True), ("en", False)],
                         ids=["english", "romanian", "english-without-javascript"])
def test_caseworker_takes_a_person_from_intake_to_referral(world, browser, language, javascript):
    driver = browser(language, javascript=javascript)
    assert scripts_run(driver) == javascript, "the browser does not run scripts as asked"
    shelter = world.shelter["name"]
    person = Person()
    log_in(driver, world.base, world.users["cw"])
    wait_for(driver, "#my-cases")
    assert html_lang(driver).startswith(language), describe(driver)

    # The intake, first with a year of birth that is not one: refused next to the field, the rest kept.
    open_intake(driver)
    submit(fill_intake(driver, person, birth_year="19x9"))
    assert field_error(driver, "person_birth_year") == words(language, "error.person.birth_year")
    wait_for(driver, "#form-errors")
    assert value_of(driver, "person_identity_given_name") == person.given_name, describe(driver)
    assert value_of(driver, "person_identity_family_name") == person.family_name, describe(driver)
    assert value_of(driver, "person_birth_year") == "19x9", describe(driver)

    form = wait_for(driver, "#intake-form")
    fill(form, "person.birth_year", person.birth_year)
    submit(form)
    case_id = land_on_case(driver)
    summary = text_of(driver, "#summary")
    assert person.family_name in summary and person.birth_year in summary, summary

    add_need(driver, case_id)
    assert words(language, SAFE_ACCOMMODATION) in text_of(driver, "#needs")
    record_consent(driver, case_id, shelter)
    assert shelter in text_of(driver, "#consents")

    # Refer: only organisations whose mandate covers the need; identity is not consented, so refused.
    open_referral_form(driver, case_id, words(language, SAFE_ACCOMMODATION))
    offered = text_of(driver, "#to_organisation")
    assert shelter in offered and world.ngo["name"] not in offered, f"organisations offered: {offered!r}"
    note = "Synthetic note: arrives by the evening bus."
    submit(fill_referral(driver, shelter, {"profile", "needs", "identity"}, note=note))
    refused = field_error(driver, "shared_categories")
    assert words(language, "category.identity") in refused, refused
    assert value_of(driver, "note") == note, describe(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "#referral-summary"), "a referral sharing identity was sent"

    submit(fill_referral(driver, shelter, {"profile", "needs"}))
    wait_for(driver, "#referral-summary")
    referral_id_of(driver)
    sent = text_of(driver, "#referral-summary")
    assert shelter in sent and words(language, "referral_status.requested") in sent, sent
    assert words(language, "category.profile") in sent and words(language, "category.identity") not in sent, sent


def test_refused_intake_keeps_everything_typed(world, driver):
    """docs/console.md: a refused form comes back with what was typed, every field of it."""
    person = Person()
    log_in(driver, world.base, world.users["cw"])
    open_intake(driver)
    submit(fill_intake(driver, person, birth_year="19x9"))
    field_error(driver, "person_birth_year")
    kept = {name: value_of(driver, element_id) for name, element_id in [
        ("citizenship", "person_citizenship"), ("languages", "person_languages"), ("phone", "person_identity_contact_phone"),
        ("sex", "person_sex"), ("identified_by", "identified_by"), ("months_exploited", "trafficking_months_exploited")]}
    typed = {name: getattr(person, name) for name in kept}
    assert kept == typed, f"the refused intake lost what was typed: {kept} instead of {typed}"
    ticked = [kind for kind in person.exploitation if driver.find_element(By.ID, f"exploitation-{kind}").is_selected()]
    assert ticked == list(person.exploitation), f"the refused intake unticked forms of exploitation: {ticked}"


# --- 2: working a referral (partner) ----------------------------------------------------------

def _move(driver, to=None, **fields):
    """Sends #transition-form: `to` by value, or its first option (keep the status) when None."""
    form = wait_for(driver, "#transition-form")
    target = Select(form.find_element(By.NAME, "to"))
    if to is None:
        target.select_by_index(0)
    else:
        target.select_by_value(to)
    for name, value in fields.items():
        fill(form, name, value)
    submit(form)
    return text_of(driver, "#referral-status")


def test_partner_works_the_referral_to_completion(world, browser):
    person, _, referral_id = case_with_referral(browser(), world.base, world.users["cw"], world.shelter["name"], log_in)
    driver = browser()
    log_in(driver, world.base, world.users["partner"])
    click_link_to(driver, "#awaiting-answer", f"/referrals/{referral_id}")

    shared = wait_for(driver, "#shared-case").text
    page = driver.page_source
    assert person.family_name not in page and person.phone not in page, "the partner sees the name or phone the consent does not cover"
    assert words("en", SAFE_ACCOMMODATION) in shared and person.birth_year in shared, f"the consented part is missing:\n{shared}"

    assert _move(driver, "accepted") == words("en", "referral_status.accepted"), describe(driver)
    keep = Select(wait_for(driver, "#transition-form").find_element(By.NAME, "to")).options[0]
    assert keep.get_attribute("value") == "accepted", f"the first option of `to` is {keep.get_attribute('value')!r}, not the status"
    assert _move(driver, None, business_status="appointment-scheduled") == words("en", "referral_status.accepted"), describe(driver)
    assert "appointment-scheduled" in text_of(driver, "#referral-summary")
    assert _move(driver, "in-progress") == words("en", "referral_status.in-progress"), describe(driver)

    assert _move(driver, "completed") == words("en", "referral_status.in-progress"), "completed without an outcome"
    assert field_error(driver, "outcome") == words("en", "error.outcome")
    outcome = "Synthetic outcome: a room in the shelter for three months."
    assert _move(driver, "completed", outcome=outcome) == words("en", "referral_status.completed"), describe(driver)
    assert outcome in text_of(driver, "#referral-summary")


def _notification_to(driver, base, path, seconds=30):
    """The partner's notifications page once the delivery worker (every second) has put a
    notification linking to `path` there: reloaded until it shows, as a person would."""
    import time
    deadline = time.time() + seconds
    while True:
        driver.get(base + "/notifications")
        wait_for(driver, "#notification-list")
        for link in driver.find_elements(By.CSS_SELECTOR, "#notification-list a[href]"):
            if urlparse(link.get_attribute("href")).path == path:
                return link
        if time.time() > deadline:
            raise AssertionError(f"no notification links to {path} after {seconds} s {describe(driver)}")
        time.sleep(1)


def test_partner_is_told_of_a_new_referral_and_marks_it_read(world, browser):
    _, _, referral_id = case_with_referral(browser(), world.base, world.users["cw"], world.shelter["name"], log_in)
    driver = browser()
    log_in(driver, world.base, world.users["partner"])
    path = f"/referrals/{referral_id}"
    link = _notification_to(driver, world.base, path)
    item = link.find_element(By.XPATH, "./ancestor::li[1]")
    assert "unread" in item.get_attribute("class").split(), f"a new notification is not shown as unread {describe(driver)}"
    assert words("en", "notifications.kind_referral_arrived") in link.text, link.text
    assert "unread" in (wait_for(driver, "#notifications-link").get_attribute("class") or ""), "the header does not say there is news"
    screenshot(driver, "notifications")
    check_axe(driver, "notifications")

    item_id = item.get_attribute("id")
    submit(item.find_element(By.CSS_SELECTOR, "form"))
    read = wait_for(driver, f"#{item_id}")
    assert "unread" not in read.get_attribute("class").split(), f"marked read, still unread {describe(driver)}"
    click_link_to(driver, "#notification-list", path)
    wait_for(driver, "#referral-summary")


def test_a_user_chooses_email_notifications_and_a_bad_address_is_named(world, browser):
    driver = browser()
    log_in(driver, world.base, world.users["cw"])
    driver.get(world.base + "/notifications/email")
    form = wait_for(driver, "#notification-email-form")
    check_axe(driver, "email notifications")
    fill(form, "address", "caseworker@localhost")
    driver.find_element(By.CSS_SELECTOR, '#kinds input[value="referral.accepted"]').click()
    submit(form)
    assert field_error(driver, "address"), describe(driver)
    assert value_of(driver, "address") == "caseworker@localhost", "the address typed is not kept"
    assert driver.find_element(By.CSS_SELECTOR, '#kinds input[value="referral.accepted"]').is_selected(), "the kind ticked is not kept"
    check_axe(driver, "email notifications, refused")
    form = wait_for(driver, "#notification-email-form")
    fill(form, "address", "caseworker@example.org")
    submit(form)
    wait_for(driver, "#notification-email-saved")
    assert value_of(driver, "address") == "caseworker@example.org"


# --- 3: oversight (supervisor) ----------------------------------------------------------------

def _link_with_query(driver, container, path, **query):
    box = wait_for(driver, container)
    for link in box.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = urlparse(link.get_attribute("href"))
        asked = {k: v[0].lower() for k, v in parse_qs(href.query).items()}
        if href.path.lower() == path and all(asked.get(k) == v.lower() for k, v in query.items()):
            return link
    raise AssertionError(f"no link to {path}?{query} in {container} {describe(driver)}")


def check_report(driver):
    """#report-chart is server-drawn SVG; every bar stands for a count the table shows, and where the
    table hides small cells as "<11" (figures that leave the organisation) no bar is under 11. An
    organisation's own supervisor reads its operational report exactly, small counts included."""
    chart = wait_for(driver, "#report-chart")
    svg = chart if chart.tag_name.lower() == "svg" else chart.find_element(By.CSS_SELECTOR, "svg")
    assert "img" in (chart.get_attribute("role"), svg.get_attribute("role")), "#report-chart is not role=img"
    rows = []
    for row in wait_for(driver, "#report-table").find_elements(By.CSS_SELECTOR, "tr"):
        cells = [cell.text.strip() for cell in row.find_elements(By.CSS_SELECTOR, "th, td")]
        if cells and any(c == "<11" or c.isdigit() for c in cells[1:]):
            rows.append(cells)
    assert rows, f"#report-table shows no counts {describe(driver)}"
    small = {cells[0] for cells in rows if "<11" in cells[1:]}
    shown = [int(c) for cells in rows for c in cells[1:] if c.isdigit()]
    for bar in svg.find_elements(By.CSS_SELECTOR, "[data-count]"):
        count = (bar.get_attribute("data-count") or "").strip()
        assert count.isdigit() and int(count) in shown and (int(count) >= 11 or not small), \
            f"a bar drawn for data-count={count!r}; the table shows {rows}"
        label = " ".join(filter(None, [bar.get_attribute("aria-label"), bar.text] +
                                [t.get_attribute("textContent") for t in bar.find_elements(By.CSS_SELECTOR, "title")]))
        assert not any(name and name in label for name in small), f"a bar {label!r} for a row shown as <11"
    return rows


def test_supervisor_approves_closure_and_reads_trail_and_report(world, browser):
    caseworker, supervisor = world.users["cw"], world.users["sup"]
    asking = browser()
    log_in(asking, world.base, caseworker)
    open_intake(asking)
    case_id = register_case(asking, Person())
    form = wait_for(asking, "#closure-form")
    choose(form, "reason", "services-completed")
    submit(form)
    assert words("en", "case.closure_requested") in text_of(asking, "#summary"), describe(asking)

    assert supervisor.totp_secret, "the supervisor should log in with a TOTP code"
    driver = browser()
    log_in(driver, world.base, supervisor)  # username, password and the code from the authenticator
    click_link_to(driver, "#closures", f"/cases/{case_id}")
    submit(wait_for(driver, "#approve-form"))
    # The closure page: nothing is open on this case, so approving needs no choice.
    assert words("en", "closure.nothing_open") in text_of(driver, "#closure-items"), describe(driver)
    submit(wait_for(driver, "#closure-decisions"))
    assert case_id_of(driver) == case_id
    assert words("en", "case_status.closed") in text_of(driver, "#summary"), describe(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "#approve-form, #closure-form"), "a closed case still offers closure"
    history = text_of(driver, "#history")
    assert caseworker.display_name in history and supervisor.display_name in history, f"the history does not name who:\n{history}"
    assert words("en", "event.case.close") in history, history
    assert not UUID.findall(history), f"the history shows ids:\n{history}"

    _link_with_query(driver, "main", "/audit", case_id=case_id).click()
    trail = wait_for(driver, "#audit-list").text
    for subtype in ("case.create", "case.close-request", "case.close"):
        assert words("en", f"event.{subtype}") in trail or subtype in trail, f"the trail lacks {subtype}:\n{trail}"
    assert caseworker.display_name in trail and supervisor.display_name in trail, f"the trail does not name who:\n{trail}"
    assert not UUID.findall(trail), f"the trail shows ids:\n{trail}"

    year = datetime.date.today().year
    driver.get(f"{world.base}/reports?kind=cases&period={year}")
    rows = check_report(driver)
    csv_link = wait_for(driver, "#report-csv").get_attribute("href")
    export = cookie_session(driver).get(urljoin(driver.current_url, csv_link), allow_redirects=False)
    assert export.status_code == 200, f"{csv_link} answered {export.status_code}"
    assert export.headers.get("Content-Type", "").startswith("text/csv"), export.headers.get("Content-Type")
    if any("<11" in cells for cells in rows):
        assert "<11" in export.text, f"the CSV shows small cells otherwise than the table:\n{export.text}"


# --- 5: accessibility of the new pages, with screenshots --------------------------------------

@pytest.fixture(scope="module")
def supervisor_cookie(world):
    """One console login of the supervisor (TOTP) for the pages below; each test's browser carries it."""
    session, _ = console_session(world.base, world.users["sup"])
    return session.cookies.get(SESSION_COOKIE)


NEW_PAGES = [
    # name, who, path, what shows the page is there, screenshot
    ("intake", "cw", "/cases/new", "#intake-form", True),
    ("need", "cw", "/cases/{case}/needs/new", "#need-form", False),
    ("consent", "cw", "/cases/{case}/consents/new", "#consent-form", False),
    ("referral-form", "cw", "/cases/{case}/referrals/new?need={need}", "#referral-form", True),
    ("audit", "sup", "/audit?case_id={case}", "#audit-list", True),
    ("reports", "sup", "/reports?kind=cases&period={year}", "#report-table", True),
    ("reports-turnaround", "sup", "/reports?kind=turnaround&period={year}", "#turnaround-table", False),
]


@pytest.mark.parametrize("name,who,path,marker,shot", NEW_PAGES, ids=[p[0] for p in NEW_PAGES])
def test_new_page_has_no_axe_violations(world, driver, request, name, who, path, marker, shot):
    if who == "sup":
        driver.get(world.base + "/login")
        driver.add_cookie({"name": SESSION_COOKIE, "value": request.getfixturevalue("supervisor_cookie"), "path": "/"})
    else:
        log_in(driver, world.base, world.users[who])
    driver.get(world.base + path.format(case=world.case_id, need=world.need_id, year=datetime.date.today().year))
    wait_for(driver, marker)
    if shot:
        screenshot(driver, name)
    check_axe(driver, name)
    driver.set_window_size(360, 800)
    check_axe(driver, f"{name} at 360 px")


def test_refused_intake_has_no_axe_violations(world, driver):
    log_in(driver, world.base, world.users["cw"])
    open_intake(driver)
    submit(fill_intake(driver, Person(), birth_year="19x9"))
    field_error(driver, "person_birth_year")
    check_axe(driver, "the refused intake form")
    driver.set_window_size(360, 800)
    check_axe(driver, "the refused intake form at 360 px")


def test_refused_referral_has_no_axe_violations(world, driver):
    log_in(driver, world.base, world.users["cw"])
    driver.get(f"{world.base}/cases/{world.case_id}")
    open_referral_form(driver, world.case_id, words("en", SAFE_ACCOMMODATION))
    submit(fill_referral(driver, world.shelter["name"], {"identity"}))
    field_error(driver, "shared_categories")
    check_axe(driver, "the refused referral form")


# --- 6: the first login of a role that needs a second factor ------------------------------------

def test_auditor_enrols_an_authenticator_at_first_login(world, browser):
    """The administrator hands over a first password only; at the first login the auditor chooses
    a password, reads the new secret as text, confirms it with a code and gets recovery codes."""
    api = Api(world.base)
    admin_token = api.login(world.admin)
    first = "synthetic first passphrase of an auditor 9"
    _, created = api.call("POST", "/v1/users", admin_token, {
        "organisation_id": world.ngo["id"], "role": "auditor", "username": "auditor.one",
        "display_name": "Synthetic Auditor One", "password": first}, expect=201)
    assert "otpauth" not in str(created) and not created["user"]["has_second_factor"], created
    auditor = User("auditor.one", first, "Synthetic Auditor One", "auditor", world.ngo["name"])

    driver = browser()
    driver.get(world.base + "/login")
    form = wait_for(driver, "#login-form")
    fill(form, "username", auditor.username)
    fill(form, "password", auditor.password)
    submit(form)
    form = wait_for(driver, "#password-form")
    auditor.password = "synthetic passphrase of an auditor 10 changed"
    fill(form, "current_password", first)
    fill(form, "new_password", auditor.password)
    submit(form)

    form = wait_for(driver, "#second-factor-form")
    assert path_of(driver) == "/second-factor", describe(driver)
    assert not driver.find_elements(By.CSS_SELECTOR, "nav a[href='/audit']"), "navigation before the second factor is enrolled"
    assert not driver.find_elements(By.CSS_SELECTOR, "img"), "the secret is drawn from nowhere else"
    auditor.totp_secret = text_of(driver, "#totp-secret").replace(" ", "")
    assert f"secret={auditor.totp_secret}" in text_of(driver, "#totp-uri")
    check_axe(driver, "the second-factor enrolment")
    fill(form, "code", auditor.code())
    submit(form)
    codes = [item.text.strip() for item in wait_for(driver, "#recovery-codes").find_elements(By.CSS_SELECTOR, "li")]
    assert len(codes) == 10 and len(set(codes)) == 10, codes
    check_axe(driver, "the recovery codes")
    driver.get(world.base + "/audit")
    wait_for(driver, "#audit-list")

    # A lost phone: a recovery code in the code field logs in, once.
    again = browser()
    log_in(again, world.base, auditor, code=codes[0])
    again.get(world.base + "/audit")
    wait_for(again, "#audit-list")
