"""Notices: the counter in the menu, the notices page, reading one by following its link
or marking it, and the e-mail in the reader's language."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Membership, Notice, Rule
from consultation.moderation import decisions, reports
from consultation.participation import debate
from tests.factories import add_member, make_consultation
from tests.support.accounts import login
from tests.support.html import problems

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(make_user, moderator):
    consultation = make_consultation()
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    item = consultation.items.first()
    author = make_user("alex@example.org", display_name="Alex", preferred_language="en")
    comment = debate.post_comment(author, item, "Un commentaire grossier.")
    return consultation, item, author, comment


def browser(user=None, language="en"):
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        login(client, user)
    return client


def menu_link(content: str) -> str:
    """The text of the menu's link to the notices page, tags removed: its accessible name."""
    nav = re.search(r'<nav class="main-nav".*?</nav>', content, re.S).group(0)
    link = re.search(rf'<a href="{reverse("notices:list")}"[^>]*>(.*?)</a>', nav, re.S)
    assert link, "no notices link in the menu"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", link.group(1))).strip()


def test_the_menu_counts_unread_notices_in_the_links_name(place, moderator):
    _consultation, item, author, comment = place
    client = browser(author)
    assert menu_link(client.get(item.get_absolute_url()).content.decode()) == "Notifications"
    decisions.hide(moderator, comment, Rule.SPAM)
    decisions.lock(moderator, comment, Rule.SPAM)
    page = client.get(item.get_absolute_url())
    assert menu_link(page.content.decode()) == "Notifications (2 unread)"
    assert problems(page.content) == []
    french = browser(author, language="fr").get(item.get_absolute_url()).content.decode()
    assert menu_link(french) == "Notifications (2 non lues)"
    # Visitors have no notices, and no link to them.
    assert reverse("notices:list") not in browser().get(item.get_absolute_url()).content.decode()


def test_following_a_notices_link_reads_it(place, moderator):
    _consultation, _item, author, comment = place
    decision = decisions.hide(moderator, comment, Rule.SPAM)
    notice = Notice.objects.get(user=author)
    client = browser(author)
    page = client.get(reverse("notices:list"))
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    assert "Your comment was hidden by moderation" in content
    open_url = reverse("notices:open", kwargs={"notice_id": notice.pk})
    assert f'href="{open_url}"' in content

    response = client.get(open_url)
    decision_url = reverse("moderation_public:decision", kwargs={"decision_id": decision.pk})
    assert response.status_code == 302 and response["Location"] == decision_url
    notice.refresh_from_db()
    assert notice.read_at is not None
    assert menu_link(client.get(decision_url).content.decode()) == "Notifications"


def test_the_link_in_the_e_mail_reads_the_notice_too(place, moderator):
    _consultation, _item, author, comment = place
    decision = decisions.hide(moderator, comment, Rule.SPAM)
    client = browser(author)
    client.get(reverse("moderation_public:decision", kwargs={"decision_id": decision.pk}))
    assert Notice.objects.get(user=author).read_at is not None


def test_notices_are_marked_read_one_at_a_time_or_all_at_once(place, moderator, citizen):
    _consultation, _item, author, comment = place
    reports.report_comment(citizen, comment, Rule.SPAM)  # the citizen: "report received"
    decisions.hide(moderator, comment, Rule.SPAM)  # the citizen: "upheld"
    first, second = Notice.objects.filter(user=citizen).order_by("pk")
    client = browser(citizen)
    page = client.get(reverse("notices:list")).content.decode()
    assert "Your report was received" in page and "2 unread notifications." in page

    response = client.post(reverse("notices:mark_read"), {"notice": first.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('notices:list')}#notice-{first.pk}"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None

    # Garbage marks nothing; no notice named marks them all.
    client.post(reverse("notices:mark_read"), {"notice": ["abc", "9" * 40]})
    second.refresh_from_db()
    assert second.read_at is None
    client.post(reverse("notices:mark_read"))
    second.refresh_from_db()
    assert second.read_at is not None
    assert Notice.objects.get(user=author).read_at is None  # someone else's stays unread


def test_nobody_opens_or_marks_someone_elses_notice(place, moderator, citizen):
    _consultation, _item, author, comment = place
    decisions.hide(moderator, comment, Rule.SPAM)
    notice = Notice.objects.get(user=author)
    client = browser(citizen)
    assert client.get(reverse("notices:open", kwargs={"notice_id": notice.pk})).status_code == 404
    client.post(reverse("notices:mark_read"), {"notice": notice.pk})
    notice.refresh_from_db()
    assert notice.read_at is None
    response = browser().get(reverse("notices:open", kwargs={"notice_id": notice.pk}))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_a_notice_never_sends_its_reader_off_site(place):
    author = place[2]
    notice = Notice.objects.create(
        user=author, kind=Notice.Kind.REPORT, data={}, url="https://elsewhere.example/"
    )
    response = browser(author).get(reverse("notices:open", kwargs={"notice_id": notice.pk}))
    assert response["Location"] == f"{reverse('notices:list')}#notice-{notice.pk}"


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("language", "subject"),
    [
        ("en", "Your comment was hidden by moderation"),
        ("fr", "Votre commentaire a été masqué par la modération"),
    ],
)
def test_the_author_is_mailed_in_their_language(
    make_user,
    moderator,
    mailbox,
    celery_worker,
    django_capture_on_commit_callbacks,
    language,
    subject,
):
    consultation = make_consultation()
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    author = make_user("lea@example.org", display_name="Léa", preferred_language=language)
    comment = debate.post_comment(author, consultation.items.first(), "Un commentaire.")
    with django_capture_on_commit_callbacks(execute=True):
        decision = decisions.hide(moderator, comment, Rule.SPAM, "Pas de publicité.")
    [mail] = mailbox.wait_for("lea@example.org")
    assert subject in mail["subject"]
    assert "Pas de publicité." in mail["body"]
    path = reverse("moderation_public:decision", kwargs={"decision_id": decision.pk})
    assert path in mail["body"] and path in mail["html"]


def test_visitors_are_sent_to_log_in(place):
    for method, name in (("get", "notices:list"), ("post", "notices:mark_read")):
        response = getattr(browser(), method)(reverse(name))
        assert response.status_code == 302, name
        assert response["Location"].split("?")[0] == reverse("account_login"), name
