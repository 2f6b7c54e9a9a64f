"""Taking part with the keyboard alone, without JavaScript, with reduced motion and at 200 %
zoom (issue 15, "Accessibility, proven by tests"): a vote, a grade and a comment are made
and saved by keys only, each control reached with Tab and showing where the focus is; the
same, and a ranking, with JavaScript switched off; no transition or animation when the
person asked for less motion; no sideways scrolling at 200 % zoom."""

import re

import pytest
from django.urls import reverse

from consultation.models import Ballot, Comment, Grade, Vote
from tests.browser.page_types import page_type_world, page_types
from tests.factories import make_consultation

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]
COMMENT_DONE = re.compile(r"#comment-\d+-done$")


def tab_to(page, selector: str, *, limit: int = 150) -> int:
    """Press Tab until the focus is on ``selector``; how many presses it took."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("s => !!document.activeElement?.matches(s)", selector):
            return presses
    raise AssertionError(f"{selector} not reached with Tab in {limit} presses")


def focus_shows(page) -> bool:
    """Whether the focused control is drawn with a focus indicator (outline or ring)."""
    return page.evaluate(
        """() => { const s = getComputedStyle(document.activeElement);
                   return (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0)
                          || s.boxShadow !== "none"; }"""
    )


def checked(page, selector: str) -> str:
    return page.eval_on_selector(f"{selector}:checked", "el => el.value")


def test_a_vote_a_grade_and_a_comment_by_keyboard_alone(new_context, citizen):
    consultation = make_consultation(items=2)
    item = consultation.items.first()
    page = new_context(citizen, height=700).new_page()
    page.goto(item.get_absolute_url())

    # The first stop is the link to skip to the content.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert focus_shows(page)

    # The vote: Tab to the choices, Space picks the first, an arrow the next, Enter sends.
    tab_to(page, "#vote input[name=choice]")
    assert focus_shows(page)
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    choice = checked(page, "#vote input[name=choice]")
    tab_to(page, "#vote button[type=submit]")
    assert focus_shows(page)
    page.keyboard.press("Enter")
    page.wait_for_url("**#vote-done")
    assert page.evaluate("document.activeElement.id") == "vote-done"
    assert Vote.objects.get(user=citizen, item=item).choice == choice

    # The grade, from where the confirmation left the focus.
    tab_to(page, "#grade input[name=grade]")
    page.keyboard.press("Space")
    grade = checked(page, "#grade input[name=grade]")
    tab_to(page, "#grade button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url("**#grade-done")
    assert Grade.objects.get(user=citizen, item=item).grade == int(grade)

    # A comment: typed, its stance picked, published; the confirmation takes the focus.
    tab_to(page, "#comment_body")
    assert focus_shows(page)
    page.keyboard.type("Dit au clavier seul.")
    tab_to(page, "form:has(#comment_body) input[name=stance]")
    page.keyboard.press("Space")
    tab_to(page, "form:has(#comment_body) button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_url(COMMENT_DONE)
    assert COMMENT_DONE.search("#" + page.evaluate("document.activeElement.id"))
    assert Comment.objects.get(author=citizen, item=item).body == "Dit au clavier seul."


def test_voting_grading_ranking_and_commenting_work_without_javascript(new_context, citizen):
    consultation = make_consultation(items=3)
    first, _second, third = consultation.items.order_by("position")
    page = new_context(citizen, java_script_enabled=False).new_page()

    page.goto(first.get_absolute_url())
    page.locator("#vote input[value='against']").check()
    page.locator("#vote button[type=submit]").click()
    page.wait_for_url("**#vote-done")
    page.locator("#grade input[name=grade]").nth(1).check()
    page.locator("#grade button[type=submit]").first.click()
    page.wait_for_url("**#grade-done")
    page.locator("#comment_body").fill("Sans JavaScript.")
    page.locator("form:has(#comment_body) input[name=stance][value=against]").check()
    page.locator("form:has(#comment_body) button[type=submit]").first.click()
    page.wait_for_url(COMMENT_DONE)

    assert Vote.objects.get(user=citizen, item=first).choice == "against"
    assert Grade.objects.filter(user=citizen, item=first).exists()
    assert Comment.objects.filter(author=citizen, item=first, body="Sans JavaScript.").exists()

    # The ranking: each row's rank chosen in its own list, then saved.
    page.goto(reverse("consultation:ranking", kwargs={"slug": consultation.slug}))
    rows = page.locator(".ranking-row")
    assert rows.count() == 3
    for title, rank in ((third.title, "1"), (first.title, "2")):
        page.locator(".ranking-row", has=page.locator("label", has_text=title)).locator(
            "select"
        ).select_option(rank)
    page.locator("form:has(.ranking-row) button[type=submit]").first.click()
    page.wait_for_load_state()
    ballot = Ballot.objects.get(user=citizen, consultation=consultation)
    assert ballot.ranked_item_ids() == [third.pk, first.pk]


def test_nothing_moves_for_those_who_asked_for_less_motion(new_context, citizen):
    consultation = make_consultation(items=8)
    # CSP bypassed only to add a style below, as a later stylesheet would.
    page = new_context(citizen, reduced_motion="reduce", bypass_csp=True).new_page()
    for address in (
        consultation.get_absolute_url(),
        consultation.items.first().get_absolute_url(),
        reverse("consultation:ranking", kwargs={"slug": consultation.slug}),
    ):
        page.goto(address)
        assert page.evaluate("matchMedia('(prefers-reduced-motion: reduce)').matches")
        moving = page.evaluate(
            """() => [...document.querySelectorAll("*")].filter(el => {
                   const s = getComputedStyle(el);
                   return s.transitionDuration.split(",").some(d => parseFloat(d) > 0)
                       || s.animationName !== "none" || s.scrollBehavior === "smooth";
               }).map(el => el.tagName + (el.className ? "." + el.className : ""))"""
        )
        assert moving == [], address
    # And motion added later (a transition, an animation) is stilled by the same rule.
    page.add_style_tag(
        content="main { transition: opacity 2s; animation: pulse 1s infinite; }"
        " @keyframes pulse { to { opacity: 0.5; } }"
    )
    stilled = page.eval_on_selector(
        "main",
        """el => { const s = getComputedStyle(el);
                   return [s.transitionDuration, s.animationName]; }""",
    )
    assert stilled == ["0s", "none"]


@pytest.fixture
def world(make_user, citizen, organiser, moderator, settings, tmp_path):
    return page_type_world(make_user, citizen, organiser, moderator, settings, tmp_path)


# Boxes whose content is cut off: overflow hidden (or clip) and more content than room.
# The scrollable table regions scroll (overflow auto, reachable by keyboard) and the
# visually hidden texts are cut on purpose.
CLIPPED = """() => [...document.querySelectorAll("body *")].filter(el => {
    if (el.closest(".visually-hidden")) return false;
    const s = getComputedStyle(el);
    const cut = ["hidden", "clip"];
    return (cut.includes(s.overflowX) && el.scrollWidth > el.clientWidth + 1)
        || (cut.includes(s.overflowY) && el.scrollHeight > el.clientHeight + 1);
}).map(el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
             + (el.className && typeof el.className === "string" ? "." + el.className : ""))"""


def test_no_page_type_scrolls_sideways_or_clips_at_200_percent_zoom(
    new_context, world, citizen, organiser, moderator
):
    """A 1,280-pixel window zoomed to 200 % lays pages out 640 CSS pixels wide, at two
    device pixels each: what is emulated here, on every page type axe-core visits."""
    people = {None: None, "citizen": citizen, "organiser": organiser, "moderator": moderator}
    wide, clipped, visited = {}, {}, []
    for persona, addresses in page_types(world).items():
        context = new_context(people[persona], width=640, height=400, device_scale_factor=2)
        page = context.new_page()
        for address in addresses:
            page.goto(address)
            visited.append(f"{persona or 'visitor'} {address}")
            extra = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if extra > 0:
                wide[visited[-1]] = extra
            cut = page.evaluate(CLIPPED)
            if cut:
                clipped[visited[-1]] = cut
        context.close()
    print("\n200 % zoom, pages visited:\n  " + "\n  ".join(visited))
    assert len(visited) == sum(len(addresses) for addresses in page_types(world).values())
    assert wide == {}
    assert clipped == {}
    # The check does find a box that cuts its text off: its silence above means something.
    page = new_context().new_page()
    page.set_content(
        '<p style="width: 5rem; overflow: hidden; white-space: nowrap">' + "mot " * 20 + "</p>"
    )
    assert page.evaluate(CLIPPED) == ["p"]
