"""``GET /items/{id}/comments``, a page at a time: threads by cursor, sorts, search, the
rest of a thread by its ``more_replies`` cursor, refusals of a bad cursor, and the bare
list it answered before (for scripts that send none of the new parameters)."""

from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consultation.models import Comment
from consultation.participation import debate
from tests.consultation.test_thread_pages import seed
from tests.factories import make_consultation
from tests.support.api import API

pytestmark = pytest.mark.django_db


@pytest.fixture
def item():
    return make_consultation().items.first()


def roots_of(body):
    return [c["id"] for c in body["comments"] if c["parent"] is None]


def test_pages_of_threads_follow_the_next_cursor_to_the_end(api_as, item, make_user):
    roots = seed(item, [make_user()], roots=45, replies=2)
    client = api_as()
    seen, cursor = [], None
    for _page in range(10):
        path = f"/items/{item.pk}/comments?limit=20" + (
            f"&cursor={quote(cursor)}" if cursor else ""
        )
        response = client.get(path)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"comments", "next", "previous"}
        assert len(body["comments"]) <= 20 * 3
        seen += roots_of(body)
        cursor = body["next"]
        if cursor is None:
            break
    assert seen == [root.pk for root in reversed(roots)]
    back = client.get(f"/items/{item.pk}/comments?limit=20&cursor={quote(body['previous'])}")
    assert roots_of(back.json()) == seen[20:40]


def test_a_root_says_how_many_replies_it_has_and_where_the_rest_are(api_as, item, make_user):
    [root] = seed(item, [make_user(), make_user()], roots=1, replies=12)
    client = api_as()
    body = client.get(f"/items/{item.pk}/comments?limit=5").json()
    first, *replies = body["comments"]
    assert first["id"] == root.pk and first["reply_count"] == 12
    assert len(replies) == 5 and all(c["depth"] > 0 for c in replies)
    assert all(c["reply_count"] is None and c["more_replies"] is None for c in replies)
    rest = client.get(f"/items/{item.pk}/comments?cursor={quote(first['more_replies'])}").json()
    everything = set(Comment.objects.filter(item=item).values_list("pk", flat=True))
    assert {c["id"] for c in replies + rest["comments"]} == everything - {root.pk}
    assert rest["next"] is None and rest["previous"] is not None
    by_four = client.get(
        f"/items/{item.pk}/comments?limit=4&cursor={quote(first['more_replies'])}"
    ).json()
    assert [c["id"] for c in by_four["comments"]] == [c["id"] for c in rest["comments"]][:4]
    assert by_four["next"] is not None


def test_sorting_by_most_replied_and_searching(api_as, item, citizen, make_user):
    other = make_user()
    quiet = debate.post_comment(citizen, item, "Sans réponse sur le vélo", "for")
    busy = debate.post_comment(citizen, item, "Discutée", "against")
    reply = debate.post_comment(other, item, "Le VELO, oui", "neutral", busy)
    client = api_as()
    ranked = client.get(f"/items/{item.pk}/comments?sort=replies&limit=10").json()
    assert roots_of(ranked) == [busy.pk, quiet.pk]
    found = client.get(f"/items/{item.pk}/comments?q={quote('vélo')}").json()
    assert [(c["id"], c["depth"]) for c in found["comments"]] == [(reply.pk, 0), (quiet.pk, 0)]
    assert found["next"] is None


@pytest.mark.parametrize(
    "query",
    [
        "cursor=nonsense",
        "cursor=eyJ2IjoxfQ%3Aabc",
        "cursor=%C3%A9%3A%C3%A9",
        "cursor=" + "a" * 400,
    ],
)
def test_a_cursor_that_is_not_ours_is_a_422_bad_cursor(api_as, item, query):
    response = api_as().get(f"/items/{item.pk}/comments?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "bad_cursor"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=51", "limit=abc", "cursor=" + "a" * 501, "q=%00", "sort=best"]
)
def test_out_of_range_parameters_are_invalid_input(api_as, item, query):
    response = api_as().get(f"/items/{item.pk}/comments?{query}")
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


def test_a_cursor_of_one_sort_is_refused_for_another(api_as, item, make_user):
    seed(item, [make_user()], roots=5)
    client = api_as()
    cursor = client.get(f"/items/{item.pk}/comments?limit=2").json()["next"]
    response = client.get(f"/items/{item.pk}/comments?limit=2&sort=useful&cursor={quote(cursor)}")
    assert response.status_code == 422 and response.json()["code"] == "bad_cursor"


def test_without_the_new_parameters_the_answer_is_still_a_bare_list(api_as, item, make_user):
    roots = seed(item, [make_user()], roots=55, replies=1)
    response = api_as().get(f"/items/{item.pk}/comments?sort=oldest")
    body = response.json()
    assert isinstance(body, list)
    assert [c["id"] for c in body if c["parent"] is None] == [root.pk for root in roots[:50]]
    assert all(c["depth"] == 1 for c in body if c["parent"] is not None)
    link = response["Link"]
    assert link.startswith(f"<{API}/items/{item.pk}/comments?") and link.endswith('>; rel="next"')
    rest = api_as().get(link[1:].split(">")[0].removeprefix(API)).json()
    assert roots_of(rest) == [root.pk for root in roots[50:]]
    small = make_consultation().items.first()
    seed(small, [make_user()], roots=3)
    assert "Link" not in api_as().get(f"/items/{small.pk}/comments")


@pytest.mark.parametrize("query", ["limit=20", "limit=20&sort=replies", "q=racine"])
def test_a_page_costs_the_same_queries_for_5_or_60_threads(api_as, citizen, make_user, query):
    small, large = make_consultation(items=2).items.all()
    authors = [citizen, make_user()]
    seed(small, authors, roots=5, replies=3)
    seed(large, authors, roots=60, replies=3)
    client = api_as(citizen)

    def cost(item):
        client.get(f"/items/{item.pk}/comments?{query}")
        with CaptureQueriesContext(connection) as captured:
            assert client.get(f"/items/{item.pk}/comments?{query}").status_code == 200
        return len(captured.captured_queries)

    assert cost(small) == cost(large)
