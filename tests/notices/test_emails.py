"""Every kind of notice e-mail, in both languages, done properly: multipart text and HTML
in the recipient's language, no tracking (no image, every link straight to its page on
this site), RFC 8058's one-click unsubscribe for its own kind, and a footer saying why it
came. One story makes a notice of every kind; each is built as the worker builds it."""

import re
from datetime import timedelta
from email import message_from_bytes
from email.policy import SMTP

import pytest
from django.conf import settings
from django.utils import timezone

from consultation.models import Consultation, Membership, Notice, Rule, Vote
from consultation.moderation import appeals, decisions, reports
from consultation.notices import audience, delivery, personal_results, sending, unsubscribe
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.notices.stage import published_with
from tests.support.accounts import enable_totp

pytestmark = pytest.mark.django_db
LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
URL = re.compile(r"https?://[^\s<>\"')]+")


def old(make_user, *args, **kwargs):
    user = make_user(*args, **kwargs)
    user.date_joined = timezone.now() - timedelta(days=30)
    user.save(update_fields=["date_joined"])
    return user


@pytest.fixture
def every_kind(make_user, moderator, organiser, settings):
    """A notice of each kind for ``reader`` (in ``language``), built by the real events."""

    def make(language):
        settings.OPEN_DATA_MIN_GROUP = 1
        reader = old(make_user, preferred_language=language)
        consultation = make_consultation(organiser=organiser)
        add_member(consultation, moderator, Membership.Role.MODERATOR)
        colleague = make_user()
        enable_totp(colleague)
        add_member(consultation, colleague, Membership.Role.MODERATOR)
        item = consultation.items.first()
        other = old(make_user)
        # A reply to the reader, and their comment marked useful.
        mine = debate.post_comment(reader, item, "Mon avis.")
        debate.post_comment(other, item, "Une réponse.", parent=mine)
        debate.toggle_useful(other, mine)
        # Their report upheld; a decision about them, appealed and answered.
        theirs = debate.post_comment(other, item, "Un texte insultant.")
        reports.report_comment(reader, theirs, Rule.INSULT)
        decisions.hide(moderator, theirs, Rule.INSULT)
        decision = decisions.hide(moderator, mine, Rule.SPAM)
        appeals.decide(colleague, appeals.appeal(reader, decision, "Non."), grant=False, reason="…")
        # What happens to a consultation they follow, and their personal results.
        voting.cast_vote(reader, item, "for")
        published, publication, _emails = published_with(2)
        voting_in = published.items.order_by("position").first()
        Vote.objects.create(item=voting_in, user=reader, choice="for")
        for kind in (audience.OPENED, audience.CLOSING, audience.CLOSED_EARLY):
            Consultation.objects.filter(pk=consultation.pk).update(closing_reason="Trop tôt.")
            consultation.refresh_from_db()
            facts = audience.notice_for(kind, consultation)
            sending.notify(reader, kind, consultation=consultation, data=facts["data"])
        for kind in (audience.RESULTS, audience.PERSONAL_RESULTS):
            facts = audience.notice_for(kind, published, publication)
            data = {**facts["data"], "items": [voting_in.pk]}
            sending.notify(reader, kind, consultation=published, data=data, url=facts["url"])
        return reader, list(Notice.objects.filter(user=reader).order_by("pk"))

    return make


def built(notice):
    """The e-mail as the worker sends it, and as the SMTP server receives it."""
    email = delivery._build(notice, personal_results.prepare([notice]))
    raw = email.message(policy=SMTP).as_bytes()
    return email, message_from_bytes(raw), raw


@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_kind_of_notice_email_is_multipart_untracked_and_unsubscribable(every_kind, language):
    reader, notices = every_kind(language)
    assert {n.kind for n in notices} == set(Notice.Kind.values)
    for notice in notices:
        email, parsed, raw = built(notice)
        what = f"{notice.kind} ({language})"
        assert parsed.is_multipart(), what
        parts = [part.get_content_type() for part in parsed.walk()][1:]
        assert parts == ["text/plain", "text/html"], what
        html = email.alternatives[0][0]
        assert f'<html lang="{language}"' in html, what
        # No tracking: no image at all, and every link straight to a page of this site
        # (never through a redirecting address such as the notice's own page).
        assert "<img" not in html.lower() and "url(" not in html.lower(), what
        for link in LINK.findall(html) + URL.findall(email.body):
            assert link.startswith(settings.SITE_URL + "/"), (what, link)
            assert f"/notifications/{notice.pk}/" not in link, (what, link)
        # The one-click unsubscribe is for this person and this kind, and the footer
        # says why (the link is signed with its time: read it rather than compare it).
        header = parsed["List-Unsubscribe"]
        assert header.startswith(f"<{settings.SITE_URL}/notifications/desabonnement/"), what
        link = header[1:-1]
        subscription = unsubscribe.read(link.rstrip("/").rsplit("/", 1)[1])
        assert (subscription.user, subscription.kinds) == (reader, [notice.kind]), what
        assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click", what
        reason = "You receive this e-mail because" if language == "en" else "Vous recevez"
        for body in (email.body, html):
            assert link in body, what
            assert reason in body, what
        assert parsed["Message-ID"] == delivery.message_id(notice), what
        assert b"\r\nAuto-Submitted: auto-generated\r\n" in raw, what
