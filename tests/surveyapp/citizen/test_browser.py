"""End to end in a real browser: a citizen opens the link on a phone and answers.

Playwright drives Debian's chromium (headless) against a live threaded server on a free
loopback port. Skipped with the reason when chromium or Playwright is missing, unless
REQUIRE_BROWSER=1 (then it fails).
"""

import pytest
import sqlalchemy as sa

from surveyapp.extensions import db
from surveyapp.models.responses import Response

from ..conftest import CHROMIUM, browser_or_skip


def _answer_visible_questions(page) -> None:
    for question in page.locator("fieldset.question").all():
        if not question.is_visible():
            continue
        options = question.locator("input[type=radio]")
        if options.count() and not question.locator("input:checked").count():
            # Tap the label (a large target), as a thumb would.
            question.locator("label").nth(min(3, options.count() - 1)).click()
    for number in page.locator("input[type=number]").all():
        if number.is_visible():
            number.fill("2")


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])  # one backend: concurrency covers both
def test_citizen_answers_on_a_phone(app, live_server, survey, issue):
    sync_playwright = browser_or_skip()
    s = survey()
    (item,) = issue(s.respondents)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        page = context.new_page()
        page.goto(f"{live_server}/s/{item.token}")
        assert page.url == f"{live_server}/s/form"  # the token left the address bar
        # Keyboard: focus the first choice of the first question and select with Space.
        page.focus("#a1-0")
        page.keyboard.press("ArrowDown")
        assert page.is_checked("#a1-1")
        hidden_checked = False
        for _ in range(15):
            if page.get_by_role("heading", name="Cảm ơn Ông/Bà!").count():
                break
            _answer_visible_questions(page)
            if page.locator("form[data-section=F]").count():
                # f1 answered "No": the script hides the follow-up grid on the same page.
                assert page.is_checked("#f1-1")
                assert page.locator("form[data-section=F] [data-relevant]").is_hidden()
                hidden_checked = True
            send = page.get_by_role("button", name="Gửi phiếu")
            if send.count():
                send.click()
            else:
                page.get_by_role("button", name="Tiếp tục").click()
            page.wait_for_load_state()
        assert hidden_checked
        assert page.get_by_role("heading", name="Cảm ơn Ông/Bà!").is_visible()
        assert page.url == f"{live_server}/s/thanks"
        browser.close()
    with app.app_context():
        (row,) = db.session.scalars(sa.select(Response)).all()
    assert row.mode == "web" and row.answers["a1"] == 2 and row.answers["f1"] == 2
    assert not {"f2", "f3", "f4", "f5"} & set(row.answers)


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_skip_logic_across_pages_in_a_browser(app, live_server, survey, issue, javascript):
    """a6 = 1 (in person): page B has neither the portal grid (b5-b8) nor the postal item
    (b9), with or without the script; the same-page rule of page F is hidden by the script
    until f1 = 1, and without it shown with its note."""
    sync_playwright = browser_or_skip()
    s = survey()
    (item,) = issue(s.respondents)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(
            viewport={"width": 390, "height": 844}, java_script_enabled=javascript
        )
        page = context.new_page()
        page.goto(f"{live_server}/s/{item.token}")
        counters = []
        for _ in range(15):
            if page.get_by_role("heading", name="Cảm ơn Ông/Bà!").count():
                break
            counters.append(page.locator(".progress-text").inner_text())
            section = page.locator("form#citizen-form").get_attribute("data-section")
            if section == "A":
                page.locator("label[for=a6-0]").click()  # in person
            if section == "B":
                assert page.locator("[name=b1]").count()  # the counter grid is there
                for code in ("b5", "b6", "b7", "b8", "b9"):
                    assert page.locator(f"[name={code}]").count() == 0
            if section == "F":
                grid = page.locator("form [data-relevant]")
                if javascript:
                    assert grid.is_hidden()
                    page.locator("label[for=f1-0]").click()  # yes: the grid appears
                    assert grid.is_visible()
                    page.locator("label[for=f1-1]").click()  # no: hidden again
                    assert grid.is_hidden()
                else:
                    assert grid.is_visible() and grid.locator(".condition-note").is_visible()
                    page.locator("label[for=f1-1]").click()
                    _answer_visible_questions(page)  # answers the grid too: not stored
            _answer_visible_questions(page)
            send = page.get_by_role("button", name="Gửi phiếu")
            (send if send.count() else page.get_by_role("button", name="Tiếp tục")).click()
            page.wait_for_load_state()
        assert page.url == f"{live_server}/s/thanks"
        browser.close()
    total = len(counters)
    assert counters == [f"Phần {n} / {total}" for n in range(1, total + 1)]
    with app.app_context():
        (row,) = db.session.scalars(sa.select(Response)).all()
    assert row.answers["a6"] == 1 and row.answers["f1"] == 2
    assert not {"b5", "b6", "b7", "b8", "b9", "f2", "f3", "f4", "f5"} & set(row.answers)
