"""A vote through the API reads what it needs once (docs/performance.md, "Write path")."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import ApiToken
from tests.support.api import items_of

pytestmark = pytest.mark.django_db(transaction=True)  # real BEGIN and COMMIT


def _statements(client, item, choice):
    with CaptureQueriesContext(connection) as captured:
        response = client.call("PUT", f"/items/{item.pk}/vote", {"choice": choice})
    assert response.status_code == 200, response.content
    # Following what one takes part in (consultation.notices) is not the vote's business.
    return [q["sql"] for q in captured.captured_queries if "consultation_follow" not in q["sql"]]


def test_a_token_vote_reads_the_token_once_then_checks_and_writes(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    client.call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    statements = _statements(client, item, "against")
    begin = next(i for i, sql in enumerate(statements) if sql.startswith("BEGIN"))
    reads = statements[:begin]
    # The write limit and the API's authentication share one read of the token, which
    # also tells whether its owner's address is verified; then the item and whether its
    # owner is suspended (read on every write, so a suspension holds at once).
    assert len(reads) == 3, reads
    assert '"accounts_apitoken"' in reads[0] and '"account_emailaddress"' in reads[0]
    assert '"consultation_item"' in reads[1] and '"consultation_consultation"' in reads[1]
    assert '"consultation_suspension"' in reads[2]
    # Then the upsert: the row locked, written, committed; nothing else (the follow that
    # taking part makes was made with the first vote).
    assert len(statements) - begin == 4, statements[begin:]
    assert sum('"accounts_apitoken"' in sql for sql in statements) == 1


def test_the_token_is_marked_used_at_most_once_a_minute(api_as, consultation, citizen):
    item = items_of(consultation)[0]
    client = api_as(citizen)
    token = ApiToken.objects.get(user=citizen)
    first = _statements(client, item, "for")
    assert sum(sql.startswith('UPDATE "accounts_apitoken"') for sql in first) == 1
    again = _statements(client, item, "against")
    assert not any(sql.startswith('UPDATE "accounts_apitoken"') for sql in again)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    later = _statements(client, item, "for")
    assert sum(sql.startswith('UPDATE "accounts_apitoken"') for sql in later) == 1


def test_a_wrong_token_is_refused_after_one_read(api_as, consultation):
    item = items_of(consultation)[0]
    client = api_as()
    client.headers = {"Authorization": "Bearer agora_not-a-token"}
    with CaptureQueriesContext(connection) as captured:
        response = client.call("PUT", f"/items/{item.pk}/vote", {"choice": "for"})
    assert response.status_code == 401
    assert len(captured.captured_queries) == 1
