"""The steps of the brief's journeys (/work/shared/console.md), taken through the console's forms in
Chromium as a user takes them: follow links, pick options by what they say, tick boxes, type, submit.
Element ids and field names are docs/console.md's; expected words come from the console's own
catalogues, so the same steps read in any language."""
import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlparse

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from harness import ROOT, UUID, click_link_to, describe, fill, nav_to, path_of, submit, wait_for

MESSAGES = ROOT / "Sources" / "HavenAPI" / "Resources" / "Console" / "messages"
_catalogues = {}


def words(language, key):
    """The console's text for `key` in `language` (its catalogue, read, never changed)."""
    if language not in _catalogues:
        _catalogues[language] = json.loads((MESSAGES / f"{language}.json").read_text(encoding="utf-8"))
    return _catalogues[language][key]


@dataclass
class Person:
    """A synthetic person: nobody real has this name or number."""
    given_name: str = "Synthetic"
    family_name: str = field(default_factory=lambda: f"Person-{secrets.token_hex(4)}")
    phone: str = field(default_factory=lambda: "+000 " + "".join(str(secrets.randbelow(10)) for _ in range(7)))
    birth_year: str = "1994"
    sex: str = "female"
    citizenship: str = "MD"
    languages: str = "ro, ru"
    identified_by: str = "ngo"
    exploitation: tuple = ("forced_labour", "sexual")
    months_exploited: str = "5"


def scripts_run(driver):
    """Whether this browser runs a page's scripts (a page of its own, not Haven's)."""
    driver.get("data:text/html,<title>off</title><script>document.title='on'</script>")
    return driver.title == "on"


# --- small acts -----------------------------------------------------------------------------

def tick(driver, element_id, on=True):
    box = driver.find_element(By.ID, element_id)
    if box.is_selected() != on:
        box.click()
    assert box.is_selected() == on, f"#{element_id} would not {'tick' if on else 'untick'} {describe(driver)}"


def choose(form, name, value=None, text=None):
    """Picks an option of the select `name` by its value or by the words it shows."""
    select = Select(form.find_element(By.NAME, name))
    if text is not None:
        select.select_by_visible_text(text)
    else:
        select.select_by_value(value)


def click_label(driver, container, text):
    """Clicks the radio or box in `container` whose label reads `text`; answers its input."""
    box = wait_for(driver, container)
    for label in box.find_elements(By.CSS_SELECTOR, "label"):
        if text in label.text:
            target = driver.find_element(By.ID, label.get_attribute("for"))
            label.click()
            return target
    raise AssertionError(f"{container} offers nothing labelled {text!r} {describe(driver)}:\n{box.text}")


def case_id_of(driver):
    path = path_of(driver)
    assert path.startswith("/cases/") and UUID.fullmatch(path.split("/")[2] or ""), f"not a case page {describe(driver)}"
    return path.split("/")[2]


def referral_id_of(driver):
    path = path_of(driver)
    assert path.startswith("/referrals/") and UUID.fullmatch(path.split("/")[2] or ""), f"not a referral page {describe(driver)}"
    return path.split("/")[2]


def value_of(driver, element_id):
    return driver.find_element(By.ID, element_id).get_attribute("value")


def field_error(driver, field_id):
    """The message next to a field: `#FIELD-error`, which the field (or its fieldset) points to."""
    message = wait_for(driver, f"#{field_id}-error")
    described = driver.find_element(By.ID, field_id).get_attribute("aria-describedby") or ""
    assert f"{field_id}-error" in described.split(), \
        f"#{field_id} does not point to its message (aria-describedby={described!r}) {describe(driver)}"
    assert message.is_displayed() and message.text.strip(), f"#{field_id}-error is empty or hidden {describe(driver)}"
    return message.text


# --- journey 1: intake to referral ------------------------------------------------------------

def open_intake(driver):
    """From anywhere: the navigation's Cases, then the "register a new case" link."""
    nav_to(driver, "/cases")
    wait_for(driver, "#case-filters")
    click_link_to(driver, "main", "/cases/new")
    return wait_for(driver, "#intake-form")


def fill_intake(driver, person, birth_year=None):
    form = wait_for(driver, "#intake-form")
    fill(form, "person.identity.given_name", person.given_name)
    fill(form, "person.identity.family_name", person.family_name)
    choose(form, "person.sex", person.sex)
    fill(form, "person.birth_year", birth_year or person.birth_year)
    fill(form, "person.citizenship", person.citizenship)
    fill(form, "person.languages", person.languages)
    fill(form, "person.identity.contact.phone", person.phone)
    choose(form, "case_type", "trafficking")
    choose(form, "identification_status", "presumed")
    choose(form, "identified_by", person.identified_by)
    choose(form, "risk_level", "high")
    for kind in person.exploitation:
        tick(driver, f"exploitation-{kind}")
    fill(form, "trafficking.months_exploited", person.months_exploited)
    return form


def register_case(driver, person):
    """Fills and sends the intake form; follows the duplicate hint when it shows. Answers the case id."""
    submit(fill_intake(driver, person))
    return land_on_case(driver)


def land_on_case(driver):
    """After a saved intake: the case page, or the "possible duplicate" page whose link leads there."""
    if not driver.find_elements(By.CSS_SELECTOR, "#summary"):
        links = [a for a in driver.find_elements(By.CSS_SELECTOR, "main a[href]")
                 if urlparse(a.get_attribute("href")).path.lower().startswith("/cases/")]
        assert links, f"the intake led neither to the case nor to the duplicate hint {describe(driver)}"
        links[-1].click()
    wait_for(driver, "#summary")
    return case_id_of(driver)


def add_need(driver, case_id, service="safe_accommodation", priority="emergency"):
    click_link_to(driver, "#summary", f"/cases/{case_id}/needs/new")
    form = wait_for(driver, "#need-form")
    choose(form, "service_type", service)
    choose(form, "domain", "personal")
    choose(form, "priority", priority)
    submit(form)
    wait_for(driver, "#needs")
    assert case_id_of(driver) == case_id.lower(), describe(driver)


def record_consent(driver, case_id, recipient, categories=("profile", "needs"), purpose="Safe accommodation (synthetic)"):
    click_link_to(driver, "#summary", f"/cases/{case_id}/consents/new")
    form = wait_for(driver, "#consent-form")
    choose(form, "grantor", "self")
    choose(form, "method", "written")
    choose(form, "recipient", text=recipient)
    for category in categories:
        tick(driver, f"category-{category}")
    fill(form, "purpose", purpose)
    tick(driver, "statistics")
    submit(form)
    wait_for(driver, "#consents")
    assert case_id_of(driver) == case_id.lower(), describe(driver)


def open_referral_form(driver, case_id, need_words):
    """The case page's "Refer", then the need whose label reads `need_words`."""
    click_link_to(driver, "#summary", f"/cases/{case_id}/referrals/new")
    main = wait_for(driver, "main")
    for link in main.find_elements(By.CSS_SELECTOR, "a[href]"):
        href = urlparse(link.get_attribute("href"))
        if href.path.lower() == f"/cases/{case_id}/referrals/new".lower() and parse_qs(href.query).get("need") and need_words in link.text:
            link.click()
            return wait_for(driver, "#referral-form")
    raise AssertionError(f"the referral page offers no need reading {need_words!r} {describe(driver)}:\n{main.text}")


def fill_referral(driver, recipient, categories, note=None):
    form = wait_for(driver, "#referral-form")
    organisation = click_label(driver, "#to_organisation", recipient)
    assert organisation.is_selected(), f"{recipient} could not be chosen {describe(driver)}"
    consent = click_label(driver, "#consent_id", recipient)
    assert consent.is_selected(), f"the consent for {recipient} could not be chosen {describe(driver)}"
    for box in form.find_elements(By.CSS_SELECTOR, "input[name=shared_categories]"):
        tick(driver, box.get_attribute("id"), box.get_attribute("value") in categories)
    if note is not None:
        fill(form, "note", note)
    tick(driver, "confirm")
    return form


def send_referral(driver, case_id, recipient, language="en", categories=("profile", "needs")):
    """From the case page: refer the safe-accommodation need to `recipient`. Answers the referral id."""
    open_referral_form(driver, case_id, words(language, "service_type.safe_accommodation"))
    submit(fill_referral(driver, recipient, categories))
    wait_for(driver, "#referral-summary")
    return referral_id_of(driver)


def case_with_referral(driver, base, caseworker, recipient, log_in):
    """Journey 1 without its checks: log in, register, need, consent, refer. Answers (person, case, referral)."""
    person = Person()
    log_in(driver, base, caseworker)
    open_intake(driver)
    case_id = register_case(driver, person)
    add_need(driver, case_id)
    record_consent(driver, case_id, recipient)
    return person, case_id, send_referral(driver, case_id, recipient)
