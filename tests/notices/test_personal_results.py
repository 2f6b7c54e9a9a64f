"""The personal results e-mail: at each publication, each person who voted, graded or
ranked hears what became of those measures — their result under each method published
and the organisers' response, from the frozen publication — with links to the results and
to recount them; never how they voted, unless they asked to see their own choices."""

import random
import re
import time

import pytest
from django.conf import settings
from django.utils import timezone

from consultation.models import Consultation, ConsultationCard, Item, Notice, NoticeSettings
from consultation.notices import audience, fanout, personal_results
from consultation.participation import voting
from consultation.results import computing, publishing
from tests.factories import make_consultation, take_part

pytestmark = pytest.mark.django_db
S = Consultation.Status
OWN_CHOICE_WORDS = ("Your vote", "Your grade", "In your ranking", "Votre vote", "Votre note")


@pytest.fixture
def stage(make_user, organiser, settings, tmp_path):
    """An open consultation of four items: Léa (English) votes for the first, grades it
    and ranks the second; Nadia (French) votes against the third only; three others take
    part at random. ``close_and_count()`` closes it and computes its final results."""
    settings.MEDIA_ROOT = tmp_path
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation(items=4, organiser=organiser)
    first, second, third, fourth = consultation.items.order_by("position")
    lea = make_user("lea@example.org", display_name="Léa", preferred_language="en")
    nadia = make_user("nadia@example.org", display_name="Nadia", preferred_language="fr")
    voting.cast_vote(lea, first, "for")
    voting.grade_item(lea, first, 5)
    voting.submit_ballot(lea, consultation, [second.pk])
    voting.cast_vote(nadia, third, "against")
    rng = random.Random(7)
    for _ in range(3):
        take_part(make_user(), consultation, rng=rng)

    def close_and_count():
        Consultation.objects.filter(pk=consultation.pk).update(
            status=S.CLOSED, closed_at=timezone.now()
        )
        computing.compute_results(consultation.pk, "final")
        publishing.set_official_response(
            organiser,
            Item.objects.get(pk=first.pk),
            "Nous la mettrons en œuvre en 2027.",
            "We will do it in 2027.",
        )
        return Consultation.objects.get(pk=consultation.pk)

    return {
        "consultation": consultation,
        "items": (first, second, third, fourth),
        "lea": lea,
        "nadia": nadia,
        "close_and_count": close_and_count,
    }


def run_fanout(consultation, publication):
    for spec in fanout.specs_for(audience.RESULTS, consultation, publication):
        for after, upto in fanout.ranges(fanout.audience_of(spec)):
            fanout.run_chunk(spec, after, upto)


def personal_mail(user, version=1):
    notice = Notice.objects.get(user=user, kind=audience.PERSONAL_RESULTS, data__version=version)
    email = personal_results.build(notice, user)
    html = next(content for content, kind in email.alternatives if kind == "text/html")
    return notice, email, html


@pytest.mark.django_db(transaction=True)
def test_each_person_who_took_part_is_mailed_what_became_of_their_measures(
    stage, organiser, mailbox, celery_worker
):
    consultation = stage["close_and_count"]()
    first, second, third, fourth = stage["items"]
    NoticeSettings.objects.create(user=stage["nadia"], show_own_choices=True)

    publishing.publish(consultation, organiser)

    [mail] = mailbox.wait_for("lea@example.org")
    assert f"What became of your votes in “{consultation.title_en}”" in mail["subject"]
    body, html = mail["body"], mail["html"]
    # It leads with the outcome under the method declared on the card (Schulze, the default
    # with rankings on), which may name any item; then her measures, one section each.
    assert body.index("Declared outcome (Schulze method") < body.index("== ")
    assert html.index("Declared outcome (Schulze method") < html.index("<h2")
    assert "Schulze method: rank" in body and "(for information)" in body
    for text in (body[body.index("== ") :], html[html.index("<h2") :]):
        # Her measures (voted on and graded, ranked), not the others.
        assert first.title_en in text and second.title_en in text
        assert third.title_en not in text and fourth.title_en not in text
        assert "We will do it in 2027." in text  # the official response, in English
        assert "For / against / abstain vote: rank" in text and "majority grade “" in text
        results = f"{settings.SITE_URL}/consultations/{consultation.slug}/resultats/v1/"
        assert results in text and f"{results}#open-data-heading" in text
        assert f"/consultations/{consultation.slug}/donnees/1/manifest.json" in text
        assert "python -m consultation.counting recount votes.csv --method votes" in text
        assert not any(word in text for word in OWN_CHOICE_WORDS)
    assert "The organisers have not responded to this measure." in body  # the second one
    assert "does not recall how you voted" in body
    assert re.search(r'<html lang="en"', html)

    [mail] = mailbox.wait_for("nadia@example.org")
    assert f"Ce que sont devenus vos votes dans « {consultation.title} »" in mail["subject"]
    sections = mail["body"][mail["body"].index("== ") :]
    assert third.title in sections and first.title not in sections
    assert "Votre vote : Contre" in mail["body"]  # she asked to see her own choices
    assert "Vote pour / contre / abstention : rang" in mail["body"]

    # Everyone who took part, once each; no general "results" notice for them.
    def recipients():
        return [m["to"][0] for m in mailbox.messages() if "votes" in m["subject"].lower()]

    deadline = time.monotonic() + 60  # a worker on a loaded machine, not a pace to hold
    while len(recipients()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    recipients = recipients()
    assert len(recipients) == len(set(recipients)) == 5
    assert not Notice.objects.filter(kind=audience.RESULTS).exists()


def test_own_choices_only_when_asked_and_only_ones_own(stage, organiser):
    consultation = stage["close_and_count"]()
    lea = stage["lea"]
    publication = publishing.publish(consultation, organiser)
    run_fanout(consultation, publication)

    _notice, email, html = personal_mail(lea)
    assert not any(word in email.body or word in html for word in OWN_CHOICE_WORDS)

    NoticeSettings.objects.create(user=lea, show_own_choices=True)
    _notice, email, html = personal_mail(lea)
    for text in (email.body, html):
        assert "Your vote: For" in text
        assert "Your grade: Very good" in text
        assert "In your ranking: choice no. 1" in text
        assert "Against" not in text.split("Your vote")[1][:20]  # her choice, nobody else's
    # The notice itself keeps which measures, never how.
    notice = Notice.objects.get(user=lea, kind=audience.PERSONAL_RESULTS)
    first, second, _third, _fourth = stage["items"]
    assert notice.data["items"] == [first.pk, second.pk]
    assert not {"vote", "grade", "rank", "choice"} & set(notice.data)


def test_sent_once_per_version(stage, organiser):
    consultation = stage["close_and_count"]()
    first = publishing.publish(consultation, organiser)
    run_fanout(consultation, first)
    run_fanout(consultation, first)  # retried: nothing new
    second = publishing.publish(consultation, organiser, note="Réponse ajoutée.")
    run_fanout(consultation, second)
    keys = list(
        Notice.objects.filter(user=stage["lea"], kind=audience.PERSONAL_RESULTS)
        .order_by("pk")
        .values_list("key", flat=True)
    )
    assert keys == [
        f"personal_results:{consultation.pk}:v1",
        f"personal_results:{consultation.pk}:v2",
    ]
    _notice, email, html = personal_mail(stage["nadia"], version=2)
    assert "(résultats, version 2)" in email.subject
    assert "Ce qui change dans cette version : Réponse ajoutée." in email.body
    assert "/resultats/v2/" in email.body and "/donnees/2/manifest.json" in html


def test_what_small_groups_withhold_is_said_not_shown(stage, organiser, settings):
    settings.OPEN_DATA_MIN_GROUP = 4  # Nadia's measure has four votes, another has three
    consultation = stage["close_and_count"]()
    _first, second, _third, fourth = stage["items"]
    publication = publishing.publish(consultation, organiser)
    assert set(publication.results["withheld"]["votes"]["items"]) == {
        str(second.pk),
        str(fourth.pk),
    }
    run_fanout(consultation, publication)
    voted = "Vote pour / contre / abstention : "
    _notice, email, html = personal_mail(stage["nadia"])
    assert f"{voted}rang" in email.body and f"{voted}rang" in html
    NoticeSettings.objects.create(user=stage["lea"], show_own_choices=True)
    stage["lea"].preferred_language = "fr"
    _notice, email, html = personal_mail(stage["lea"])
    for text in (email.body, html):
        assert f"{voted}non détaillée : 3 réponses, moins de 4" in text  # her second measure
        assert f"{voted}rang" in text  # her first one
    settings.OPEN_DATA_MIN_GROUP = 5  # four ballots, four graders: withheld whole
    computing.compute_results(consultation.pk, "final")
    publication = publishing.publish(consultation, organiser, note="Seuil relevé.")
    run_fanout(consultation, publication)
    _notice, email, html = personal_mail(stage["nadia"], version=2)
    for text in (email.body, html):
        assert (
            "Les résultats des classements ne sont pas publiés, pour protéger l’anonymat de "
            "celles et ceux qui ont répondu (moins de 5 réponses)."
        ) in text
        assert "Les résultats des notes au jugement majoritaire ne sont pas publiés" in text


def test_only_people_who_voted_graded_or_ranked_are_told(stage, make_user, citizen):
    consultation = stage["consultation"]
    from consultation.participation import debate

    debate.post_comment(citizen, consultation.items.first(), "Je ne fais que commenter.")
    gone = make_user()
    voting.cast_vote(gone, consultation.items.first(), "for")
    type(gone).objects.filter(pk=gone.pk).update(is_active=False)
    people = set(fanout.participants(consultation.pk).values_list("email", flat=True))
    assert {"lea@example.org", "nadia@example.org"} <= people
    assert citizen.email not in people and gone.email not in people
    assert len(people) == 5


def test_the_email_leads_with_the_method_the_card_declared_and_a_turnout_not_met(stage, organiser):
    # The card as opening would have frozen it (written straight: the stage is already open).
    ConsultationCard.objects.create(
        consultation=stage["consultation"],
        deciding_method="majority_judgment",
        tie_break="shared",
        quorum=1000,
        frozen_at=timezone.now(),
    )
    consultation = stage["close_and_count"]()
    publication = publishing.publish(consultation, organiser)
    run_fanout(consultation, publication)
    _notice, email, html = personal_mail(stage["lea"])
    body = email.body
    assert body.index("Declared outcome (Majority judgment") < body.index("== ")
    assert html.index("Declared outcome (Majority judgment") < html.index("<h2")
    assert "Minimum turnout not met: " in body and "does not stand" in body
    first_measure = body[body.index("== ") :].split("\n== ")[0]
    lines = [line for line in first_measure.splitlines() if line.startswith("- ")]
    assert lines[0].startswith("- Majority judgment: rank")
    assert len(lines) > 1 and all(line.endswith("(for information)") for line in lines[1:])
