"""Light pages (issue 15, eco-design): each page type on a first visit, measured by
Chromium itself — bytes on the wire (compressed, images excluded), JavaScript, requests —
and nothing asked of another host. The figures go to docs/performance.md ("Page weight").

A page type over its budget today is listed in ``OVER_BUDGET`` with its figure: the test
fails if another page goes over, and if a listed page fits (take it off the list)."""

import random

import pytest
from django.urls import reverse

from tests.factories import make_consultation, publish_now, take_part

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BUDGET_BYTES = 60 * 1024  # transferred, compressed, images excluded
BUDGET_JS_BYTES = 25 * 1024
BUDGET_REQUESTS = 15


def weigh(page, address):
    """What a first visit to ``address`` costs: bytes, JavaScript bytes, requests, and
    the addresses of other hosts it asked for."""
    seen = []

    def finished(request):
        seen.append(request)

    page.on("requestfinished", finished)
    page.goto(address)
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", finished)
    origin = page.url.split("/")[2]
    total = js = 0
    elsewhere = []
    for request in seen:
        if request.url.split("/")[2] != origin:
            elsewhere.append(request.url)
        sizes = request.sizes()
        size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
        if request.resource_type == "image":
            continue
        total += size
        if request.resource_type == "script":
            js += size
    return {"bytes": total, "js": js, "requests": len(seen), "elsewhere": elsewhere}


@pytest.fixture
def world(make_user, organiser, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    # Results broken down as a consultation with many participants would have them.
    settings.OPEN_DATA_MIN_GROUP = 1
    rng = random.Random(7)
    small = make_consultation(items=6, organiser=organiser)
    big = make_consultation(items=58, ranking_size=5, organiser=organiser)
    people = [make_user() for _ in range(8)]
    for person in people:
        take_part(person, small, rng=rng)
    published = make_consultation(items=6, organiser=organiser)
    for person in people:
        take_part(person, published, rng=rng)
    publish_now(published, organiser)
    published_big = make_consultation(items=58, ranking_size=5, organiser=organiser)
    for person in people:
        take_part(person, published_big, rng=rng)
    publish_now(published_big, organiser)
    return {
        "small": small,
        "big": big,
        "published": published,
        "published_big": published_big,
        "citizen": people[0],
    }


def pages(world):
    small, big, published = world["small"], world["big"], world["published"]
    ranking = "consultation:ranking"
    big_results = reverse("consultation:results", kwargs={"slug": world["published_big"].slug})
    return [
        ("home", reverse("home"), False),
        ("list", reverse("consultation:list"), False),
        ("consultation", small.get_absolute_url(), False),
        ("consultation, 58 items", big.get_absolute_url(), False),
        ("consultation, 58 items, logged in", big.get_absolute_url(), True),
        ("item", small.items.first().get_absolute_url(), False),
        ("item, logged in", small.items.first().get_absolute_url(), True),
        ("ranking, logged in", reverse(ranking, kwargs={"slug": small.slug}), True),
        ("ranking, 58 items, logged in", reverse(ranking, kwargs={"slug": big.slug}), True),
        ("methods", reverse("consultation:methods"), False),
        ("results", reverse("consultation:results", kwargs={"slug": published.slug}), False),
        ("results, 58 items", big_results, False),
        ("results, 58 items, logged in", big_results, True),
    ]


# Over budget when this test was written (figures in docs/performance.md). HTML is sent
# compressed to visitors only (decision 0038): a logged-in person's 58-item results come
# uncompressed, every method's tables at full size (Schulze's two 58 × 58 matrices, the
# rounds of instant-runoff).
OVER_BUDGET = {"results, 58 items, logged in"}


def test_every_page_type_fits_its_budget_on_a_first_visit(new_context, world, record_property):
    figures = {}
    for name, address, logged_in in pages(world):
        context = new_context(world["citizen"] if logged_in else None)
        figures[name] = weigh(context.new_page(), address)
        context.close()
    report = "\n".join(
        f"{name}: {f['bytes'] / 1024:.1f} KB, JS {f['js'] / 1024:.1f} KB, {f['requests']} requests"
        for name, f in figures.items()
    )
    print("\nPage weights (first visit):\n" + report)
    record_property("page_weights", report)
    assert {name: f["elsewhere"] for name, f in figures.items() if f["elsewhere"]} == {}
    over = {
        name
        for name, f in figures.items()
        if f["bytes"] > BUDGET_BYTES or f["js"] > BUDGET_JS_BYTES or f["requests"] > BUDGET_REQUESTS
    }
    assert over - OVER_BUDGET == set(), report
    # A page listed as over budget that now fits is good news: take it off the list.
    assert OVER_BUDGET - over == set(), report
