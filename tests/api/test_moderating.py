"""Moderation through the API, as citizens meet it: reporting a comment, the public log,
one's notices, appealing a decision; and a suspended person refused on every write."""

import pytest
from django.urls import reverse

from consultation.models import (
    Appeal,
    Ballot,
    Comment,
    Consultation,
    Grade,
    Membership,
    Notice,
    Report,
    Rule,
    Vote,
)
from consultation.moderation import decisions
from consultation.notices import sending
from consultation.participation import debate, voting
from tests.factories import add_member, make_consultation
from tests.support.api import items_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(consultation, moderator, make_user):
    """The consultation with a moderator, and a comment by Alex on its first item."""
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    alex = make_user("alex@example.org", display_name="Alex")
    comment = debate.post_comment(alex, items_of(consultation)[0], "Un avis tranché.", "against")
    return consultation, alex, comment


# --- Reporting ---------------------------------------------------------------------------------


def test_a_citizen_reports_a_comment_once_and_is_told_it_was_received(api_as, place, citizen):
    _consultation, _alex, comment = place
    client = api_as(citizen)
    path = f"/comments/{comment.pk}/reports"
    response = client.call("POST", path, {"rule": "insult", "text": "Vise une personne."})
    assert response.status_code == 201, response.json()
    body = response.json()
    report = Report.objects.get(reporter=citizen)
    assert body == {
        "id": report.pk,
        "comment": comment.pk,
        "rule": "insult",
        "rule_number": 1,
        "text": "Vise une personne.",
        "status": "open",
        "created_at": body["created_at"],
    }
    assert Notice.objects.get(user=citizen).data["status"] == "open"

    again = client.call("POST", path, {"rule": "spam"})
    assert (again.status_code, again.json()["code"]) == (409, "already_reported")
    assert Report.objects.count() == 1


def test_a_report_is_refused_with_the_domains_code(api_as, place, citizen, settings):
    _consultation, alex, comment = place
    path = f"/comments/{comment.pk}/reports"
    own = api_as(alex).call("POST", path, {"rule": "spam"})
    assert (own.status_code, own.json()["code"]) == (403, "own_comment")
    client = api_as(citizen)
    unknown = client.call("POST", path, {"rule": "rudeness"})
    assert (unknown.status_code, unknown.json()["code"]) == (422, "invalid_input")
    other = client.call("POST", path, {"rule": "other"})
    assert (other.status_code, other.json()["code"]) == (422, "text_required")
    anonymous = api_as().call("POST", path, {"rule": "spam"})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "login_required")
    assert not Report.objects.exists()

    settings.MODERATION_REPORTS_PER_HOUR = 1
    second = debate.post_comment(alex, comment.item, "Un autre avis.", "for")
    assert client.call("POST", path, {"rule": "spam"}).status_code == 201
    too_many = client.call("POST", f"/comments/{second.pk}/reports", {"rule": "spam"})
    assert (too_many.status_code, too_many.json()["code"]) == (429, "too_many_reports")
    assert too_many.json()["detail"]


def test_the_rules_the_api_takes_are_the_charters(client):
    schema = client.get("/api/v1/openapi.json").json()
    rule = schema["components"]["schemas"]["ReportIn"]["properties"]["rule"]
    assert rule["enum"] == list(Rule.values)


# --- The public log ----------------------------------------------------------------------------


def test_the_public_log_gives_role_and_rule_and_names_nobody(api_as, place, moderator):
    consultation, _alex, comment = place
    decisions.hide(moderator, comment, Rule.INSULT, "Note pour Alex seulement.")
    response = api_as().get(f"/consultations/{consultation.slug}/moderation-log")
    assert response.status_code == 200
    body = response.json()
    [entry] = body["entries"]
    assert (entry["action"], entry["rule"], entry["rule_number"], entry["role"]) == (
        "hide",
        "insult",
        1,
        "moderator",
    )
    assert (entry["item"], entry["comment"], entry["appeal"]) == (comment.item_id, comment.pk, None)
    assert body["summary"]["per_rule"]["insult"] == 1 and body["summary"]["decisions"] == 1
    text = response.content.decode()
    for secret in ("Note pour Alex", "Un avis tranché", "Alex", "Malik", "@example.org"):
        assert secret not in text, secret


def test_a_drafts_log_is_not_found(api_as, organiser):
    draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
    response = api_as(organiser).get(f"/consultations/{draft.slug}/moderation-log")
    assert (response.status_code, response.json()["code"]) == (404, "not_found")


# --- My notices --------------------------------------------------------------------------------


def tell(user, n, consultation):
    for number in range(n):
        sending.notify(
            user,
            Notice.Kind.REPORT,
            consultation=consultation,
            data={"status": "open", "comment": number, "rule": "spam", "rule_number": 3},
            url=reverse("notices:list"),
        )


def test_my_notices_come_a_page_at_a_time_with_the_unread_count(api_as, place, citizen):
    consultation, alex, _comment = place
    tell(citizen, 35, consultation)
    tell(alex, 2, consultation)
    client = api_as(citizen)
    first = client.get("/me/notices").json()
    assert (first["count"], first["unread"], first["page"], first["pages"]) == (35, 35, 1, 2)
    assert len(first["notices"]) == 30 and first["page_size"] == 30
    newest = Notice.objects.filter(user=citizen).first()
    assert first["notices"][0]["id"] == newest.pk
    assert first["notices"][0]["title"] == "Votre signalement a bien été reçu"
    assert first["notices"][0]["consultation"] == consultation.slug
    assert first["notices"][0]["read_at"] is None
    second = client.get("/me/notices?page=2").json()
    assert len(second["notices"]) == 5
    ids = {n["id"] for n in first["notices"]} | {n["id"] for n in second["notices"]}
    assert ids == set(Notice.objects.filter(user=citizen).values_list("pk", flat=True))
    beyond = client.get("/me/notices?page=9").json()
    assert beyond["notices"] == [] and beyond["count"] == 35
    english = client.client.get(
        "/api/v1/me/notices?page_size=1", headers={**client.headers, "Accept-Language": "en"}
    ).json()
    assert english["notices"][0]["title"] == "Your report was received"
    anonymous = api_as().get("/me/notices")
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "login_required")
    assert client.get("/me/notices?page=0").status_code == 422
    assert client.get("/me/notices?page_size=101").status_code == 422


def test_marking_notices_read_touches_only_the_callers(api_as, place, citizen):
    consultation, alex, _comment = place
    tell(citizen, 3, consultation)
    tell(alex, 1, consultation)
    mine = list(Notice.objects.filter(user=citizen).values_list("pk", flat=True))
    theirs = Notice.objects.get(user=alex)
    client = api_as(citizen)
    response = client.call("POST", "/me/notices/read", {"ids": [mine[0], theirs.pk]})
    assert response.status_code == 200
    assert response.json() == {"marked": 1, "unread": 2}
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert client.call("POST", "/me/notices/read", {}).json() == {"marked": 2, "unread": 0}
    assert client.get("/me/notices").json()["unread"] == 0
    anonymous = api_as().call("POST", "/me/notices/read", {})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "login_required")


# --- Appealing ---------------------------------------------------------------------------------


def test_the_person_a_decision_is_about_appeals_it_once(
    api_as, place, moderator, citizen, make_user
):
    _consultation, alex, comment = place
    reports_path = f"/comments/{comment.pk}/reports"
    assert api_as(citizen).call("POST", reports_path, {"rule": "insult"}).status_code == 201
    decision = decisions.hide(moderator, comment, Rule.INSULT, "Attaque personnelle.")
    path = f"/moderation-decisions/{decision.pk}/appeal"
    client = api_as(alex)
    empty = client.call("POST", path, {"text": "  "})
    assert (empty.status_code, empty.json()["code"]) == (422, "text_required")
    response = client.call("POST", path, {"text": "Je critiquais l’idée."})
    assert response.status_code == 201
    appeal = Appeal.objects.get()
    assert response.json() == {
        "id": appeal.pk,
        "decision": decision.pk,
        "text": "Je critiquais l’idée.",
        "status": "pending",
        "created_at": response.json()["created_at"],
    }
    again = client.call("POST", path, {"text": "Encore."})
    assert (again.status_code, again.json()["code"]) == (409, "already_appealed")
    # The reporter knows of the decision but may not appeal it; anyone else is not told.
    reporter = api_as(citizen).call("POST", path, {"text": "Moi aussi."})
    assert (reporter.status_code, reporter.json()["code"]) == (403, "not_yours")
    stranger = api_as(make_user("zoe@example.org")).call("POST", path, {"text": "Et moi ?"})
    assert (stranger.status_code, stranger.json()["code"]) == (404, "not_found")
    assert api_as().call("POST", path, {"text": "?"}).status_code == 401
    unknown = client.call("POST", "/moderation-decisions/999999/appeal", {"text": "?"})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    assert Appeal.objects.count() == 1


# --- A suspended person ------------------------------------------------------------------------


def test_a_suspended_person_is_refused_on_every_write_and_still_reads(
    api_as, place, moderator, citizen
):
    consultation, _alex, comment = place
    first, second, _third = items_of(consultation)
    own = debate.post_comment(citizen, first, "Mon avis.", "for")
    voting.cast_vote(citizen, first, "for")
    voting.grade_item(citizen, first, 3)
    voting.submit_ballot(citizen, consultation, [first.pk])
    decisions.suspend(moderator, citizen, consultation, Rule.INSULT, "Trois insultes.", days=7)
    before = (
        list(Vote.objects.values_list("item", "choice")),
        list(Grade.objects.values_list("item", "grade")),
        [b.ranked_item_ids() for b in Ballot.objects.all()],
        list(Comment.objects.values_list("pk", "body", "deleted_at")),
        Report.objects.count(),
    )
    client = api_as(citizen)
    writes = [
        ("PUT", f"/items/{second.pk}/vote", {"choice": "against"}),
        ("DELETE", f"/items/{first.pk}/vote", None),
        ("PUT", f"/items/{second.pk}/grade", {"grade": 2}),
        ("DELETE", f"/items/{first.pk}/grade", None),
        ("PUT", f"/consultations/{consultation.slug}/ballot", {"items": [second.pk]}),
        ("DELETE", f"/consultations/{consultation.slug}/ballot", None),
        ("POST", f"/items/{first.pk}/comments", {"body": "Encore moi."}),
        ("POST", f"/comments/{comment.pk}/useful", None),
        ("POST", f"/comments/{comment.pk}/reports", {"rule": "spam"}),
    ]
    for method, path, body in writes:
        response = client.call(method, path, body)
        assert (response.status_code, response.json()["code"]) == (403, "suspended"), path
    # Editing or deleting their own comment is refused as well.
    for method in ("PATCH", "DELETE"):
        body = {"body": "Changé."} if method == "PATCH" else None
        assert client.call(method, f"/comments/{own.pk}", body).status_code == 403
    after = (
        list(Vote.objects.values_list("item", "choice")),
        list(Grade.objects.values_list("item", "grade")),
        [b.ranked_item_ids() for b in Ballot.objects.all()],
        list(Comment.objects.values_list("pk", "body", "deleted_at")),
        Report.objects.count(),
    )
    assert after == before
    # Reading is not writing: they still read the debate, their participation, the log.
    assert client.get(f"/items/{first.pk}/comments").status_code == 200
    assert client.get(f"/consultations/{consultation.slug}/me").status_code == 200
    assert client.get(f"/consultations/{consultation.slug}/moderation-log").status_code == 200
    # Elsewhere they take part as before.
    elsewhere = make_consultation()
    vote = client.call("PUT", f"/items/{items_of(elsewhere)[0].pk}/vote", {"choice": "for"})
    assert vote.status_code == 200
