"""The dashboard page in a real browser (Debian's headless Chromium through chromedriver) against the
real server: live rows over SSE, the genre filter and the URL, escaping of hostile event text, and
screenshots at desktop and phone widths (written to test-artifacts/screenshots/)."""
import json
import os
import urllib.parse
import uuid

import pytest

os.environ["SE_AVOID_STATS"] = "true"  # before selenium is used: no usage statistics

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.selenium_manager import SeleniumManager  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from test_pipeline import canonical_event, kcat_produce  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 15  # seconds; every wait in this module is bounded by it (or less)
SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "test-artifacts", "screenshots")
GENRE_CELLS = "#rows > tr > td:nth-child(5)"

@pytest.fixture(scope="module")
def server(start_server):
    # The test command installs both; a missing browser is a setup failure, never a skip.
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), \
        "needs Debian's chromium and chromium-driver (scripts/setup --test installs them)"
    return start_server("--rate", "5", "--seed", "3")


@pytest.fixture(scope="module")
def driver(server):
    """One headless Chromium for the module. Selenium Manager (which would download drivers and send
    statistics) must never run: the driver path is explicit, and calling it fails the test."""
    def no_selenium_manager(*args, **kwargs):
        raise AssertionError("Selenium Manager was invoked: it must not look anything up online")

    original = SeleniumManager.binary_paths
    SeleniumManager.binary_paths = no_selenium_manager
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in [
        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,900",
        # Keep the browser from talking to anything but the server under test: no background
        # services, and no name resolution at all (the server is addressed as 127.0.0.1), so even
        # a lookup the flags above miss (Chromium still asked DNS for clients2.google.com) fails
        # inside the browser instead of leaving the machine.
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-default-apps", "--disable-domain-reliability", "--disable-extensions",
        "--no-first-run", "--no-pings", "--disable-features=OptimizationHints,MediaRouter,Translate",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost", "--lang=en-US",
    ]:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    browser.set_page_load_timeout(WAIT)
    browser.set_script_timeout(WAIT)
    try:
        yield browser
    finally:
        browser.quit()
        SeleniumManager.binary_paths = original


def wait(browser, condition, message, timeout=WAIT):
    return WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda b: condition(b), message)


def severe_console_entries(browser):
    """Console messages since the last call (reading the log empties it) at level SEVERE."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def open_page(browser, server, query=""):
    browser.get(server.url("/" + query))
    wait(browser, lambda b: b.execute_script("return document.readyState") == "complete", "page never loaded")
    wait(browser, lambda b: row_ids(b), "no rows appeared")
    wait(browser, lambda b: b.find_element(By.ID, "connection").get_attribute("data-state") == "live",
         "the stream never connected")


def row_ids(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows > tr')).map((tr) => tr.dataset.eventId);")


def row_genres(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map((td) => td.textContent);", GENRE_CELLS)


def query_of(browser):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)


def test_page_loads_without_console_errors(driver, server):
    severe_console_entries(driver)  # start from an empty log
    open_page(driver, server)
    assert driver.title == "musicstream · live listens"
    assert driver.find_element(By.ID, "events-heading").text == "Latest listens"
    assert driver.find_element(By.CSS_SELECTOR, ".app-brand-name").text == "musicstream"
    # Bootstrap (served from Debian's package under /vendor/) is applied.
    assert driver.execute_script(
        "return getComputedStyle(document.querySelector('.visually-hidden')).position;") == "absolute"
    # The KPIs and the genre options are filled from the API.
    wait(driver, lambda b: b.find_element(By.ID, "kpi-window").text not in ("", "—"), "window KPI never filled")
    wait(driver, lambda b: len(Select(b.find_element(By.ID, "f-genre")).options) > 1, "no genre options")
    assert driver.find_element(By.ID, "alerts").text == ""
    assert severe_console_entries(driver) == []


def test_rows_arrive_live_without_reload(driver, server):
    open_page(driver, server)
    driver.execute_script("window.__marker = 'still-here';")
    assert driver.execute_script("return performance.getEntriesByType('navigation').length;") == 1
    first = row_ids(driver)
    assert first
    wait(driver, lambda b: len(set(row_ids(b)) - set(first)) >= 3, "no new rows arrived live")
    later = row_ids(driver)
    assert later[0] not in first, "the newest row should be a new one, at the top"
    assert len(later) <= 50
    assert driver.execute_script("return window.__marker;") == "still-here"
    assert driver.execute_script("return performance.getEntriesByType('navigation').length;") == 1
    assert severe_console_entries(driver) == []


def test_genre_filter_updates_table_and_url_and_survives_reload(driver, server):
    open_page(driver, server)
    genre_select = lambda b: Select(b.find_element(By.ID, "f-genre"))  # noqa: E731
    wait(driver, lambda b: len(genre_select(b).options) > 2, "fewer than two genres offered")
    # The most frequent genre is listed first (its option label carries the count).
    choice = genre_select(driver).options[1].get_attribute("value")
    assert choice
    assert len(set(row_genres(driver))) > 1, "the unfiltered table should show several genres"

    genre_select(driver).select_by_value(choice)
    wait(driver, lambda b: query_of(b).get("genre") == [choice], "the URL did not get ?genre=")
    wait(driver, lambda b: (lambda g: g and set(g) == {choice})(row_genres(b)), "rows were not filtered")
    assert driver.execute_script("return performance.getEntriesByType('navigation')[0].type;") == "navigate"
    # Live rows that arrive keep matching the filter.
    before = row_ids(driver)
    wait(driver, lambda b: set(row_ids(b)) - set(before), "no live rows for the chosen genre", timeout=20)
    assert set(row_genres(driver)) == {choice}

    driver.refresh()
    wait(driver, lambda b: b.execute_script("return performance.getEntriesByType('navigation')[0].type;")
         == "reload", "the page did not reload")
    wait(driver, lambda b: row_ids(b), "no rows after the reload")
    assert query_of(driver).get("genre") == [choice]
    assert genre_select(driver).first_selected_option.get_attribute("value") == choice
    wait(driver, lambda b: (lambda g: g and set(g) == {choice})(row_genres(b)), "rows not filtered after reload")
    assert driver.find_element(By.ID, "filter-summary").text == "1 filter active"

    driver.find_element(By.ID, "clear").click()
    wait(driver, lambda b: urllib.parse.urlsplit(b.current_url).query == "", "Clear did not reset the URL")
    assert genre_select(driver).first_selected_option.get_attribute("value") == ""
    wait(driver, lambda b: len(set(row_genres(b))) > 1, "Clear did not bring back other genres")
    assert driver.find_element(By.ID, "filter-summary").text == "Showing all listens"
    assert severe_console_entries(driver) == []


def test_hostile_event_text_is_shown_as_text(driver, server):
    open_page(driver, server)
    title = "<img src=x onerror=window.__xss=1>"
    artist = "<script>window.__xss=2</script>"
    event = canonical_event(title=title, artist=artist, username='"><b>bold</b>')
    kcat_produce(server.bootstrap, [json.dumps(event)], key=event["user_id"])
    row_selector = '#rows > tr[data-event-id="%s"]' % event["event_id"]
    wait(driver, lambda b: b.find_elements(By.CSS_SELECTOR, row_selector), "the kcat event never showed up")
    row = driver.find_element(By.CSS_SELECTOR, row_selector)
    cells = row.find_elements(By.TAG_NAME, "td")
    assert cells[1].get_attribute("textContent") == '"><b>bold</b>'
    assert cells[2].get_attribute("textContent") == title
    assert cells[3].get_attribute("textContent") == artist
    assert cells[2].text == title  # visible, literally
    assert row.find_elements(By.CSS_SELECTOR, "img, script, b") == []
    assert driver.find_elements(By.CSS_SELECTOR, "#rows img, #rows script") == []
    assert driver.execute_script("return typeof window.__xss;") == "undefined"
    assert severe_console_entries(driver) == []


@pytest.mark.parametrize("name, width, height, mobile", [
    ("desktop", 1400, 900, False),
    ("phone", 390, 844, True),
])
def test_screenshots(driver, server, name, width, height, mobile):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 2 if mobile else 1, "mobile": mobile})
    try:
        open_page(driver, server)
        wait(driver, lambda b: b.find_element(By.ID, "kpi-rate").text not in ("", "—"), "rate KPI never filled")
        assert driver.execute_script("return window.innerWidth;") == width
        # Nothing but the table (which scrolls inside its own box) may be wider than the screen.
        assert driver.execute_script("return document.documentElement.scrollWidth;") <= width
        path = os.path.abspath(os.path.join(SCREENSHOTS, "dashboard-%s.png" % name))
        assert driver.save_screenshot(path)
        assert os.path.getsize(path) > 10_000
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert severe_console_entries(driver) == []
