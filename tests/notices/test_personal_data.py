"""Notices in "my data": the export holds one's notices, follows and notification
settings; deleting the account removes them, and nobody else's."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from accounts import lifecycle, privacy
from consultation.models import Channel, Follow, Notice, NoticeSettings
from consultation.notices import follows, preferences
from consultation.participation import debate, voting
from tests.factories import make_consultation
from tests.support.accounts import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def story(make_user):
    """Léa votes, comments, follows an item, unfollows a consultation, chooses a daily
    digest for replies, and gets a reply and a "useful" mark from Noé."""
    consultation = make_consultation()
    other = make_consultation()
    item = consultation.items.first()
    lea = make_user("lea@example.org", display_name="Léa")
    noe = make_user("noe@example.org", display_name="Noé")
    voting.cast_vote(lea, item, "for")
    mine = debate.post_comment(lea, item, "Mon avis.")
    follows.follow(lea, consultation=consultation, item=item)
    follows.unfollow(lea, consultation=other)
    preferences.save(lea, {"reply": Channel.DAILY}, show_own_choices=True)
    debate.post_comment(noe, item, "Une réponse.", parent=mine)
    debate.toggle_useful(noe, mine)
    return consultation, other, item, mine, lea, noe


def test_the_export_holds_notices_follows_and_settings(story):
    consultation, other, item, mine, lea, _noe = story
    data = privacy.export_all(lea)["notices"]
    assert [(n["kind"], n["consultation"], n["email"]) for n in data["notices"]] == [
        ("reply", consultation.slug, "digest"),
        ("useful", consultation.slug, "none"),
    ]
    assert data["notices"][0]["url"].endswith(f"#comment-{data['notices'][0]['data']['comment']}")
    assert [
        (f["consultation"], f["item"], f["comment"], f["active"], f["reason"])
        for f in data["follows"]
    ] == [
        (consultation.slug, None, None, True, "participation"),
        (consultation.slug, None, mine.pk, True, "participation"),
        (consultation.slug, item.pk, None, True, "explicit"),
        (other.slug, None, None, False, "explicit"),
    ]
    assert data["settings"]["chosen"] == {"reply": "daily"}
    assert data["settings"]["channels"]["reply"] == "daily"
    assert data["settings"]["channels"]["results"] == "email"
    assert data["settings"]["show_own_choices"] is True
    # Nobody else in it: not who replied, not who found it useful.
    text = json.dumps(data, ensure_ascii=False)
    assert "Noé" not in text and "noe@" not in text
    # Moderation's section no longer repeats the notices.
    assert "notices" not in privacy.export_all(lea)["moderation"]


def test_the_my_data_download_carries_the_section(story):
    lea = story[4]
    client = Client()
    login(client, lea)
    payload = json.loads(client.get(reverse("accounts:my_data_download")).content)
    assert len(payload["notices"]["follows"]) == 4


def test_deleting_the_account_removes_them_and_nobody_elses(story, make_user):
    consultation, _other, _item, _mine, lea, noe = story
    follows.follow(noe, consultation=consultation)
    preferences.save(noe, {"useful": Channel.EMAIL})
    kept = {
        "notices": Notice.objects.filter(user=noe).count(),
        "follows": Follow.objects.filter(user=noe).count(),
    }
    lea_pk = lea.pk
    lifecycle.delete_account(lea)
    assert not Notice.objects.filter(user_id=lea_pk).exists()
    assert not Follow.objects.filter(user_id=lea_pk).exists()
    assert not NoticeSettings.objects.filter(user_id=lea_pk).exists()
    assert Notice.objects.filter(user=noe).count() == kept["notices"]
    assert Follow.objects.filter(user=noe).count() == kept["follows"] > 0
    assert preferences.channels(noe)["useful"] == "email"


def test_the_erasure_itself_removes_them_even_before_the_account_goes(story):
    from consultation.notices import personal_data

    lea = story[4]
    personal_data.erase(lea)
    assert privacy.export_all(lea)["notices"] == {
        "notices": [],
        "follows": [],
        "settings": {
            "channels": preferences.DEFAULTS,
            "chosen": {},
            "show_own_choices": False,
            "daily_digest_at": None,
            "weekly_digest_at": None,
        },
    }


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            [
                "What you follow (consultations, items, comment threads)",
                "Your notification settings:",
                "Your notifications (replies to your comments",
                "no tracking image and no redirecting link",
                "What you follow, your notification settings and your notifications are deleted",
            ],
        ),
        (
            "fr",
            [
                "Ce que vous suivez (consultations, propositions, fils de commentaires)",
                "Vos réglages de notifications :",
                "Vos notifications (réponses à vos commentaires",
                "aucune image de pistage ni aucun lien de redirection",
                "Ce que vous suivez, vos réglages de notifications et vos notifications sont "
                "supprimés",
            ],
        ),
    ],
)
def test_the_privacy_page_says_what_follows_settings_and_notices_hold(language, words):
    browser = Client()
    browser.cookies["django_language"] = language
    page = browser.get(reverse("privacy")).content.decode()
    for sentence in words:
        assert sentence.replace("’", "&#x27;").replace("'", "&#x27;") in page or sentence in page
