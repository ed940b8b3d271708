"""A secretary's way through the portal in a real browser, and a reader who switches to Mizo."""

import uuid

from selenium.webdriver.common.by import By

from tests.e2e.test_messaging_api import eventually


def test_sign_up_register_verified_by_the_cell_then_in_the_directory_and_on_the_map(pages, cell_staff):
    pages.start_over()
    pages.visit("/signup")
    email = f"browser-{uuid.uuid4().hex[:8]}@example.org"
    pages.fill({"display_name": "Lalhmingliana", "email": email, "password": "correct horse battery staple 7"})
    pages.submit("main form button")
    assert pages.driver.current_url.endswith("/account")

    pages.visit("/associations/new")
    name = f"Ṭhalai Mizo Fellowship {uuid.uuid4().hex[:4]}"
    pages.fill({"name": name, "city": "Singapore", "email": "fellowship@example.org", "phone": "not a phone"})
    pages.driver.find_element(By.CSS_SELECTOR, "#country option[value='SG']").click()
    pages.driver.find_element(By.CSS_SELECTOR, "input[name='languages'][value='lus']").click()
    pages.submit("main form button")
    problem = pages.driver.find_element(By.ID, "phone-problem")
    assert "phone" in problem.text and pages.driver.find_element(By.ID, "phone").get_attribute("aria-invalid") == "true"

    pages.fill({"phone": "+65 6123 4567"})
    pages.submit("main form button")
    association_id = pages.driver.current_url.split("/associations/")[1].split("?")[0]
    assert pages.driver.find_element(By.TAG_NAME, "h1").text == name
    assert "Waiting for the Cell to verify" in pages.driver.find_element(By.CSS_SELECTOR, ".status").text

    verified = cell_staff.request(
        "POST", f"/api/v1/associations/{association_id}/verification", json={"decision": "verify"}
    )
    assert verified.status_code == 200, verified.text

    def listed_with_marker():
        pages.visit("/directory?q=thalai&country=SG")
        links = pages.driver.find_elements(By.CSS_SELECTOR, f".results a[href='/associations/{association_id}']")
        markers = pages.driver.find_elements(By.CSS_SELECTOR, f"svg.map a[href='/associations/{association_id}']")
        return bool(links) and bool(markers)

    assert eventually(listed_with_marker), "the verified association is not in the directory with its marker"
    marker = pages.driver.find_element(By.CSS_SELECTOR, f"svg.map a[href='/associations/{association_id}'] circle")
    assert 780 < float(marker.get_attribute("cx")) < 800  # Singapore, 103.8° E
    pages.screenshot("journey-directory-with-marker")

    pages.visit("/directory?near_city=Singapore&near_country=SG&radius_km=25")
    nearby = pages.driver.find_element(By.CSS_SELECTOR, f".results a[href='/associations/{association_id}']")
    assert nearby.find_element(By.XPATH, "../..").find_element(By.CSS_SELECTOR, ".meta").text.endswith("km away")

    pages.visit("/directory")
    pages.driver.find_element(By.ID, "q").send_keys(name.split()[0][:4])
    suggested = eventually(
        lambda: [
            option.get_attribute("value")
            for option in pages.driver.find_elements(By.CSS_SELECTOR, "#suggestions option")
        ]
    )
    assert name in suggested


def test_switching_to_mizo_changes_the_text_and_is_remembered(pages):
    pages.visit("/static/site/site.css")
    pages.driver.delete_all_cookies()
    pages.visit("/")
    assert pages.driver.find_element(By.CSS_SELECTOR, ".urgent").text == "I need help"
    pages.submit(".languages button[value='lus']")
    assert pages.driver.find_element(By.CSS_SELECTOR, ".urgent").text == "Ṭanpuina ka mamawh"
    assert pages.driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "lus"

    pages.visit("/directory")
    assert pages.driver.find_element(By.TAG_NAME, "h1").text == "Pawl hming dawhna"
    pages.submit(".languages button[value='en']")
    assert pages.driver.find_element(By.TAG_NAME, "h1").text == "Directory of associations"
