"""A debate read in Chromium while others write (issue 15, point 8): a new comment is
inserted in place within a second, what the reader is reading does not move, and screen
readers hear it politely."""

import pytest
from playwright.sync_api import expect

from consultation.participation import debate, voting
from tests.factories import make_consultation

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_a_new_comment_appears_in_place_without_moving_what_the_reader_reads(
    new_context, citizen, make_user
):
    item = make_consultation(items=1).items.first()
    others = [make_user() for _ in range(3)]
    for n in range(12):
        debate.post_comment(
            others[n % 3], item, f"Avis numéro {n}, assez long pour tenir de la place.", "for"
        )
    reader = new_context(height=600).new_page()
    reader.goto(item.get_absolute_url())
    reader.wait_for_selector("[data-live-status][data-state='live']")
    # The reader is in the middle of the debate.
    middle = reader.locator("article", has_text="Avis numéro 5,")
    middle.scroll_into_view_if_needed()
    before = middle.bounding_box()["y"]

    writer = new_context(citizen).new_page()
    writer.goto(item.get_absolute_url())
    writer.locator("#comment_body").fill("Une idée <b>nouvelle</b>.")
    writer.locator("form:has(#comment_body) input[name=stance][value=against]").check()
    writer.locator("form:has(#comment_body) button[type=submit]").first.click()
    writer.wait_for_url("**-done")

    reader.wait_for_selector("article:has-text('Une idée')", timeout=2000)
    first = reader.locator("ol.thread > li").first
    assert first.locator(".comment-body").text_content() == "Une idée <b>nouvelle</b>."  # text
    assert "Camille" in first.locator(".comment-meta").text_content()
    assert "Contre" in first.locator(".comment-meta").text_content()
    assert abs(middle.bounding_box()["y"] - before) < 2
    expect(reader.locator("[data-live-announce]")).to_contain_text("Camille", timeout=3000)
    assert reader.locator("[data-live-announce]").get_attribute("aria-live") == "polite"
    # No "reload the page" notice for what is already shown.
    assert reader.locator("[data-live-notice]").is_hidden()


def test_two_people_see_each_others_vote_and_comment_within_a_second(
    new_context, citizen, make_user
):
    # Participation figures on the item page (tallies would wait for a large enough group).
    consultation = make_consultation(items=1, results_visibility="after_close")
    item = consultation.items.first()
    other = make_user(display_name="Bruno")
    mine = new_context(citizen).new_page()
    theirs = new_context(other).new_page()
    for page in (mine, theirs):
        page.goto(item.get_absolute_url())
        page.wait_for_selector("[data-live-status][data-state='live']")

    theirs.locator("#vote input[value='for']").check()
    theirs.locator("#vote button[type=submit]").click()
    theirs.wait_for_url("**#vote-done")
    expect(mine.locator("[data-live='participation.votes']")).to_have_text("1", timeout=1000)
    mine.locator("#comment_body").fill("Je réponds à Bruno.")
    mine.locator("form:has(#comment_body) input[name=stance][value=neutral]").check()
    theirs.wait_for_selector("[data-live-status][data-state='live']")  # after its reload
    mine.locator("form:has(#comment_body) button[type=submit]").first.click()
    mine.wait_for_url("**-done")  # written: from here, a second at most
    theirs.wait_for_selector("article:has-text('Je réponds à Bruno.')", timeout=1000)


def test_the_compact_list_of_58_items_follows_votes_and_comments_live(new_context, citizen):
    """The consultation page's rows keep what they show live: a row's comments and the
    participation figures change in place, on a phone, without reload."""
    consultation = make_consultation(items=58)
    item = consultation.items.order_by("position").last()
    reader = new_context(width=390).new_page()
    reader.goto(consultation.get_absolute_url())
    reader.wait_for_selector("[data-live-status][data-state='live']")
    comments = reader.locator(f".item-list [data-live='items.{item.pk}.comments']")
    expect(comments).to_have_text("0 commentaire")

    voting.cast_vote(citizen, item, "for")
    debate.post_comment(citizen, item, "Vu depuis la liste.", "for")
    expect(reader.locator("[data-live='participation.votes']")).to_have_text("1", timeout=2000)
    expect(comments).to_have_text("1 commentaire", timeout=2000)
    assert reader.evaluate("document.documentElement.scrollWidth") <= 390
