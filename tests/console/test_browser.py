"""The console in a real browser (Debian's Chromium, driven by Selenium): a console chat opens a ticket, it
appears in the live inbox without a reload, a consultant claims and answers it, and the answer reaches the chat;
an admin creates, previews, sends and cancels a broadcast and watches its progress. Screenshots of the inbox, the
ticket, the figures and the broadcast go to tests/output/."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from bot.core.knowledge import load_knowledge
from tests.conftest import LANGUAGES, ROOT, free_port, run_cli_args

OUTPUT = ROOT / "tests" / "output"
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    if not (Path(CHROMIUM).exists() and Path(DRIVER).exists()):
        pytest.fail("Chromium is not installed: apt-get install chromium chromium-driver (.ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    OUTPUT.mkdir(exist_ok=True)  # the screenshots' folder
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """`migrant-bot console` on a copy of the knowledge base (an admin's edits must not touch the repository's),
    with an admin, root, and two consultants, maria and ivan."""
    port = free_port()
    config = tmp_path / "bot.toml"
    shutil.copytree(ROOT / "knowledge", tmp_path / "knowledge")
    config.write_text(
        f'[bot]\nknowledge_dir = "{tmp_path / "knowledge"}"\ndatabase_url = "sqlite+aiosqlite:///bot.db"\n'
        f"[web]\nport = {port}\n[console]\nlogin_attempts_per_minute = 3\n",
        encoding="utf-8",
    )
    for name, role in (("root", "admin"), ("maria", "consultant"), ("ivan", "consultant")):
        added = subprocess.run(
            run_cli_args(config, "staff", "add", name, "--role", role, "--languages", "en,ar", "--password-stdin"),
            input=f"{name}-password-1\n",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert added.returncode == 0, added.stderr
    server = subprocess.Popen(run_cli_args(config, "console"), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield config, url
    finally:
        server.terminate()
        server.wait(10)


def chat(config: Path, user: str, text: str, *options: str) -> str:
    done = subprocess.run(
        run_cli_args(config, "chat", "--user", user, *options), input=text, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def waiting(driver: WebDriver) -> WebDriverWait[WebDriver]:
    """A wait that looks again when the live inbox replaced the rows it was reading (every 2 s)."""
    return WebDriverWait(driver, 20, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException))


def first_ticket(wait: WebDriverWait[WebDriver]) -> str:
    """The address of the first ticket in the live inbox."""
    return str(
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#queue-rows tr[data-ticket] a").get_attribute("href"))
    )


def log_in(driver: WebDriver, url: str, name: str, password: str) -> None:
    driver.get(f"{url}/console/login")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form.login button").click()


def test_a_console_chat_ticket_is_worked_to_its_reply_in_chromium(browser: WebDriver, served: tuple[Path, str]) -> None:
    config, url = served
    wait = waiting(browser)
    log_in(browser, url, "maria", "wrong-password")
    wait.until(lambda d: "Wrong name or password." in d.page_source)  # the refused form has loaded
    log_in(browser, url, "maria", "maria-password-1")
    wait.until(lambda d: d.current_url.endswith("/console/queue"))
    browser.get(f"{url}/console/admin/figures")
    assert "This page is for admins." in browser.page_source
    browser.get(f"{url}/console/queue")
    assert "No tickets here." in browser.page_source

    chat(config, "amal", "/consultant\nأحتاج مساعدة في الإقامة، رقم 112\n", "--lang", "ar")
    # the live inbox shows it without a reload
    wait.until(
        lambda d: "أحتاج مساعدة في الإقامة" in d.find_element(By.CSS_SELECTOR, "#queue-rows tr[data-ticket]").text
    )
    assert "amal" not in browser.page_source
    browser.save_screenshot(str(OUTPUT / "console-inbox.png"))

    browser.get(first_ticket(wait))
    browser.find_element(By.ID, "claim").click()
    wait.until(lambda d: "The ticket is yours." in d.page_source)
    message = browser.find_element(By.CSS_SELECTOR, ".line.user .text")
    assert message.value_of_css_property("direction") == "rtl" and "112" in message.text
    assert browser.find_element(By.ID, "reply-text").get_attribute("dir") == "rtl"  # an Arabic ticket
    browser.find_element(By.ID, "note-text").send_keys("asked twice already")
    browser.find_element(By.ID, "add-note").click()
    wait.until(lambda d: "Your note is saved." in d.page_source)
    browser.find_element(By.ID, "reply-text").send_keys("Please come to the office on Monday.")
    browser.find_element(By.ID, "send-reply").click()
    wait.until(lambda d: "Your reply is on its way" in d.page_source)
    browser.save_screenshot(str(OUTPUT / "console-ticket.png"))

    answer = chat(config, "amal", "")
    assert "Please come to the office on Monday." in answer and "asked twice already" not in answer

    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait.until(lambda d: d.current_url.endswith("/console/login"))
    log_in(browser, url, "root", "root-password-1")
    wait.until(lambda d: d.current_url.endswith("/console/queue"))
    browser.get(f"{url}/console/admin/figures")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 5
    browser.save_screenshot(str(OUTPUT / "console-figures.png"))


def test_an_admin_announces_an_info_session_and_watches_it_go_out_in_chromium(
    browser: WebDriver, served: tuple[Path, str]
) -> None:
    config, url = served
    wait = waiting(browser)
    assert "/unsubscribe" in chat(config, "lena", "/subscribe\n1\n1\n", "--lang", "en")  # a city, all topics
    assert "/unsubscribe" in chat(config, "omar", "/subscribe\n1\n1\n", "--lang", "ar")
    log_in(browser, url, "root", "root-password-1")
    wait.until(lambda d: d.current_url.endswith("/console/queue"))
    browser.get(f"{url}/console/admin/events")
    assert "Plovdiv" in browser.find_element(By.TAG_NAME, "main").text  # the seeds' past session

    browser.get(f"{url}/console/admin/broadcasts")
    form = browser.find_element(By.ID, "broadcast-yaml")
    form.clear()
    form.send_keys("name: Friday\ntext:\n  en: An info session on Friday.\naudience: {}\n")
    browser.find_element(By.ID, "create-broadcast").click()
    wait.until(lambda d: "stored as a draft" in d.page_source)
    refusal = browser.find_element(By.ID, "broadcast-refusal").text
    assert "no text in" in refusal and "ar" in refusal  # omar reads Arabic: refused without a fallback
    browser.find_element(By.LINK_TEXT, "Preview with the default language's text where one is missing").click()
    preview = wait.until(lambda d: d.find_element(By.ID, "preview")).text
    assert "(fallback)" in preview
    browser.find_element(By.ID, "send-broadcast").click()
    wait.until(lambda d: "The broadcast is queued" in d.page_source)
    assert len(browser.find_elements(By.CSS_SELECTOR, "p.done")) == 1  # said once
    assert browser.find_element(By.ID, "broadcast-status").text == "sending"
    assert browser.find_element(By.ID, "broadcast-progress").text.startswith("sent 0 of 2")

    assert chat(config, "lena", "").strip() == "An info session on Friday."  # the console chat's next session
    wait.until(lambda d: d.find_element(By.ID, "broadcast-progress").text.startswith("sent 1 of 2"))  # no reload
    browser.save_screenshot(str(OUTPUT / "console-broadcast.png"))
    browser.find_element(By.ID, "cancel-broadcast").click()
    wait.until(lambda d: "The broadcast is cancelled" in d.page_source)
    assert browser.find_element(By.ID, "broadcast-status").text == "cancelled"
    assert "withdrawn 1" in browser.find_element(By.ID, "broadcast-progress").text
    assert chat(config, "omar", "").strip() == ""  # withdrawn before it went


def test_logins_past_the_limit_wait_even_with_the_right_password_in_chromium(
    browser: WebDriver, served: tuple[Path, str]
) -> None:
    _, url = served
    wait = waiting(browser)
    for _ in range(3):
        log_in(browser, url, "maria", "wrong-password")
        wait.until(lambda d: "Wrong name or password." in d.page_source)
    log_in(browser, url, "maria", "maria-password-1")
    wait.until(lambda d: "Too many failed attempts. Try again in" in d.page_source)
    assert browser.current_url.endswith("/console/login")
    browser.get(f"{url}/console/queue")
    assert browser.current_url.endswith("/console/login")  # no session was started


def test_an_admin_assigns_a_ticket_keeps_canned_replies_and_teaches_the_bot_a_question_in_chromium(
    browser: WebDriver, served: tuple[Path, str]
) -> None:
    config, url = served
    wait = waiting(browser)
    question = "who covers the bill when a foreigner sees a doctor here"
    before = chat(config, "pat", f"{question}\n", "--lang", "en")
    chat(config, "amal", "/consultant\nI need help with my residence card\n", "--lang", "en")

    log_in(browser, url, "root", "root-password-1")
    wait.until(lambda d: d.current_url.endswith("/console/queue"))
    browser.get(f"{url}/console/admin/canned")
    Select(browser.find_element(By.ID, "canned-language")).select_by_visible_text("en")
    browser.find_element(By.ID, "canned-title").send_keys("Office hours")
    browser.find_element(By.ID, "canned-text").send_keys("Our office is open on weekdays; write here any time.")
    browser.find_element(By.ID, "add-canned").click()
    wait.until(lambda d: "Our office is open on weekdays" in d.find_element(By.TAG_NAME, "table").text)

    browser.get(f"{url}/console/queue")
    browser.get(first_ticket(wait))
    Select(browser.find_element(By.ID, "assign-to")).select_by_visible_text("ivan")
    browser.find_element(By.ID, "assign").click()
    wait.until(lambda d: "The ticket is assigned." in d.page_source)
    assert browser.find_element(By.CSS_SELECTOR, ".facts .holder").text == "ivan"
    ticket_url = browser.current_url.split("?")[0]

    browser.get(f"{url}/console/admin/unanswered")
    group = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "section.group"))[0]
    assert question in group.text
    entry = group.find_element(By.CSS_SELECTOR, "h2 code").text
    group.find_element(By.CSS_SELECTOR, "button.add-paraphrases").click()
    wait.until(lambda d: "The questions are added to the entry, validated and reloaded." in d.page_source)
    answer = load_knowledge(config.parent / "knowledge", LANGUAGES).entries[entry].answers["en"]
    assert answer.splitlines()[0] not in before
    # the bot answers it now (after asking the person's status, which this entry's answer depends on: not said)
    assert answer.splitlines()[0] in chat(config, "pat", f"{question}\n6\n", "--lang", "en")

    browser.find_element(By.CSS_SELECTOR, "form.logout button").click()
    wait.until(lambda d: d.current_url.endswith("/console/login"))
    log_in(browser, url, "ivan", "ivan-password-1")
    wait.until(lambda d: d.current_url.endswith("/console/queue"))
    browser.get(ticket_url)
    assert browser.find_element(By.CSS_SELECTOR, ".facts .holder").text == "ivan"  # assigned: his
    browser.find_element(By.CSS_SELECTOR, "button.canned-reply").click()
    box = browser.find_element(By.ID, "reply-text")
    assert box.get_attribute("value") == "Our office is open on weekdays; write here any time."
    browser.find_element(By.ID, "send-reply").click()
    wait.until(lambda d: "Your reply is on its way" in d.page_source)
    assert "Our office is open on weekdays; write here any time." in chat(config, "amal", "")
