"""The issue's main journey in a real browser: a secretary signs up and registers an association, the Cell
verifies it from its dashboard, it is in the directory and on the map; a person asks for help near it, the
association's dashboard shows the request, it takes the case, the person's case page says so and the
association sees how to reach them."""

import uuid

from selenium.webdriver.common.by import By

from gateway.auth import SESSION_COOKIE
from tests.browser.conftest import token_of
from tests.e2e.conftest import Person
from tests.e2e.test_messaging_api import eventually


def session_of(pages) -> str:
    return pages.driver.get_cookie(SESSION_COOKIE)["value"]


def test_registered_verified_found_then_a_request_for_help_is_claimed(pages, system, cell_staff):
    pages.start_over()
    pages.driver.set_window_size(390, 844)
    pages.visit("/signup")
    pages.fill({
        "display_name": "Zothanpuii",
        "email": f"secretary-{uuid.uuid4().hex[:8]}@example.org",
        "password": "correct horse battery staple 9",
    })  # fmt: skip
    pages.submit("main form button")
    secretary = session_of(pages)
    pages.visit("/associations/new")
    name = f"Lion City Mizo Fellowship {uuid.uuid4().hex[:4]}"
    pages.fill({"name": name, "city": "Singapore", "email": "lioncity@example.org"})
    pages.driver.find_element(By.CSS_SELECTOR, "#country option[value='SG']").click()
    pages.driver.find_element(By.CSS_SELECTOR, "input[name='languages'][value='lus']").click()
    pages.submit("main form button")
    association_id = pages.driver.current_url.split("/associations/")[1].split("?")[0]

    pages.start_over(token=token_of(cell_staff))
    pages.driver.set_window_size(1280, 900)
    pages.visit("/cell")
    pages.screenshot("journey-cell-queue")
    pages.submit(f"#verify-{association_id}")
    assert pages.driver.find_element(By.CSS_SELECTOR, ".notice.done").is_displayed()

    def in_the_directory_with_its_marker():
        pages.visit(f"/directory?q={name.split()[-1]}&country=SG")
        listed = pages.driver.find_elements(By.CSS_SELECTOR, f".results a[href='/associations/{association_id}']")
        marker = pages.driver.find_elements(By.CSS_SELECTOR, f"svg.map a[href='/associations/{association_id}']")
        return bool(listed) and bool(marker)

    assert eventually(in_the_directory_with_its_marker), "the verified association is not in the directory and map"

    requester = Person(system.url, f"in-trouble-{uuid.uuid4().hex[:8]}@example.org")
    pages.start_over(token=token_of(requester))
    pages.driver.set_window_size(390, 844)
    pages.visit("/help")
    pages.driver.find_element(By.CSS_SELECTOR, "input[name='category'][value='accident']").click()
    pages.fill({"description": "A road accident near the MRT station; my friend is hurt.", "city": "Singapore"})
    pages.driver.find_element(By.CSS_SELECTOR, "#country option[value='SG']").click()
    pages.submit("form.help button.urgent")
    case_path = pages.driver.current_url.split(pages.base_url)[1].split("?")[0]
    assert pages.driver.find_element(By.ID, "case-status").get_attribute("data-status") == "open"
    pages.screenshot("journey-help-sent")

    pages.start_over(token=secretary)
    pages.driver.set_window_size(1280, 900)

    def on_the_dashboard():
        pages.visit(f"/associations/{association_id}/dashboard")
        return pages.driver.find_elements(By.CSS_SELECTOR, f"#help-requests a[href='{case_path}']")

    assert eventually(on_the_dashboard), "the request for help never reached the association's dashboard"
    pages.screenshot("journey-association-dashboard")
    pages.submit(f"#help-requests a[href='{case_path}']")
    assert pages.driver.find_elements(By.ID, "contact") == []
    pages.submit("#step-claim")
    assert pages.driver.find_element(By.ID, "case-status").get_attribute("data-status") == "claimed"
    assert requester.email in pages.driver.find_element(By.ID, "contact").text
    pages.screenshot("journey-claimed-with-contact")

    pages.start_over(token=token_of(requester))
    pages.visit(case_path)
    status = pages.driver.find_element(By.ID, "case-status")
    assert status.get_attribute("data-status") == "claimed" and status.text == "Claimed: someone is taking care of it"
