"""The ranking page in Chromium: the buttons, the selects, and the keyboard model for long
lists (issue 15, points 1 and 2)."""

import pytest
from django.urls import reverse

from consultation.models import Ballot, Item
from tests.factories import make_consultation

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def ranking_url(consultation):
    return reverse("consultation:ranking", kwargs={"slug": consultation.slug})


def ranks(page):
    """{title: the rank its select shows} for every row, in page order."""
    return page.eval_on_selector_all(
        ".ranking-row",
        """rows => Object.fromEntries(rows.map(row => [
            row.querySelector("label").textContent.trim(), row.querySelector("select").value]))""",
    )


def row(page, title):
    return page.locator(".ranking-row", has=page.locator("label", has_text=title))


def saved(citizen, consultation):
    ballot = Ballot.objects.filter(user=citizen, consultation=consultation).first()
    return [Item.objects.get(pk=pk).title for pk in ballot.ranked_item_ids()] if ballot else None


def test_the_first_row_is_ranked_with_its_button_and_a_chosen_rank_renumbers_the_others(
    new_context, citizen
):
    consultation = make_consultation(items=3)
    a, b, c = (item.title for item in consultation.items.order_by("position"))
    page = new_context(citizen).new_page()
    page.goto(ranking_url(consultation))

    # Nothing ranked: the first row's "move up" ranks it (it was disabled).
    up = row(page, a).locator("[data-move='-1']")
    assert up.get_attribute("aria-disabled") == "false"
    up.click()
    assert ranks(page) == {a: "1", b: "", c: ""}
    # Out of the ranking at the top, then back in: not stuck.
    row(page, a).locator("[data-move='1']").click()
    assert ranks(page) == {a: "", b: "", c: ""}
    row(page, a).locator("[data-move='-1']").click()
    assert ranks(page) == {a: "1", b: "", c: ""}

    # Rank 1 chosen in another row's select: that row goes first, the others renumber.
    row(page, c).locator("select").select_option("1")
    assert list(ranks(page).items()) == [(c, "1"), (a, "2"), (b, "")]
    assert page.locator("[data-ranking-status]").text_content() == f"{c} : rang 1."
    row(page, b).locator("select").select_option("2")
    assert list(ranks(page).items()) == [(c, "1"), (b, "2"), (a, "3")]

    page.locator("#save-ranking").click()
    assert saved(citizen, consultation) == [c, b, a]


def test_a_long_ranking_is_made_and_saved_by_keyboard_in_a_few_keystrokes(new_context, citizen):
    consultation = make_consultation(items=58, ranking_size=5)
    items = list(consultation.items.order_by("position"))
    items[40].title = "Pistes cyclables"
    items[40].save()
    items[6].title = "Cantines bio"
    items[6].save()
    page = new_context(citizen).new_page()
    page.goto(ranking_url(consultation))

    # From the top of the page, Tab reaches the skip link to "save" in a few presses.
    presses = 0
    while (
        page.evaluate("document.activeElement.textContent.trim()") != "Aller au bouton Enregistrer"
    ):
        page.keyboard.press("Tab")
        presses += 1
        assert presses < 30, "the skip link to the save button is too far"
    # The finder is the next stop after the skip links.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "ranking-finder"

    page.keyboard.type("pistes cycl")
    assert page.locator(".ranking-row:visible").count() == 1
    page.keyboard.press("Enter")
    assert page.locator("[data-ranking-status]").text_content() == "Pistes cyclables : rang 1."
    page.keyboard.type("cantines")
    page.keyboard.press("Enter")
    assert page.locator("[data-ranking-status]").text_content() == "Cantines bio : rang 2."
    assert page.locator(".ranking-row:visible").count() == 58

    # Tab to the second row's "move up" (the first row's controls come before it), then
    # the up arrow: first.
    focused = """[document.activeElement.getAttribute('data-move'),
        document.activeElement.closest('.ranking-row')?.querySelector('label').textContent.trim()]"""
    for _ in range(6):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == ["-1", "Cantines bio"]:
            break
    assert page.evaluate(focused) == ["-1", "Cantines bio"]
    page.keyboard.press("ArrowUp")
    assert page.locator("[data-ranking-status]").text_content() == "Cantines bio : rang 1."
    assert (
        page.evaluate(
            "document.activeElement.closest('.ranking-row').querySelector('label').textContent.trim()"
        )
        == "Cantines bio"
    )
    assert page.evaluate("document.activeElement.getAttribute('data-move')") == "-1"

    # Back to the skip link and on to "save".
    page.locator("a[href='#save-ranking']").focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "save-ranking"
    page.keyboard.press("Enter")
    page.wait_for_url("**#ranking-done")
    assert saved(citizen, consultation) == ["Cantines bio", "Pistes cyclables"]
    assert page.evaluate("document.activeElement.id") == "ranking-done"
