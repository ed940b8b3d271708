"""Real headless Chromium (Debian's chromium and chromedriver, which scripts/test-prerequisites installs) driving
the pages of the whole system, started as the end-to-end tests start it. One browser for the whole session.

Screenshots go to var/test-artefacts/screenshots/; axe-core (npm, installed by the install step) is injected
into each page to check it.
"""

import json
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.wait import WebDriverWait

from gateway.auth import SESSION_COOKIE
from gateway.pages.locales import LANGUAGE_COOKIE
from tests.e2e import conftest as e2e
from tests.e2e.conftest import Person
from tests.e2e.test_messaging_api import eventually

# The whole system and its people, as the end-to-end tests start them.
system, registry_database_url, api, person, cell_staff = (
    e2e.system,
    e2e.registry_database_url,
    e2e.api,
    e2e.person,
    e2e.cell_staff,
)

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "test-artefacts" / "screenshots"
AXE_SOURCE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
WIDTHS = {"phone": (390, 844), "desktop": (1280, 900)}
BLOCKING_IMPACTS = ("serious", "critical")


@pytest.fixture(scope="session")
def browser():
    profile = tempfile.mkdtemp(prefix="diasporahub-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Pages:
    """The browser on the system's pages: visit, sign in as someone, choose a language, check and photograph."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url
        self.axe = AXE_SOURCE.read_text()

    def visit(self, path: str) -> None:
        self.driver.get(f"{self.base_url}{path}")

    def start_over(self, *, language: str = "en", token: str | None = None) -> None:
        """No cookies but a language (and a session, when given)."""
        self.visit("/static/site/site.css")
        self.driver.delete_all_cookies()
        self.driver.add_cookie({"name": LANGUAGE_COOKIE, "value": language, "path": "/"})
        if token is not None:
            self.driver.add_cookie({"name": SESSION_COOKIE, "value": token, "path": "/", "httpOnly": True})

    def submit(self, selector: str) -> None:
        """Click a form's button and wait for the next page to replace this one."""
        self.driver.execute_script("window.pageBeforeSubmit = true")
        self.driver.find_element(By.CSS_SELECTOR, selector).click()
        # Chromium may answer anything while it swaps documents ("node does not belong to the document"): only a
        # new, loaded document without the mark ends the wait.
        WebDriverWait(self.driver, 15, ignored_exceptions=(WebDriverException,)).until(
            lambda driver: driver.execute_script(
                "return window.pageBeforeSubmit === undefined && document.readyState === 'complete'"
            )
        )

    def fill(self, fields: dict[str, str]) -> None:
        for name, value in fields.items():
            element = self.driver.find_element("name", name)
            element.clear()
            element.send_keys(value)

    def serious_violations(self) -> list[dict]:
        self.driver.execute_script(self.axe)
        found = self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations']}).then(r => done(JSON.stringify(r.violations)));"
        )
        return [
            {"id": v["id"], "impact": v["impact"], "nodes": [n["html"] for n in v["nodes"]][:3]}
            for v in json.loads(found)
            if v["impact"] in BLOCKING_IMPACTS
        ]

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        self.driver.save_screenshot(str(path))
        return path


@pytest.fixture(scope="package")
def pages(browser, system):
    return Pages(browser, system.url)


@pytest.fixture(scope="package")
def verified_association(system, cell_staff):
    """An association registered by a secretary through the API and verified by the Cell, found by search."""
    secretary = Person(system.url, f"secretary-{uuid.uuid4().hex[:8]}@example.org")
    association = secretary.register_association(
        name=f"Chennai Mizo Welfare {uuid.uuid4().hex[:4]}",
        country="IN",
        city="Chennai",
        office_bearers=[{"name": "Lalremruata", "title": "President"}],
        gathering_places=[{"address": "12 Church Street, Chennai", "schedule": "Sundays at 4"}],
        categories=["welfare", "church"],
    )
    verified = cell_staff.request(
        "POST", f"/api/v1/associations/{association['id']}/verification", json={"decision": "verify"}
    )
    assert verified.status_code == 200, verified.text
    found = eventually(lambda: searchable(system.url, association["id"], association["name"]))
    assert found, "the verified association never reached the search index"
    return secretary, association


def searchable(base_url: str, association_id: str, name: str) -> bool:
    answer = requests.get(f"{base_url}/api/v1/search/associations", params={"q": name}, timeout=10)
    return any(item["id"] == association_id for item in answer.json()["items"])


@pytest.fixture(scope="package")
def help_request(system, verified_association):
    """A person with an account asked for help in Chennai, where the verified association is."""
    requester = Person(system.url, f"requester-{uuid.uuid4().hex[:8]}@example.org")
    raised = requester.request("POST", "/api/v1/alerts", json=HELP_IN_CHENNAI)
    assert raised.status_code == 201, raised.text
    return requester, raised.json()


HELP_IN_CHENNAI = {
    "category": "medical",
    "urgency": "immediate",
    "description": "My cousin fell ill at the building site and was taken to the hospital.",
    "location": {"country": "IN", "city": "Chennai"},
    "languages": ["lus"],
}


def token_of(person: Person) -> str:
    return person.headers["Authorization"].removeprefix("Bearer ")
