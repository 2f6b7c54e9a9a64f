"""The anonymous page cache (config/page_cache.py, decision 0039): public pages are served
whole to visitors who are not signed in, and nothing of one person reaches another — a
language, a signed-in person's page, a CSRF token, a message, a cookie — and a change the
domain commits shows on the very next anonymous visit, while a rolled-back one changes
nothing."""

import re

import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.test import Client
from django.urls import reverse

from config import page_cache
from config.cache import degradable
from consultation.models import Membership, Rule, Vote
from consultation.moderation import decisions
from consultation.participation import debate, voting
from tests.factories import add_member, close, make_consultation, publish_now
from tests.support.accounts import login

# Commits must happen for the domain's after-commit hooks to run.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("page_cache_on")]

SECURITY_HEADERS = (
    "Content-Security-Policy",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
)


@pytest.fixture
def place(organiser, moderator):
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    published = make_consultation(organiser=organiser)
    publish_now(published, organiser)
    return consultation, consultation.items.order_by("position", "id").first(), published


def public_pages(consultation, item, published) -> dict[str, str]:
    slug = {"slug": consultation.slug}
    return {
        "home": reverse("home"),
        "list": reverse("consultation:list"),
        "methods": reverse("consultation:methods"),
        "consultation": reverse("consultation:detail", kwargs=slug),
        "measure": reverse("consultation:item", kwargs={**slug, "item_id": item.pk}),
        "results": reverse("consultation:results", kwargs={"slug": published.slug}),
        "moderation log": reverse("moderation_public:log", kwargs=slug),
    }


def votes_shown(content: bytes) -> int:
    found = re.search(rb'data-live="participation.votes">(\d+)<', content)
    assert found is not None
    return int(found.group(1))


def test_every_public_page_is_served_whole_to_anonymous_visitors_with_its_security_headers(
    place,
):
    for name, url in public_pages(*place).items():
        first = Client().get(url)
        again = Client().get(url)
        assert first.status_code == again.status_code == 200, name
        assert first[page_cache.HEADER] == "miss", name
        assert again[page_cache.HEADER] == "hit", name
        assert again.content == first.content, name
        for answer in (first, again):
            assert not answer.cookies, (name, answer.cookies)  # no cookie, CSRF or other
            assert b"csrfmiddlewaretoken" not in answer.content, name
            for header in SECURITY_HEADERS:
                assert answer.has_header(header), (name, header)


def test_a_language_never_reaches_a_visitor_who_asked_for_another(place):
    url = public_pages(*place)["consultation"]
    french = Client().get(url)
    english = Client(headers={"accept-language": "en"}).get(url)
    english_by_cookie = Client()
    english_by_cookie.cookies["django_language"] = "en"
    assert b'<html lang="fr"' in french.content
    assert b'<html lang="en"' in english.content
    assert english[page_cache.HEADER] == "miss"  # not the French copy
    by_cookie = english_by_cookie.get(url)
    assert b'<html lang="en"' in by_cookie.content and by_cookie[page_cache.HEADER] == "hit"
    assert b'<html lang="fr"' in Client().get(url).content


def test_a_signed_in_person_neither_gets_nor_leaves_a_copy(place, citizen):
    _consultation, item, _published = place
    url = public_pages(*place)["measure"]
    assert Client().get(url)[page_cache.HEADER] == "miss"
    mine = login(Client(), citizen).get(url)
    assert page_cache.HEADER not in mine  # rendered for her, not the anonymous copy
    signed_in_menu = reverse("account_logout").encode()  # her menu: "Log out"
    assert signed_in_menu in mine.content
    assert b"csrfmiddlewaretoken" in mine.content  # her forms, with her token
    voting.cast_vote(citizen, item, Vote.Choice.FOR)
    login(Client(), citizen).get(url)  # her page after her vote, rendered again
    anonymous = Client().get(url)
    assert signed_in_menu not in anonymous.content
    assert b"csrfmiddlewaretoken" not in anonymous.content
    assert not anonymous.cookies


def test_a_message_for_one_visitor_is_never_served_to_another(place, citizen):
    url = public_pages(*place)["home"]
    client = login(Client(), citizen)
    client.post(reverse("account_logout"))  # "You have signed out." waits for the next page
    shown = client.get(url)
    assert b'class="messages"' in shown.content
    assert page_cache.HEADER not in shown  # rendered for this visitor, not stored
    other = Client().get(url)
    assert b'class="messages"' not in other.content


def test_an_answer_with_a_token_a_cookie_a_message_or_a_person_is_not_stored(rf, citizen):
    """What the conditions on the request cannot see (a view that renders a form with a
    token, sets a cookie or queues a message) is still never stored."""
    plain = rf.get("/")
    assert page_cache._storable(plain, HttpResponse("page"))
    with_token = rf.get("/")
    get_token(with_token)
    assert not page_cache._storable(with_token, HttpResponse("page"))
    with_cookie = HttpResponse("page")
    with_cookie.set_cookie("choice", "1")
    assert not page_cache._storable(rf.get("/"), with_cookie)
    with_message = rf.get("/")
    with_message.session = {}
    with_message._messages = FallbackStorage(with_message)
    with_message._messages.add(20, "Saved.")
    assert not page_cache._storable(with_message, HttpResponse("page"))
    signed_in = rf.get("/")
    signed_in.user = citizen
    assert not page_cache._storable(signed_in, HttpResponse("page"))
    private = HttpResponse("page")
    private["Cache-Control"] = "private"
    assert not page_cache._storable(rf.get("/"), private)


def test_a_vote_and_a_comment_show_on_the_next_anonymous_visit(place, make_user):
    consultation, item, published = place
    pages = public_pages(consultation, item, published)
    before = Client().get(pages["consultation"])
    assert Client().get(pages["consultation"])[page_cache.HEADER] == "hit"
    voting.cast_vote(make_user(), item, Vote.Choice.FOR)
    after = Client().get(pages["consultation"])
    assert after[page_cache.HEADER] == "miss"
    assert votes_shown(after.content) == votes_shown(before.content) + 1
    Client().get(pages["measure"])
    debate.post_comment(make_user(), item, "Une idée toute neuve.")
    assert "Une idée toute neuve." in Client().get(pages["measure"]).content.decode()


def test_a_decision_a_closing_and_a_publication_show_on_the_next_anonymous_visit(
    place, make_user, moderator, organiser
):
    consultation, item, published = place
    pages = public_pages(consultation, item, published)
    comment = debate.post_comment(make_user(), item, "Achetez mes montres.")
    for url in pages.values():
        Client().get(url)
    decisions.hide(moderator, comment, Rule.SPAM, "Publicité.")
    log = Client().get(pages["moderation log"])
    assert log[page_cache.HEADER] == "miss"
    assert "Achetez mes montres." not in Client().get(pages["measure"]).content.decode()

    assert consultation.get_absolute_url().encode() in Client().get(pages["home"]).content
    close(consultation)
    assert consultation.get_absolute_url().encode() not in Client().get(pages["home"]).content
    assert Client().get(pages["consultation"])[page_cache.HEADER] == "miss"

    results_url = reverse("consultation:results", kwargs={"slug": consultation.slug})
    assert b"v1" not in Client().get(results_url).content
    publish_now(consultation, organiser)
    assert Client().get(results_url)[page_cache.HEADER] == "miss"


def test_a_rolled_back_write_leaves_the_copies_and_their_version_alone(place, make_user):
    consultation, item, published = place
    url = public_pages(consultation, item, published)["consultation"]
    copy = Client().get(url).content
    key = page_cache.consultation_version_key(consultation.slug)
    version = degradable().get(key, 0)
    voter = make_user()
    with pytest.raises(RuntimeError), transaction.atomic():
        voting.cast_vote(voter, item, Vote.Choice.FOR)
        # Not before the commit: a visit now would copy the data before the write
        # under the new version, and serve it after the commit.
        assert degradable().get(key, 0) == version
        raise RuntimeError("the rest of the write failed")
    assert degradable().get(key, 0) == version
    again = Client().get(url)
    assert again[page_cache.HEADER] == "hit" and again.content == copy
    assert not Vote.objects.filter(user=voter).exists()


def test_a_useful_mark_shows_on_the_next_anonymous_visit(place, make_user):
    consultation, item, published = place
    url = public_pages(consultation, item, published)["measure"]
    comment = debate.post_comment(make_user(), item, "Un argument solide.")
    english = Client(headers={"accept-language": "en"})
    assert "0 people found this useful" in english.get(url).content.decode()
    debate.toggle_useful(make_user(), comment)
    assert "1 person found this useful" in english.get(url).content.decode()


def test_a_copy_is_compressed_for_a_visitor_who_accepts_it_and_plain_for_one_who_does_not(
    place,
):
    """The cache keeps a page as rendered; compression (decision 0038) happens on the way
    out, so a copy made for one kind of visitor serves the other as well."""
    import gzip

    url = public_pages(*place)["consultation"]
    plain = Client().get(url)
    zipped = Client(headers={"accept-encoding": "gzip"}).get(url)
    assert zipped[page_cache.HEADER] == "hit"
    assert zipped["Content-Encoding"] == "gzip" and not plain.has_header("Content-Encoding")
    assert gzip.decompress(zipped.content) == plain.content
    assert Client().get(url).content == plain.content
