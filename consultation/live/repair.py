"""Repairing the live counters when they drifted from the database: the periodic job
(every minute), and a count at once after bulk deletions that bypass the domain's writes.
"""

import logging
import time

from consultation.live.counters import reconcile_pairwise, recount
from consultation.live.events import pages_changed, publish_tally
from consultation.live.stores import BUILT, store
from consultation.models import Consultation

logger = logging.getLogger(__name__)

# reconcile: how many times to count while the counters move, and how long apart.
RECONCILE_TRIES = 5
RECONCILE_PAUSE_SECONDS = 0.2


def reconcile(consultation: Consultation) -> dict[str, tuple[int, int]]:
    """Compare the live counters with a recount; repair and report what differed.

    Only when the counters stood still while the database was counted: a write committed
    meanwhile is in the counters and maybe not in the recount (its queries ran before it),
    and "repairing" would undo it. Under a steady stream of writes the repair waits for a
    quieter moment: a few tries now, a moment apart, then the next run (every minute)."""
    for attempt in range(RECONCILE_TRIES):
        if attempt:
            time.sleep(RECONCILE_PAUSE_SECONDS)
        before = store().read(consultation.pk)
        truth, people = recount(consultation)
        found = store().read(consultation.pk)
        if found == before:
            break
    else:
        logger.info("live counters of %s kept moving while counted: next time", consultation.slug)
        reconcile_pairwise(consultation)
        return {}
    live, live_people = found if found is not None else ({}, -1)
    drift = {
        field: (live.get(field, 0), value)
        for field, value in truth.items()
        if field != BUILT and live.get(field, 0) != value
    }
    drift.update(
        {field: (value, 0) for field, value in live.items() if field not in truth and value}
    )
    if live_people != len(people):
        drift["participants"] = (live_people, len(people))
    if drift:
        store().replace(consultation.pk, truth, people)
        logger.warning("live counters of %s repaired: %s", consultation.slug, drift)
        publish_tally(consultation.pk)
    reconcile_pairwise(consultation)
    return drift


def participant_erased(consultation_id: int) -> None:
    """A deleted account's votes, grades and ballot in this open consultation went in a
    few bulk deletions, not through the domain's writes: count the consultation again now
    and tell the pages, instead of leaving its counters wrong until the periodic
    ``reconcile``. A write landing between the recount and the replacement is missed
    until then, as with ``reconcile`` itself."""
    consultation = Consultation.objects.filter(pk=consultation_id).first()
    if consultation is None:
        return
    truth, people = recount(consultation)
    store().replace(consultation.pk, truth, people)
    reconcile_pairwise(consultation)
    pages_changed(consultation.pk, slug=consultation.slug)
    publish_tally(consultation.pk)


def reconcile_all() -> dict[str, dict]:
    report = {}
    for consultation in Consultation.objects.filter(status=Consultation.Status.OPEN):
        drift = reconcile(consultation)
        if drift:
            report[consultation.slug] = {k: list(v) for k, v in drift.items()}
    return report
