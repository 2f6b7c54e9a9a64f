"""Results lead with the outcome under the method declared on the card before the vote
(issue 14): other methods "for information", a minimum turnout not met said, a tie told as
a tie or decided by the declared draw with its seed; the card travels with every version."""

import hashlib
import random

import pytest
from django.urls import reverse

from consultation.counting import ties
from consultation.models import Consultation
from consultation.organising import card, lifecycle
from consultation.participation import voting
from consultation.results import computing, publishing
from tests.factories import close, make_consultation, take_part
from tests.support.html import problems

pytestmark = pytest.mark.django_db
S = Consultation.Status


def declared_and_published(
    organiser, make_user, *, method, tie_break="draw", quorum=None, ballots=None, n=8, **fields
):
    """A consultation whose card declares ``method``, opened (the card freezes), taken part
    in (``ballots``: explicit rankings by item index, else ``n`` seeded participants),
    closed, counted and published."""
    consultation = make_consultation(status=S.DRAFT, organiser=organiser, **fields)
    card.update_card(
        organiser, consultation, deciding_method=method, tie_break=tie_break, quorum=quorum
    )
    consultation = lifecycle.open_now(organiser, consultation)
    items = list(consultation.items.order_by("position", "pk"))
    if ballots is not None:
        for ranking in ballots:
            voting.submit_ballot(make_user(), consultation, [items[i].pk for i in ranking])
    else:
        rng = random.Random(14)
        for _ in range(n):
            take_part(make_user(), consultation, rng=rng)
    close(consultation)
    computing.compute_results(consultation.pk, "final")
    publication = publishing.publish(consultation, organiser)
    return consultation, publication, items


def results_page(client, consultation):
    page = client.get(
        reverse("consultation:results", kwargs={"slug": consultation.slug}),
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert page.status_code == 200 and problems(page.content) == []
    return page.content.decode()


def test_the_results_page_leads_with_the_declared_method_and_the_others_are_for_information(
    client, organiser, make_user
):
    consultation, publication, _items = declared_and_published(
        organiser, make_user, method="borda", quorum=5
    )
    content = results_page(client, consultation)
    lead = content.index('id="outcome-heading"')
    assert lead < content.index('id="participation-heading"')
    assert lead < content.index('id="rankings-heading"')
    assert "Decided by Borda count, the method declared on the consultation card" in content
    assert "Shown below for information only, not deciding: " in content
    for other in ("Schulze method", "Majority judgment", "For / against / abstain vote"):
        assert other in content[content.index("Shown below for information") :][:400]
    assert "Minimum turnout met: 8 took part, 5 were required." in content
    # The frozen card travels with the version, and is a file hashed in the manifest.
    document = publication.results
    frozen = card.card_document(Consultation.objects.get(pk=consultation.pk))
    assert document["card"] == frozen and frozen["frozen_at"] is not None
    assert document["draw_seed"] == ties.draw_seed(frozen, document["computed_from"])
    listed = {f["name"]: f["sha256"] for f in publication.manifest["files"]}
    card_text = computing.dumps(frozen).encode()
    assert listed["card.json"] == hashlib.sha256(card_text).hexdigest()


def test_a_minimum_turnout_not_met_is_said_and_the_outcome_does_not_stand(
    client, organiser, make_user
):
    consultation, _publication, _items = declared_and_published(
        organiser, make_user, method="schulze", quorum=100
    )
    content = results_page(client, consultation)
    assert "Minimum turnout not met: 8 took part, 100 were required." in content
    assert "The declared outcome does not stand." in content
    assert "outcome-void" in content


@pytest.mark.parametrize(
    ("tie_break", "said"),
    [
        ("shared", "Tie for first place, shared by “{a}”, “{b}”."),
        ("draw", "by the declared draw between “{a}”, “{b}”, tied under this method."),
    ],
)
def test_a_tie_at_the_top_is_told_as_a_tie_or_decided_by_the_declared_draw(
    client, organiser, make_user, tie_break, said
):
    # Two ballots each way between the first two items: Borda ties them.
    consultation, publication, items = declared_and_published(
        organiser,
        make_user,
        method="borda",
        tie_break=tie_break,
        ballots=[[0, 1], [1, 0], [0, 1], [1, 0]],
        voting_enabled=False,
        grading_enabled=False,
    )
    a, b = items[0], items[1]
    content = results_page(client, consultation)
    assert said.format(a=a.title_en, b=b.title_en) in content
    seed = publication.results["draw_seed"]
    result = publication.results["methods"]["borda"]
    assert result["details"]["tie_break"] == {"rule": "draw", "seed": seed}
    assert result["order"][:2] == ties.drawn(seed, [a.pk, b.pk])
    if tie_break == "draw":
        assert "This outcome depended on a tie-break." in content
        assert seed in content
