"""The notification settings page: a labelled channel select per kind of notice (moderation
and appeal outcomes never "never", and the page says why), whether the personal results
e-mail recalls one's own choices; French first, no JavaScript needed."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Channel, Notice, NoticeSettings
from consultation.notices import preferences, sending
from tests.factories import make_consultation
from tests.support.accounts import login
from tests.support.html import problems

pytestmark = pytest.mark.django_db


def browser(user=None, language="fr"):
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        login(client, user)
    return client


def options_of(content: str, kind: str) -> list[str]:
    select = re.search(rf'<select name="channel_{kind}".*?</select>', content, re.S)
    assert select, f"no select for {kind}"
    return re.findall(r'<option value="([a-z]+)"', select.group(0))


def selected(content: str, kind: str) -> str:
    select = re.search(rf'<select name="channel_{kind}".*?</select>', content, re.S).group(0)
    return re.search(r'<option value="([a-z]+)" selected', select).group(1)


def posted(**chosen):
    data = {f"channel_{kind}": channel for kind, channel in preferences.DEFAULTS.items()}
    data.update({f"channel_{kind}": channel for kind, channel in chosen.items()})
    return data


def test_the_page_offers_a_labelled_channel_per_kind_in_french(citizen):
    response = browser(citizen).get(reverse("notices:settings"))
    assert response.status_code == 200 and problems(response.content) == []
    content = response.content.decode()
    assert "<h1>Réglages des notifications</h1>" in content
    for kind in Notice.Kind.values:
        expected = [
            c for c in Channel.values if not (kind in ("moderation", "appeal") and c == "never")
        ]
        assert options_of(content, kind) == expected, kind
    # The defaults: replies and results by e-mail, the rest on the site.
    assert selected(content, "reply") == "email"
    assert selected(content, "results") == "email"
    assert selected(content, "useful") == "site"
    assert ">Dans un récapitulatif hebdomadaire par e-mail</option>" in content
    # Why moderation and appeals cannot be silenced, next to them.
    assert "restent toujours sur votre page de notifications" in content
    assert 'type="checkbox" name="show_own_choices"' in content
    assert "<script" not in content.split("<main", 1)[1].split("</main>", 1)[0]


def test_saving_the_page_decides_where_each_notice_goes(citizen):
    client = browser(citizen, "en")
    response = client.post(
        reverse("notices:settings"),
        posted(reply="never", useful="email", opened="daily", closing="weekly"),
    )
    assert response.status_code == 302 and response["Location"] == reverse("notices:settings")
    assert preferences.channels(citizen) == {
        **preferences.DEFAULTS,
        "reply": "never",
        "useful": "email",
        "opened": "daily",
        "closing": "weekly",
    }
    page = client.get(reverse("notices:settings")).content.decode()
    assert "Your notification settings are saved." in page
    assert selected(page, "reply") == "never" and selected(page, "closing") == "weekly"

    consultation = make_consultation()
    assert sending.notify(citizen, "reply", consultation=consultation, data={}) is None
    useful = sending.notify(citizen, "useful", consultation=consultation, data={})
    opened = sending.notify(citizen, "opened", consultation=consultation, data={})
    assert (useful.email, opened.email) == ("pending", "digest")


def test_moderation_and_appeal_outcomes_cannot_be_never(citizen):
    client = browser(citizen, "en")
    for kind in ("moderation", "appeal"):
        response = client.post(reverse("notices:settings"), posted(**{kind: "never"}))
        assert response.status_code == 422
        assert "Select a valid choice." in response.content.decode()
        assert problems(response.content) == []
    assert not NoticeSettings.objects.filter(user=citizen).exclude(channels={}).exists()
    # Nor by another way in: the domain ignores it, and the channel in force stays.
    preferences.save(citizen, {"moderation": "never", "appeal": "site"})
    assert preferences.channels(citizen)["moderation"] == "email"
    assert preferences.channels(citizen)["appeal"] == "site"
    # The e-mails may stop; the notice on the site stays.
    notice = sending.notify(citizen, "appeal", consultation=None, data={})
    assert notice is not None and notice.email == "none"


def test_recalling_ones_own_choices_is_off_until_asked_for(citizen):
    assert preferences.settings_of(citizen).show_own_choices is False
    client = browser(citizen, "en")
    client.post(reverse("notices:settings"), {**posted(), "show_own_choices": "on"})
    assert preferences.settings_of(citizen).show_own_choices is True
    page = client.get(reverse("notices:settings")).content.decode()
    assert re.search(r'<input type="checkbox" name="show_own_choices"[^>]* checked', page)
    client.post(reverse("notices:settings"), posted())
    assert preferences.settings_of(citizen).show_own_choices is False


def test_garbage_changes_nothing(citizen):
    client = browser(citizen, "en")
    response = client.post(reverse("notices:settings"), posted(reply="sometimes"))
    assert response.status_code == 422
    response = client.post(
        reverse("notices:settings"), {"channel_reply": "site"}
    )  # the rest missing
    assert response.status_code == 422
    assert preferences.channels(citizen) == preferences.DEFAULTS


def test_visitors_are_sent_to_log_in():
    for method in ("get", "post"):
        response = getattr(browser(), method)(reverse("notices:settings"))
        assert response.status_code == 302
        assert response["Location"].split("?")[0] == reverse("account_login")
