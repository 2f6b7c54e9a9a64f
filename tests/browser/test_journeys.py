"""A newcomer's whole journey in Chromium (issue 15, "Journeys in `make test`"): sign up,
open the e-mail, verify, then vote, grade, rank by keyboard and comment, with the worker
delivering the mail as in production."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from consultation.models import Ballot, Comment, Grade, Vote
from tests.factories import make_consultation

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "width"), [("fr", 1280), ("en", 390)])
def test_sign_up_verify_then_vote_grade_rank_by_keyboard_and_comment(
    new_context, mailbox, request, language, width
):
    # The worker that sends the mail, started once the database is open to this test (its
    # start runs Django's checks, which read the database).
    request.getfixturevalue("celery_worker")
    consultation = make_consultation(items=3)
    item = consultation.items.order_by("position").first()
    email = f"nouvelle-{language}@example.org"
    page = new_context(width=width, language=language).new_page()

    page.goto(reverse("account_signup"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=display_name]").fill("Nour")
    page.locator("input[name=password1]").fill("une phrase de passe assez longue")
    page.locator("input[name=password2]").fill("une phrase de passe assez longue")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()

    [message] = mailbox.wait_for(email)
    link = re.search(r"https?://[^/\s]+(/compte/confirm-email/[^\s]+/)", message["body"])[1]
    page.goto(link)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()

    page.goto(item.get_absolute_url())
    page.locator("#vote input[value='for']").check()
    page.locator("#vote button[type=submit]").click()
    page.wait_for_url("**#vote-done")
    page.locator("#grade input[type=radio]").first.check()
    page.locator("#grade button[type=submit]").first.click()
    page.wait_for_url("**#grade-done")

    page.goto(reverse("consultation:ranking", kwargs={"slug": consultation.slug}))
    page.locator("#ranking-finder").focus()
    page.keyboard.type(item.title if language == "fr" else item.title_en)
    page.keyboard.press("Enter")
    page.locator("a[href='#save-ranking']").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_url("**#ranking-done")

    page.goto(item.get_absolute_url())
    page.locator("#comment_body").fill("Bonne idée, à condition de la financer.")
    page.locator("form:has(#comment_body) input[name=stance][value=for]").check()
    page.locator("form:has(#comment_body) button[type=submit]").click()
    page.wait_for_url("**-done")
    expect(page.locator("article", has_text="Bonne idée")).to_be_visible()

    assert Vote.objects.get(item=item, user__email=email).choice == "for"
    assert Grade.objects.filter(item=item, user__email=email).exists()
    ballot = Ballot.objects.get(consultation=consultation, user__email=email)
    assert ballot.ranked_item_ids() == [item.pk]
    assert Comment.objects.filter(item=item, author__email=email).count() == 1
