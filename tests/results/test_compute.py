"""Computing final results: open data first, every enabled method from those files."""

import pytest

from consultation import results
from consultation.models import ComputedResult
from tests.results.conftest import close

pytestmark = pytest.mark.django_db


def test_final_results_are_counted_from_the_exported_files(voted):
    consultation = close(voted(6))
    row = results.compute_results(consultation.pk, "final")
    document = row.results
    assert document["format"] == "agora-results/1"
    assert set(document["methods"]) == {
        "votes",
        "majority_judgment",
        "borda",
        "schulze",
        "copeland",
        "instant_runoff",
    }
    assert set(document["computed_from"]) == {"rankings.csv", "grades.csv", "votes.csv"}
    assert document["totals"] == {"rankings": 6, "grades": 6, "votes": 6}
