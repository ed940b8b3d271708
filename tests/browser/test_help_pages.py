"""Asking for help in a real browser without JavaScript's help and without an account, and the case page of
each reader, checked by axe-core in English and Mizo at both widths."""

import re
import uuid

import pytest
from selenium.webdriver.common.by import By

from tests.browser.conftest import token_of
from tests.browser.test_every_page import check_and_photograph
from tests.e2e.conftest import Person


def test_someone_without_an_account_asks_for_help_and_follows_the_request_with_its_key(pages):
    pages.start_over()
    pages.driver.set_window_size(390, 844)
    pages.visit("/help")
    pages.submit("form.help button.urgent")
    assert pages.driver.find_element(By.ID, "category-problem").is_displayed()

    pages.driver.find_element(By.CSS_SELECTOR, "input[name='category'][value='missing_person']").click()
    pages.fill({
        "description": "My brother has not come home from work for two days.",
        "city": "Chennai",
        "name": "Lalrinpuii",
        "phone": "+91 98765 43210",
    })  # fmt: skip
    pages.driver.find_element(By.CSS_SELECTOR, "#country option[value='IN']").click()
    pages.submit("form.help button.urgent")
    assert "?done=sent&key=" in pages.driver.current_url
    notice = pages.driver.find_element(By.CSS_SELECTOR, ".notice.done").text
    assert re.search(r"DH-\d{4}-\d+", notice)
    assert pages.driver.find_element(By.ID, "case-status").get_attribute("data-status") == "open"
    assert "+919876543210" in pages.driver.find_element(By.ID, "contact").text
    pages.screenshot("help-sent-en-phone")

    pages.start_over()
    pages.visit(pages.driver.current_url.split(pages.base_url)[1].replace("key=", "key=wrong"))
    assert pages.driver.find_elements(By.ID, "contact") == []


@pytest.mark.parametrize("reader", ["requester", "association", "cell"])
def test_the_case_page_is_accessible_to_each_reader(pages, help_request, verified_association, cell_staff, reader):
    requester, created = help_request
    secretary, _ = verified_association
    person = {"requester": requester, "association": secretary, "cell": cell_staff}[reader]
    found = check_and_photograph(pages, f"case-{reader}", f"/cases/{created['id']}", token=token_of(person))
    assert found == {}


def test_the_cell_dashboard_is_accessible(pages, verified_association, help_request, cell_staff):
    assert check_and_photograph(pages, "cell-dashboard", "/cell", token=token_of(cell_staff)) == {}


def test_a_conversation_started_from_the_profile_is_answered_by_the_association(pages, verified_association, system):
    secretary, association = verified_association
    writer = Person(system.url, f"writer-{uuid.uuid4().hex[:8]}@example.org")
    pages.start_over(token=token_of(writer))
    pages.visit(f"/associations/{association['id']}")
    pages.fill({"subject": "Sunday service", "body": "Where do you meet on Sundays?"})
    pages.submit("#contact button")
    conversation_path = pages.driver.current_url.split(pages.base_url)[1]
    assert pages.driver.find_element(By.TAG_NAME, "h1").text == "Sunday service"

    path = f"{conversation_path}?as={association['id']}"
    assert check_and_photograph(pages, "conversation", path, token=token_of(secretary)) == {}
    pages.fill({"body": "At 12 Church Street, at 4."})
    pages.submit("main form button")
    assert "At 12 Church Street, at 4." in pages.driver.find_element(By.ID, "latest").text
