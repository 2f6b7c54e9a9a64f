"""E-mail done properly: every notice e-mail carries RFC 8058's one-click unsubscribe and a
footer saying why it came; the signed link works without login, for its kind and its
person only; a bad or expired link gets a clear 400 page."""

import email.policy
import time
from email import message_from_bytes

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.urls import reverse

from consultation.models import Channel, Membership, Notice, Rule
from consultation.moderation import decisions
from consultation.notices import message, preferences, sending, unsubscribe
from consultation.participation import debate
from tests.factories import add_member, make_consultation
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def reply_notice(make_user, language="en"):
    item = make_consultation().items.first()
    author = make_user(preferred_language=language)
    root = debate.post_comment(author, item, "Premier.")
    debate.post_comment(make_user(), item, "Réponse.", parent=root)
    return author, Notice.objects.get(user=author)


def path_of(link: str) -> str:
    assert link.startswith(settings.SITE_URL)
    return link[len(settings.SITE_URL) :]


def test_every_notice_email_has_the_one_click_headers_and_a_footer(make_user):
    author, notice = reply_notice(make_user)
    mail = message.build(notice, author)
    link = unsubscribe.link(author, "reply")
    # As the SMTP backend writes it: the address whole, never cut into encoded words
    # (which mail providers do not read as an address).
    raw = mail.message(policy=email.policy.SMTP).as_bytes()
    assert f"\r\nList-Unsubscribe: <{link}>\r\n".encode() in raw
    assert b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    parsed = message_from_bytes(raw)
    assert parsed["List-Unsubscribe"] == f"<{link}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["Auto-Submitted"] == "auto-generated"
    assert parsed.is_multipart()
    assert [part.get_content_type() for part in parsed.walk()][1:] == ["text/plain", "text/html"]
    html = mail.alternatives[0][0]
    for body in (mail.body, html):
        assert "you chose to hear of “Replies to my comments” by e-mail" in body
        assert link in body
        assert settings.SITE_URL + reverse("notices:settings") in body
        # No tracking: no image, every link straight to its page (none through a redirect).
        assert "<img" not in body
        assert f"/notifications/{notice.pk}/" not in body
    assert f'href="{settings.SITE_URL}{notice.url}"' in html


def test_the_footer_and_headers_are_in_the_recipients_language(make_user):
    author, notice = reply_notice(make_user, "fr")
    mail = message.build(notice, author)
    assert mail.subject == "[Agora] Quelqu’un a répondu à votre commentaire"
    assert "Se désabonner de ces e-mails :" in mail.body
    assert "« Les réponses à mes commentaires »" in mail.body
    assert mail.extra_headers["List-Unsubscribe"] == f"<{unsubscribe.link(author, 'reply')}>"


def test_the_link_works_without_login_for_its_kind_and_its_person_only(make_user):
    author, notice = reply_notice(make_user)
    someone_else = make_user()
    preferences.save(author, {"useful": Channel.EMAIL, "results": Channel.DAILY})
    url = path_of(unsubscribe.link(author, "reply"))
    visitor = Client()
    visitor.cookies["django_language"] = "en"

    page = visitor.get(url)
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    assert "Stop receiving the e-mails about “Replies to my comments”?" in content
    assert f'<form method="post" action="{url}">' in content
    assert preferences.channel(author, "reply") == Channel.EMAIL  # a GET changes nothing

    done = visitor.post(url)
    assert done.status_code == 200 and problems(done.content) == []
    assert "You will no longer receive the e-mails about" in done.content.decode()
    assert preferences.channels(author) == {
        **preferences.DEFAULTS,
        "reply": Channel.SITE,
        "useful": Channel.EMAIL,
        "results": Channel.DAILY,
    }
    assert preferences.channels(someone_else) == preferences.DEFAULTS
    # Twice is harmless; the notices stay on the site; the next reply is not mailed.
    assert visitor.post(url).status_code == 200
    assert Notice.objects.filter(pk=notice.pk).exists()
    later = sending.notify(author, "reply", consultation=None, data={})
    assert later.email == Notice.Email.NONE


def test_the_one_click_post_needs_no_csrf_token_but_other_forms_still_do(make_user, citizen):
    author, _notice = reply_notice(make_user)
    url = path_of(unsubscribe.link(author, "reply"))
    mail_provider = Client(enforce_csrf_checks=True)
    response = mail_provider.post(
        url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert preferences.channel(author, "reply") == Channel.SITE
    # CSRF stays on everywhere else in the notices.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(citizen)
    consultation = make_consultation()
    refused = browser.post(reverse("notices:follow"), {"consultation": consultation.slug})
    assert refused.status_code == 403


def test_a_moderation_link_stops_the_email_and_keeps_the_notice_on_the_site(make_user, moderator):
    consultation = make_consultation()
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    author = make_user(preferred_language="en")
    comment = debate.post_comment(author, consultation.items.first(), "Un avis.")
    decisions.hide(moderator, comment, Rule.SPAM)
    notice = Notice.objects.get(user=author, kind="moderation")
    assert notice.email == Notice.Email.PENDING
    link = path_of(message.build(notice, author).extra_headers["List-Unsubscribe"][1:-1])
    Client().post(link)
    assert preferences.channel(author, "moderation") == Channel.SITE
    # The next decision is still told on the site, not by e-mail.
    decisions.lock(moderator, comment, Rule.SPAM)
    latest = Notice.objects.filter(user=author, kind="moderation").order_by("-pk").first()
    assert latest.pk != notice.pk and latest.email == Notice.Email.NONE
    assert "desabonnement" not in latest.url


def test_a_digest_link_stops_every_kind_that_digest_carries(citizen):
    preferences.save(citizen, {"opened": "daily", "closing": "daily", "results": "weekly"})
    url = path_of(unsubscribe.link(citizen, "digest:daily"))
    page = Client().get(url, HTTP_ACCEPT_LANGUAGE="en")
    # In the language of the e-mail it came from: the person's.
    assert "Ne plus recevoir votre récapitulatif quotidien des notifications ?" in (
        page.content.decode()
    )
    Client().post(url)
    chosen = preferences.channels(citizen)
    assert (chosen["opened"], chosen["closing"], chosen["results"]) == ("site", "site", "weekly")


def bad(client, path):
    response = client.get(path)
    assert response.status_code == 400, path
    assert problems(response.content) == []
    assert client.post(path).status_code == 400
    return response.content.decode()


def test_a_bad_or_expired_link_gets_a_clear_400_and_changes_nothing(citizen, monkeypatch):
    client = Client()
    client.cookies["django_language"] = "en"
    good = unsubscribe.make_token(citizen, "reply")

    def at(token):
        return reverse("notices:unsubscribe", kwargs={"token": token})

    content = bad(client, at(good[:-2] + ("AA" if not good.endswith("AA") else "BB")))
    assert "This unsubscribe link does not work" in content
    assert 'href="/notifications/reglages/"' in content
    # Signed with another salt (another feature's token), or naming an unknown kind.
    bad(client, at(signing.dumps({"u": citizen.pk, "k": "reply"}, compress=True)))
    bad(client, at(signing.dumps({"u": citizen.pk, "k": "all"}, salt=unsubscribe.SALT)))
    bad(client, at(signing.dumps(["reply"], salt=unsubscribe.SALT)))
    bad(client, at("not-a-token"))
    # More than a year old.
    real = time.time
    monkeypatch.setattr(signing.time, "time", lambda: real() - 400 * 24 * 3600)
    old = unsubscribe.make_token(citizen, "reply")
    monkeypatch.setattr(signing.time, "time", real)
    bad(client, at(old))
    # An account deleted since.
    other = unsubscribe.make_token(citizen, "useful")
    citizen.is_active = False
    citizen.save()
    bad(client, at(other))
    assert preferences.channels(citizen) == preferences.DEFAULTS
    # In French by default.
    assert "Ce lien de désabonnement ne fonctionne pas" in bad(Client(), at("x"))
