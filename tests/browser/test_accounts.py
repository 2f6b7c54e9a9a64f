"""Accounts in Chromium: setting the authenticator app up on the way to an organiser page
(issue 15, point 7), and deleting an account while others watch the live counters
(point 9)."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.factories import make_consultation
from tests.support.accounts import PASSWORD, current_totp_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_new_organiser_sets_the_app_up_without_retyping_the_password_and_reaches_the_page(
    new_context, make_user
):
    organiser = make_user("olga@example.org", display_name="Olga", is_organiser=True)
    consultation = make_consultation(items=1, organiser=organiser)
    asked = reverse("organiser:manage", kwargs={"slug": consultation.slug})
    page = new_context().new_page()
    page.goto(asked)  # logged out: to the login form, then back here
    page.locator("input[name=login]").fill(organiser.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()

    # Straight to the authenticator app, with no password asked again.
    page.wait_for_url("**/totp/activate/**")
    assert page.locator("input[name=password]").count() == 0
    secret = page.locator("#authenticator_secret").input_value()
    page.locator("input[name=code]").fill(current_totp_code(secret))
    page.locator("main form button[type=submit]").first.click()

    # The recovery codes, shown once, then on to the page asked for.
    page.wait_for_url("**/recovery-codes/**")
    onwards = page.locator("[data-mfa-next] a")
    assert onwards.get_attribute("href") == asked
    onwards.click()
    page.wait_for_url(f"**{asked}")
    assert consultation.title in page.locator("main").text_content()


def test_deleting_an_account_updates_the_live_counters_at_once(new_context, make_user):
    consultation = make_consultation(items=1)
    item = consultation.items.first()
    leaving = make_user(display_name="Léa")
    from consultation.participation import voting

    voting.cast_vote(leaving, item, "for")
    watcher = new_context().new_page()
    watcher.goto(consultation.get_absolute_url())
    counter = watcher.locator("[data-live='participation.participants']").first
    assert counter.text_content().strip() == "1"
    watcher.wait_for_selector("[data-live-status][data-state='live']")

    page = new_context(leaving).new_page()
    page.goto(reverse("accounts:delete"))
    page.locator("main form input[type=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()

    # Within a second or two, not at the next reconciliation a minute later.
    expect(counter).to_have_text("0", timeout=3000)
    assert watcher.locator("[data-live='participation.votes']").first.text_content().strip() == "0"
