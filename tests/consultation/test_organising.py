"""The organisers' writes check who asks, themselves: a page, the admin or a script that
forgot to ask is refused all the same (docs/architecture.md)."""

import pytest

from consultation.errors import NotAllowed
from consultation.models import Consultation, Membership
from consultation.organising import consultations
from tests.factories import make_consultation

pytestmark = pytest.mark.django_db
S = Consultation.Status

WRITES = {
    "update_consultation": lambda user, c: consultations.update_consultation(
        user, c, {"title": "Détournée"}
    ),
    "reschedule": lambda user, c: consultations.reschedule(user, c, opens_at=None, closes_at=None),
    "add_item": lambda user, c: consultations.add_item(user, c, {"title": "Intruse"}),
    "update_item": lambda user, c: consultations.update_item(
        user, c.items.first(), {"title": "Changée"}
    ),
    "delete_item": lambda user, c: consultations.delete_item(user, c.items.first()),
    "move_item": lambda user, c: consultations.move_item(user, c.items.first(), "down"),
    "add_member": lambda user, c: consultations.add_member(
        user, c, user.email, Membership.Role.ORGANISER
    ),
    "remove_member": lambda user, c: consultations.remove_member(user, c, c.memberships.first().pk),
}


def state(consultation):
    consultation.refresh_from_db()
    return (
        consultation.title,
        consultation.opens_at,
        list(consultation.items.values_list("pk", "title", "position")),
        sorted(consultation.memberships.values_list("user_id", "role")),
    )


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
def test_an_organiser_of_another_consultation_is_refused_by_the_domain(make_user, organiser, write):
    from tests.support.accounts import enable_totp

    consultation = make_consultation(status=S.DRAFT, organiser=organiser)
    outsider = make_user(is_organiser=True)
    enable_totp(outsider)  # second factor passed: only the membership is missing
    before = state(consultation)
    with pytest.raises(NotAllowed) as refusal:
        write(outsider, consultation)
    assert refusal.value.code == "not_organiser"
    assert state(consultation) == before


def test_creating_a_consultation_takes_the_organiser_role(make_user):
    citizen = make_user()
    with pytest.raises(NotAllowed):
        consultations.create_consultation(citizen, {"slug": "x", "title": "X"}, [])
    assert not Consultation.objects.filter(slug="x").exists()
