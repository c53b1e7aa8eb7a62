"""Shared pieces of the browser tests: Debian's headless Chromium through chromedriver, kept off
the network (only loopback answers), and small helpers to read the dashboard."""
import base64
import contextlib
import os
import urllib.parse

import pytest

os.environ["SE_AVOID_STATS"] = "true"  # before selenium is used: no usage statistics

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.selenium_manager import SeleniumManager  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WAIT = 15  # seconds; every wait in the browser tests is bounded by it (or less)
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCREENSHOTS = os.path.join(ROOT, "test-artifacts", "screenshots")
# The page under test is this checkout's Public/, whichever binary MUSICSTREAM_BIN points at.
PUBLIC_DIR = os.path.join(ROOT, "Public")
# Every chart canvas on the page, in page order.
CHART_IDS = ["chart-timeline", "chart-genre", "chart-platform", "chart-mood", "chart-country", "chart-artist",
             "chart-track", "chart-skip", "chart-rating"]
GENRE_CELLS = "#rows > tr > td:nth-child(5)"


def require_chromium():
    # The test command installs both; a missing browser is a setup failure, never a skip.
    assert os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK), \
        "needs Debian's chromium and chromium-driver (scripts/setup --test installs them)"


@contextlib.contextmanager
def chromium():
    """A headless Chromium. Selenium Manager (which would download drivers and send statistics)
    must never run: the driver path is explicit, and calling it fails the test."""
    require_chromium()

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
        # inside the browser instead of leaving the machine. This also keeps the page's CDN
        # fallback offline: cdnjs.cloudflare.com never resolves.
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


def connection_state(browser):
    return browser.find_element(By.ID, "connection").get_attribute("data-state")


def open_page(browser, server, query=""):
    browser.get(server.url("/" + query))
    wait(browser, lambda b: b.execute_script("return document.readyState") == "complete", "page never loaded")
    wait(browser, lambda b: row_ids(b), "no rows appeared")
    wait(browser, lambda b: connection_state(b) == "live", "the stream never connected")


def row_ids(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows > tr')).map((tr) => tr.dataset.eventId);")


def row_genres(browser):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll(arguments[0])).map((td) => td.textContent);", GENRE_CELLS)


def column_texts(browser, n):
    """The text of the n-th (1-based) cell of every row."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows > tr > td:nth-child(' + arguments[0] + ')'))"
        ".map((td) => td.textContent);", n)


def query_of(browser):
    return urllib.parse.parse_qs(urllib.parse.urlsplit(browser.current_url).query)


def click(browser, element):
    """Scrolls the element to the middle of the window first (it may sit under the window edge)."""
    browser.execute_script("arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element)
    element.click()


def choose_in_picker(browser, facet, values):
    """Ticks `values` in a multi-value filter (genre, platform, mood, country), as a user would."""
    picker = browser.find_element(By.ID, "f-" + facet)
    if picker.get_attribute("open") is None:
        click(browser, picker.find_element(By.TAG_NAME, "summary"))
    for value in values:
        box = wait(browser, lambda b: [i for i in picker.find_elements(By.CSS_SELECTOR, "input[type=checkbox]")
                                       if i.get_attribute("value") == value], "no option %r" % value)[0]
        if not box.is_selected():
            click(browser, box)
    picker.find_element(By.TAG_NAME, "summary").click()  # close it again


def picker_options(browser, facet):
    """The values a multi-value filter offers, in order."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#f-' + arguments[0] + ' input[type=checkbox]'))"
        ".map((i) => i.value);", facet)


def save_screenshot(browser, name):
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name)
    assert browser.save_screenshot(path)
    return path


def save_full_page(browser, name):
    """The whole page, not just the window, through the DevTools protocol."""
    metrics = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics["cssContentSize"]
    shot = browser.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}})
    os.makedirs(SCREENSHOTS, exist_ok=True)
    path = os.path.join(SCREENSHOTS, name)
    with open(path, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    return path


# Fixtures the browser test modules share: a module imports them by name (pytest then uses
# them there), next to its own `server` fixture, which `driver` waits for.

@pytest.fixture(scope="module")
def driver(server):
    """One headless Chromium for the module."""
    with chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def fresh_console(driver):
    """Each test judges only the console messages of its own steps."""
    severe_console_entries(driver)


def set_custom_range(browser, since_ms, until_ms):
    """Types a custom range into the picker's since/until inputs (local time), as a user would,
    and lets the page see each change."""
    browser.execute_script("""
        const set = (id, ms) => {
          const d = new Date(ms), p = (n) => String(n).padStart(2, '0');
          const el = document.getElementById(id);
          el.value = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' +
            p(d.getMinutes()) + ':' + p(d.getSeconds());
          el.dispatchEvent(new Event('change', {bubbles: true}));
        };
        set('f-since', arguments[0]); set('f-until', arguments[1]);""", since_ms, until_ms)
