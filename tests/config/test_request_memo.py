"""What a page asks several times is asked once per reading request (config/request_memo.py),
and never remembered beyond it: not by the next request, not by a write, not outside one."""

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config.request_memo import RequestMemoMiddleware, remembered
from consultation import permissions
from consultation.models import Membership, Rule
from consultation.moderation import decisions
from tests.factories import add_member, make_consultation
from tests.support.statements import every_statement


def _asker():
    asked = []

    def ask():
        asked.append(1)
        return len(asked)

    return asked, ask


def _served(method: str, ask) -> list:
    answers = []

    def view(request):
        answers.extend([remembered("question", ask), remembered("question", ask)])
        return HttpResponse()

    RequestMemoMiddleware(view)(RequestFactory().generic(method, "/"))
    return answers


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_reading_request_asks_once_and_the_next_one_asks_again(method):
    asked, ask = _asker()
    assert _served(method, ask) == [1, 1]
    assert _served(method, ask) == [2, 2]  # nothing kept from the request before
    assert len(asked) == 2


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE"])
def test_a_write_remembers_nothing(method):
    _asked, ask = _asker()
    assert _served(method, ask) == [1, 2]


def test_outside_a_request_every_call_asks():
    _asked, ask = _asker()
    assert [remembered("question", ask), remembered("question", ask)] == [1, 2]


@pytest.mark.django_db
def test_a_page_reads_a_suspension_once_and_the_next_page_sees_a_new_one(citizen, moderator):
    consultation = make_consultation()
    add_member(consultation, moderator, Membership.Role.MODERATOR)

    def view(request):
        with every_statement() as seen:
            first = permissions.suspension_of(citizen, consultation)
            again = permissions.suspension_of(citizen, consultation)
        view.answers.append((first, again, len(seen.sql)))
        return HttpResponse()

    view.answers = []
    page = RequestMemoMiddleware(view)
    page(RequestFactory().get("/"))
    decisions.suspend(moderator, citizen, consultation, Rule.SPAM, days=3)
    page(RequestFactory().get("/"))
    (none, none_again, reads), (suspension, same, reads_after) = view.answers
    assert none is None and none_again is None and reads == 1
    assert suspension is not None and same == suspension and reads_after == 1
