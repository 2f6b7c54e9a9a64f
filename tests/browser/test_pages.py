"""What a person sees in Chromium after acting and on small screens (issue 15, points 3 to
6): the confirmation where the eye and the focus are, no sideways scrolling at 320 px,
scrollable tables reachable by keyboard, a results page before publication."""

import pytest
from django.urls import reverse

from consultation.models import Consultation
from tests.factories import close, make_consultation, publish_now, take_part

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.fixture
def published(make_user, organiser, settings, tmp_path):
    return publish_one(make_user, organiser, settings, tmp_path, items=5)


def publish_one(make_user, organiser, settings, tmp_path, *, items):
    """A consultation with published results: 8 participants, ``items`` items."""
    import random

    settings.MEDIA_ROOT = tmp_path
    consultation = make_consultation(items=items, organiser=organiser)
    rng = random.Random(3)
    for _ in range(8):
        take_part(make_user(), consultation, rng=rng)
    publish_now(consultation, organiser)
    return consultation


def in_view(page, selector):
    return page.eval_on_selector(
        selector,
        """el => { const box = el.getBoundingClientRect();
                   return box.top >= -1 && box.bottom <= window.innerHeight + 1; }""",
    )


@pytest.mark.parametrize("width", [1280, 390])
def test_the_confirmation_of_a_vote_is_where_the_eye_and_the_focus_are(new_context, citizen, width):
    consultation = make_consultation(items=2)
    item = consultation.items.first()
    page = new_context(citizen, width=width, height=700).new_page()
    page.goto(item.get_absolute_url())
    page.locator("#vote input[value='for']").check()
    page.locator("#vote button[type=submit]").click()
    page.wait_for_url("**#vote-done")
    assert page.evaluate("document.activeElement.id") == "vote-done"
    assert page.locator("#vote-done").text_content().strip() == "Votre vote a été enregistré."
    assert in_view(page, "#vote-done")
    # The form it confirms follows it, and nothing else repeats it at the top of the page.
    assert page.locator(".messages .message").count() == 0

    page.locator("#grade select, #grade input[type=radio]").first.focus()
    grade = page.locator("#grade input[type=radio]")
    if grade.count():
        grade.first.check()
    else:
        page.locator("#grade select").select_option(index=1)
    page.locator("#grade button[type=submit]").first.click()
    page.wait_for_url("**#grade-done")
    assert page.evaluate("document.activeElement.id") == "grade-done"
    assert in_view(page, "#grade-done")


def test_the_confirmation_of_a_comment_is_on_the_comment(new_context, citizen):
    item = make_consultation(items=1).items.first()
    page = new_context(citizen, height=700).new_page()
    page.goto(item.get_absolute_url())
    page.locator("#comment_body").fill("Je soutiens cette mesure.")
    page.locator("form:has(#comment_body) input[name=stance][value=for]").check()
    page.locator("form:has(#comment_body) button[type=submit]").first.click()
    page.wait_for_url("**-done")
    focused = page.evaluate("document.activeElement.id")
    assert focused.startswith("comment-") and focused.endswith("-done")
    assert page.locator(f"#{focused}").text_content().strip() == "Votre commentaire a été publié."
    assert in_view(page, f"#{focused}")


def overflow(page):
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def participant_pages(consultation) -> list[str]:
    """The pages a participant goes through, for the layout checks at every width."""
    return [
        reverse("home"),
        reverse("consultation:list"),
        consultation.get_absolute_url(),
        consultation.items.order_by("position").first().get_absolute_url(),
        reverse("consultation:ranking", kwargs={"slug": consultation.slug}),
        reverse("consultation:methods"),
        reverse("accessibility"),
    ]


def test_no_page_scrolls_sideways_at_320_px(new_context, citizen, published):
    pages = [
        *participant_pages(make_consultation(items=3)),
        reverse("consultation:results", kwargs={"slug": published.slug}),
        reverse("consultation:report", kwargs={"slug": published.slug}),
    ]
    context = new_context(citizen, width=320, height=640)
    page = context.new_page()
    wide = {}
    for address in pages:
        page.goto(address)
        if overflow(page) > 0:
            wide[address] = overflow(page)
    assert wide == {}
    # And on a desktop window, the published results are no wider than it.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(reverse("consultation:results", kwargs={"slug": published.slug}))
    assert overflow(page) <= 0


def test_every_scrollable_table_can_be_reached_and_scrolled_by_keyboard(
    new_context, make_user, organiser, settings, tmp_path
):
    settings.OPEN_DATA_MIN_GROUP = 1  # every method's tables, with 8 people
    published = publish_one(make_user, organiser, settings, tmp_path, items=12)
    page = new_context(width=320, height=800).new_page()
    page.goto(reverse("consultation:results", kwargs={"slug": published.slug}))
    wrappers = page.eval_on_selector_all(
        "main .table-wrapper",
        """els => els.map(el => ({
               tabindex: el.tabIndex, role: el.getAttribute("role"),
               name: el.getAttribute("aria-label") || (document.getElementById(
                   el.getAttribute("aria-labelledby")) || {}).textContent,
               wider: el.scrollWidth > el.clientWidth + 1}))""",
    )
    assert len(wrappers) >= 8, "the results' tables are not all there: nothing tested"
    assert [
        w for w in wrappers if w["tabindex"] != 0 or not w["name"] or w["role"] != "region"
    ] == []
    # Each region is named after its own table, so that a screen reader can tell them apart.
    names = [w["name"].strip() for w in wrappers]
    assert len(set(names)) == len(names), names
    # Each is reached by keyboard; one wider than the window scrolls with the arrow keys.
    wider = [n for n, w in enumerate(wrappers) if w["wider"]]
    page.locator("main .table-wrapper").nth(wider[0] if wider else 0).focus()
    assert page.evaluate("document.activeElement.classList.contains('table-wrapper')")
    if wider:
        page.keyboard.press("ArrowRight")
        for _ in range(40):  # smooth scrolling takes a moment
            if page.evaluate("document.activeElement.scrollLeft") > 0:
                break
            page.wait_for_timeout(50)
        assert page.evaluate("document.activeElement.scrollLeft") > 0


@pytest.mark.parametrize("phase", ["open", "closed"])
def test_results_not_published_yet_say_when_they_will_be(page, phase):
    consultation = make_consultation(items=2)
    if phase == "closed":
        consultation = close(consultation)
        assert consultation.status == Consultation.Status.CLOSED
    response = page.goto(reverse("consultation:results", kwargs={"slug": consultation.slug}))
    assert response.status == 404
    assert page.locator("h1").text_content().strip() == "Résultats pas encore publiés"
    pending = page.locator("[data-results-pending]").text_content()
    assert "seront publiés" in pending
    # What is already public: the participation figures and the way back.
    assert page.locator("#counts-heading").is_visible()
    assert page.locator(f"main a[href='{consultation.get_absolute_url()}']").count() >= 1


def box(page, selector):
    return page.eval_on_selector(
        selector,
        """el => { const b = el.getBoundingClientRect();
                   return {top: b.top, bottom: b.bottom, left: b.left, right: b.right}; }""",
    )


def test_the_results_of_58_items_have_contents_and_pair_charts_and_tables_where_wide(
    new_context, make_user, organiser, settings, tmp_path
):
    settings.OPEN_DATA_MIN_GROUP = 1  # every method's detail broken down, with 8 people
    published = publish_one(make_user, organiser, settings, tmp_path, items=58)
    address = reverse("consultation:results", kwargs={"slug": published.slug})
    page = new_context(width=390, height=800).new_page()
    page.goto(address)
    assert overflow(page) <= 0
    # The declared outcome first, then the contents.
    headings = page.eval_on_selector_all("main h2[id]", "hs => hs.map(h => h.id)")
    assert headings.index("outcome-heading") < headings.index("contents-heading")
    assert headings.index("contents-heading") < headings.index("participation-heading")
    # Each counting method's detail is under a heading the contents link to.
    methods = page.eval_on_selector_all(".method-result h3[id]", "hs => hs.map(h => h.id)")
    assert len(methods) == 4  # the ranking methods of make_consultation's card
    targets = page.eval_on_selector_all(
        ".results-contents a", "links => links.map(a => a.getAttribute('href').slice(1))"
    )
    assert {"votes-heading", "mj-heading", "rankings-heading", *methods} <= set(targets)
    for target in targets:
        page.locator(f".results-contents a[href='#{target}']").click()
        page.wait_for_url(f"**#{target}")
        heading = page.locator(f"#{target}")
        assert heading.evaluate("el => el.tagName") in ("H2", "H3"), target
        top = box(page, f"#{target}")["top"]
        # At the top of the window (the page's end may hold the last one lower down).
        assert -1 <= top < 800 / 2 or target == targets[-1], (target, top)
        page.evaluate("window.scrollTo(0, 0)")
    # On a phone each chart is above its table; on a desktop they are side by side.
    pairs = page.locator(".chart-pair").count()
    assert pairs >= 3  # votes, majority judgment, Borda
    for n in range(pairs):
        pair = f":nth-match(.chart-pair, {n + 1})"
        chart, table = box(page, f"{pair} > figure"), box(page, f"{pair} > .table-wrapper")
        assert chart["bottom"] <= table["top"]
    # On a desktop, side by side where the table fits beside its chart (fewer than nine
    # columns), which is then whole, without scrolling; a wider one stays under its chart.
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(address)
    assert overflow(page) <= 0
    beside = 0
    for n in range(pairs):
        pair = f":nth-match(.chart-pair, {n + 1})"
        chart, table = box(page, f"{pair} > figure"), box(page, f"{pair} > .table-wrapper")
        columns = page.locator(f"{pair} thead th").count()
        if columns < 9:
            assert chart["right"] <= table["left"] and abs(chart["top"] - table["top"]) < 2, n
            assert page.eval_on_selector(
                f"{pair} > .table-wrapper", "el => el.scrollWidth <= el.clientWidth"
            ), n
            beside += 1
        else:
            assert chart["bottom"] <= table["top"], n
    assert beside >= 2  # the votes and Borda's points
