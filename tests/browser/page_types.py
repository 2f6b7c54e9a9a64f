"""Every page type, for the checks that visit them all: axe-core (test_accessibility.py)
and 200 % zoom (test_keyboard_and_preferences.py). ``page_type_world`` makes what the
pages show; ``page_types`` lists their addresses by who visits them."""

import random

from django.urls import reverse

from consultation.models import Membership, Rule
from consultation.moderation import appeals, decisions, reports
from consultation.participation import debate
from tests.factories import add_member, close, make_consultation, publish_now, take_part


def page_type_world(make_user, citizen, organiser, moderator, settings, tmp_path):
    """An open consultation with a reported, hidden and appealed comment, a published one
    and a closed one."""
    settings.MEDIA_ROOT = tmp_path
    settings.OPEN_DATA_MIN_GROUP = 1  # results broken down: their charts and tables visited
    rng = random.Random(11)
    open_one = make_consultation(items=4, organiser=organiser)
    add_member(open_one, moderator, Membership.Role.MODERATOR)
    item = open_one.items.first()
    other = debate.post_comment(make_user(), item, "Un premier avis.", "for")
    # The citizen's comment is reported, hidden by the moderator, and appealed.
    theirs = debate.post_comment(citizen, item, "Tu es un imbécile fini.")
    reports.report_comment(make_user(), theirs, Rule.INSULT)
    decision = decisions.hide(moderator, theirs, Rule.INSULT, "Critiquez les idées.")
    appeal = appeals.appeal(citizen, decision, "Je ne visais personne.")
    published = make_consultation(items=4, organiser=organiser)
    for _ in range(6):
        take_part(make_user(), published, rng=rng)
    publish_now(published, organiser)
    closed = close(make_consultation(items=2))
    return {
        "open": open_one,
        "item": item,
        "published": published,
        "closed": closed,
        "other": other,
        "decision": decision,
        "appeal": appeal,
    }


def page_types(world):
    slug = world["open"].slug
    published = world["published"].slug
    decision = reverse("moderation_public:decision", kwargs={"decision_id": world["decision"].pk})
    return {
        None: [
            reverse("home"),
            reverse("consultation:list"),
            world["open"].get_absolute_url(),
            world["item"].get_absolute_url(),
            reverse("consultation:methods"),
            reverse("consultation:results", kwargs={"slug": published}),
            reverse("consultation:report", kwargs={"slug": published}),
            reverse("consultation:results", kwargs={"slug": world["closed"].slug}),
            reverse("account_login"),
            reverse("account_signup"),
            reverse("accessibility"),
            reverse("privacy"),
            reverse("legal_notice"),
            reverse("moderation_public:charter", kwargs={"slug": slug}),
            reverse("moderation_public:log", kwargs={"slug": slug}),
            "/page-qui-n-existe-pas/",
        ],
        "citizen": [
            world["item"].get_absolute_url(),
            reverse("consultation:ranking", kwargs={"slug": slug}),
            reverse("consultation:my_participation"),
            reverse("accounts:profile"),
            reverse("accounts:my_data"),
            reverse("notices:list"),
            reverse("notices:settings"),
            reverse("accounts:api_tokens"),
            reverse("mfa_index"),
            decision,
        ],
        "organiser": [
            reverse("organiser:dashboard"),
            reverse("organiser:manage", kwargs={"slug": slug}),
            reverse("organiser:create"),
            reverse("organiser:edit", kwargs={"slug": slug}),
            reverse("organiser:items", kwargs={"slug": slug}),
            reverse("organiser:item_add", kwargs={"slug": slug}),
            reverse("organiser:import", kwargs={"slug": slug}),
            reverse("organiser:schedule", kwargs={"slug": slug}),
            reverse("organiser:team", kwargs={"slug": slug}),
            reverse("organiser:charter", kwargs={"slug": slug}),
            reverse("organiser:card", kwargs={"slug": slug}),
            reverse("organiser:results", kwargs={"slug": world["closed"].slug}),
        ],
        "moderator": [
            reverse("moderation:queue"),
            reverse("moderation:consultation", kwargs={"slug": slug}),
            reverse("moderation:comment", kwargs={"slug": slug, "comment_id": world["other"].pk}),
            reverse("moderation:appeal", kwargs={"appeal_id": world["appeal"].pk}),
            decision,
        ],
    }
