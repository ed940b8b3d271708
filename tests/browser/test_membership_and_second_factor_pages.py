"""Asking to join an association and answering on its page, and a Cell account setting up its second factor, in a
real browser; every page checked by axe-core and photographed."""

import subprocess
import sys
import uuid

import pyotp
from selenium.webdriver.common.by import By

from tests.browser.conftest import token_of
from tests.browser.test_every_page import check_and_photograph
from tests.e2e.conftest import Person

PROFILE_IN_CHENNAI = {"name": "Lalnunmawii", "country": "IN", "city": "Chennai", "languages": ["lus"]}


def test_a_person_asks_to_join_and_the_secretary_accepts_on_the_requests_page(pages, verified_association, system):
    secretary, association = verified_association
    person = Person(system.url, f"joiner-{uuid.uuid4().hex[:8]}@example.org")
    assert person.request("POST", "/api/v1/individuals", json=PROFILE_IN_CHENNAI).status_code == 201
    pages.start_over(token=token_of(person))
    pages.visit(f"/associations/{association['id']}")
    pages.submit("#ask-to-join")
    assert "done=asked" in pages.driver.current_url and pages.driver.find_elements(By.ID, "ask-to-join") == []
    assert check_and_photograph(pages, "profile-requests", "/profile", token=token_of(person)) == {}
    pages.start_over(token=token_of(person))
    pages.visit("/profile")
    assert (
        association["name"] in pages.driver.find_element(By.CSS_SELECTOR, "[aria-labelledby='requests-heading']").text
    )

    pages.start_over(token=token_of(secretary))
    pages.visit(f"/associations/{association['id']}/dashboard")
    assert "Lalnunmawii" in pages.driver.find_element(By.CSS_SELECTOR, "[aria-labelledby='joining-heading']").text
    path = f"/associations/{association['id']}/memberships"
    assert check_and_photograph(pages, "membership-requests", path, token=token_of(secretary)) == {}
    pages.start_over(token=token_of(secretary))
    pages.visit(path)
    accept = next(
        button
        for button in pages.driver.find_elements(By.CSS_SELECTOR, "button[id^='accept-']")
        if "Lalnunmawii" in button.find_element(By.XPATH, "ancestor::li").text
    )
    pages.submit(f"#{accept.get_attribute('id')}")
    assert "done=accepted" in pages.driver.current_url

    pages.start_over(token=token_of(person))
    pages.visit(f"/associations/{association['id']}")
    assert pages.driver.find_element(By.ID, "join").text.endswith("You are a member of this association.")


def cell_account_without_second_factor(system) -> tuple[str, str]:
    email, password = f"cell-{uuid.uuid4().hex[:8]}@mizoram.gov.in", "a long Cell staff password"
    command = [sys.executable, "-m", "diasporahub.cli", "admin", "create", "--email", email]
    created = subprocess.run(command, input=f"{password}\n", text=True, capture_output=True, env=system.env)
    assert created.returncode == 0, created.stderr
    return email, password


def test_a_cell_account_sets_up_its_second_factor_after_its_first_login(pages, system):
    email, password = cell_account_without_second_factor(system)
    pages.start_over()
    pages.visit("/login?next=/cell")
    pages.fill({"email": email, "password": password})
    pages.submit("main form button")
    assert pages.driver.current_url.endswith("/account/second-factor")
    pages.screenshot("second-factor-start-en-desktop")
    assert pages.serious_violations() == []

    pages.submit("#start-enrolment")
    authenticator = pyotp.TOTP(pages.driver.find_element(By.ID, "secret").text)
    assert pages.driver.find_element(By.ID, "otpauth-uri").text.startswith("otpauth://totp/")
    assert pages.driver.find_element(By.CSS_SELECTOR, "#qr-code svg").size["width"] > 100
    pages.screenshot("second-factor-key-en-desktop")
    assert pages.serious_violations() == []
    pages.fill({"code": authenticator.now()})
    pages.submit("#confirm-enrolment")

    codes = pages.driver.find_elements(By.CSS_SELECTOR, "#recovery-codes li")
    assert len(codes) == 10
    pages.screenshot("second-factor-codes-en-desktop")
    assert pages.serious_violations() == []
    pages.visit("/cell")
    assert pages.driver.current_url.endswith("/cell")
    pages.visit("/account/second-factor")
    assert pages.driver.find_elements(By.ID, "renew-recovery-codes") != []
    assert pages.serious_violations() == []
