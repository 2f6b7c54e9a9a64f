"""A published consultation with many participants, set up with plain bulk inserts (the
domain is what the tests exercise; this only sets the stage): for the mass-sending test
and bench/mass_mail.py."""

from django.contrib.auth import get_user_model
from django.utils import timezone

from consultation.models import Consultation, Grade, Publication, Vote
from consultation.results import computing
from tests.factories import make_consultation

CHOICES = ("for", "against", "abstain")


def published_with(n_people: int, *, items: int = 4, domain: str = "example.org"):
    """A consultation closed and published (version 1) whose ``n_people`` participants
    (``mass<i>@<domain>``) each voted on two items and graded one. Returns the
    consultation, the publication and the participants' addresses. Nothing is queued:
    the caller decides who sends what."""
    consultation = make_consultation(
        items=items, status=Consultation.Status.CLOSED, ranking_enabled=False
    )
    item_ids = list(consultation.items.order_by("position").values_list("pk", flat=True))
    emails = [f"mass{i}@{domain}" for i in range(n_people)]
    user_model = get_user_model()
    user_model.objects.bulk_create(
        [
            user_model(
                email=email,
                display_name=f"Mass {i}",
                password="!",
                preferred_language="fr" if i % 2 else "en",
            )
            for i, email in enumerate(emails)
        ],
        batch_size=1000,
    )
    users = list(
        user_model.objects.filter(email__in=emails).order_by("pk").values_list("pk", flat=True)
    )
    votes, grades = [], []
    for n, user_id in enumerate(users):
        for item_id in (item_ids[n % items], item_ids[(n + 1) % items]):
            votes.append(Vote(item_id=item_id, user_id=user_id, choice=CHOICES[n % 3]))
        grades.append(Grade(item_id=item_ids[n % items], user_id=user_id, grade=n % 7))
    Vote.objects.bulk_create(votes, batch_size=2000)
    Grade.objects.bulk_create(grades, batch_size=2000)
    computed = computing.compute_results(consultation.pk, "final")
    document = {
        **computed.results,
        "version": 1,
        "published_at": timezone.now().isoformat(),
        "note": "",
        "official_responses": {
            str(item_ids[0]): {"text": "Nous la mettrons en œuvre.", "text_en": "We will do it."}
        },
    }
    publication = Publication.objects.create(
        consultation=consultation,
        version=1,
        published_by_name="Odile",
        results_json=computing.dumps(document),
        manifest_json='{"files": []}',
    )
    Consultation.objects.filter(pk=consultation.pk).update(status=Consultation.Status.PUBLISHED)
    return consultation, publication, emails
