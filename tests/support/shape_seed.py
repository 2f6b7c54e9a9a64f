"""Set the stage in the production shape's own database (scripts/prod_local.py), from a
process running with its environment: ``python -m tests.support.shape_seed '<spec JSON>'``.
Prints what the tests need as JSON. Plain ORM and the domain, like tests/factories.py.

spec: ``items`` (3), ``citizens`` (10, each verified with a personal API token),
``closes_in`` (seconds from now; default a week), ``participants`` (that many more people
who vote, grade and rank at random through the domain), ``organiser`` (false).
"""

import json
import random
import sys
from datetime import timedelta


def main(spec: dict) -> dict:
    import django

    django.setup()
    from django.utils import timezone

    from accounts.tokens import create_token
    from consultation.models import Consultation, Membership
    from tests.factories import make_consultation, make_user, take_part

    tag = f"{timezone.now():%H%M%S%f}"
    closes_at = timezone.now() + timedelta(seconds=spec.get("closes_in", 7 * 86400))
    consultation = make_consultation(
        items=spec.get("items", 3),
        slug=f"faults-{tag}",
        closes_at=closes_at,
        results_visibility=Consultation.ResultsVisibility.LIVE,
    )
    citizens = []
    for n in range(spec.get("citizens", 10)):
        user = make_user(f"citizen-{tag}-{n}@example.org", display_name=f"Citizen {n}")
        _token, secret = create_token(user, "faults")
        citizens.append({"id": user.pk, "token": secret})
    rng = random.Random(7)
    for n in range(spec.get("participants", 0)):
        user = make_user(f"person-{tag}-{n}@example.org", display_name=f"Person {n}")
        take_part(user, consultation, rng=rng)
    organiser = None
    if spec.get("organiser"):
        user = make_user(f"organiser-{tag}@example.org", display_name="Organiser")
        Membership.objects.create(
            consultation=consultation, user=user, role=Membership.Role.ORGANISER
        )
        organiser = user.pk
    return {
        "consultation": {"id": consultation.pk, "slug": consultation.slug},
        "closes_at": closes_at.isoformat(),
        "items": list(consultation.items.order_by("position").values_list("pk", flat=True)),
        "citizens": citizens,
        "organiser": organiser,
    }


if __name__ == "__main__":
    print(json.dumps(main(json.loads(sys.argv[1]))))
