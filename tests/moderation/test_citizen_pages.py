"""Moderation as citizens meet it, through the pages: reporting a comment from the debate,
hidden, held and locked comments as others and their author see them, the decision page
and its appeal, the charter and the public log."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse

from consultation.models import Appeal, Consultation, Decision, Membership, Notice, Report, Rule
from consultation.moderation import charter, decisions, reports
from consultation.participation import debate
from tests.consultation.test_thread_pages import seed
from tests.factories import add_member, make_consultation
from tests.support.accounts import login
from tests.support.html import problems

pytestmark = pytest.mark.django_db

INSULT = "Tu es un imbécile fini."
NOTE = "Critiquez les idées, pas les personnes."


@pytest.fixture
def place(make_user, moderator, organiser):
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    item = consultation.items.first()
    author = make_user("alex@example.org", display_name="Alex")
    comment = debate.post_comment(author, item, INSULT)
    return consultation, item, author, comment


def browser(user=None, language="en"):
    client = Client()
    client.cookies["django_language"] = language
    if user is not None:
        login(client, user)
    return client


def report_url(comment):
    item = comment.item
    return reverse(
        "moderation_public:report",
        kwargs={"slug": item.consultation.slug, "item_id": item.pk, "comment_id": comment.pk},
    )


def decision_url(decision):
    return reverse("moderation_public:decision", kwargs={"decision_id": decision.pk})


def comment_ids(content: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<article id="comment-(\d+)"', content)]


def article(content: str, comment) -> str:
    """The HTML of ``comment``'s article on the item page."""
    match = re.search(rf'<article id="comment-{comment.pk}">(.*?)</article>', content, re.S)
    assert match, f"comment {comment.pk} is not on the page"
    return match.group(1)


# --- Reporting ---------------------------------------------------------------------------------


def test_a_citizen_reports_a_comment_and_sees_it_was_received(place, citizen, moderator):
    _consultation, item, _author, comment = place
    client = browser(citizen)
    page = client.get(item.get_absolute_url())
    assert problems(page.content) == []
    mine = article(page.content.decode(), comment)
    # A report control with the charter's seven rules, and a link to read them.
    assert f'action="{report_url(comment)}"' in mine
    assert mine.count("<option") == 8  # "Choose a rule" and the seven rules
    assert "1. Insults or harassment" in mine and "7. Other" in mine
    assert reverse("moderation_public:charter", kwargs={"slug": item.consultation.slug}) in mine

    response = client.post(report_url(comment), {"rule": Rule.INSULT, "text": ""})
    assert response.status_code == 302
    assert response["Location"] == (
        f"{item.get_absolute_url()}?comment={comment.pk}#comment-{comment.pk}"
    )
    report = Report.objects.get(comment=comment, reporter=citizen)
    assert report.rule == Rule.INSULT and report.status == Report.Status.OPEN

    page = client.get(response["Location"])
    content = page.content.decode()
    assert "your report was received" in content
    mine = article(content, comment)
    assert "You reported this comment: a moderator will look at it." in mine
    assert report_url(comment) not in mine  # no second report offered
    assert problems(page.content) == []
    # Later they learn what was decided: a notice, linking to the decision.
    decision = decisions.hide(moderator, comment, Rule.INSULT, NOTE)
    notice = Notice.objects.filter(user=citizen, data__status="upheld").get()
    assert notice.url == decision_url(decision)
    mine = article(client.get(item.get_absolute_url()).content.decode(), comment)
    assert "You reported this comment: moderation hid it." in mine


def test_a_report_far_down_the_debate_comes_back_to_the_page_showing_the_comment(
    place, citizen, make_user
):
    _consultation, item, _author, comment = place  # the oldest comment: on the last page
    seed(item, [make_user()], roots=45, start=comment.created_at + timedelta(minutes=1))
    client = browser(citizen)
    assert comment.pk not in comment_ids(client.get(item.get_absolute_url()).content.decode())

    response = client.post(report_url(comment), {"rule": Rule.INSULT, "text": ""})
    assert response.status_code == 302
    page = client.get(response["Location"])
    content = page.content.decode()
    assert comment.pk in comment_ids(content)
    assert "your report was received" in content
    assert "You reported this comment: a moderator will look at it." in article(content, comment)


def test_reporting_ones_own_comment_is_refused_next_to_it(place):
    _consultation, item, author, comment = place
    client = browser(author)
    assert report_url(comment) not in client.get(item.get_absolute_url()).content.decode()
    response = client.post(report_url(comment), {"rule": Rule.SPAM})
    assert response.status_code == 403
    assert "You cannot report your own comment." in article(response.content.decode(), comment)
    assert problems(response.content) == []
    assert not Report.objects.exists()


def test_a_second_report_of_the_same_comment_is_a_conflict(place, citizen):
    comment = place[3]
    client = browser(citizen)
    assert client.post(report_url(comment), {"rule": Rule.SPAM}).status_code == 302
    response = client.post(report_url(comment), {"rule": Rule.HATE})
    assert response.status_code == 409
    mine = article(response.content.decode(), comment)
    assert "You have already reported this comment." in mine
    assert "You reported this comment: a moderator will look at it." in mine
    assert problems(response.content) == []
    assert Report.objects.get().rule == Rule.SPAM


def test_other_needs_a_text_said_next_to_the_field(place, citizen):
    comment = place[3]
    response = browser(citizen).post(report_url(comment), {"rule": Rule.OTHER, "text": " "})
    assert response.status_code == 422
    mine = article(response.content.decode(), comment)
    assert f'id="report{comment.pk}_text_error"' in mine
    assert "Say in a few words what is wrong with this comment." in mine
    assert '<details class="action" open>' in mine  # the form stays open, as sent
    assert problems(response.content) == []
    # Without a rule at all, the error is on the rule.
    response = browser(citizen).post(report_url(comment), {"rule": ""})
    assert response.status_code == 422
    assert f'id="report{comment.pk}_rule_error"' in response.content.decode()
    assert not Report.objects.exists()


def test_reports_are_rate_limited(place, citizen, settings, make_user):
    _consultation, item, _author, comment = place
    settings.MODERATION_REPORTS_PER_HOUR = 1
    other = debate.post_comment(make_user(), item, "Un autre avis.")
    client = browser(citizen)
    assert client.post(report_url(comment), {"rule": Rule.SPAM}).status_code == 302
    response = client.post(report_url(other), {"rule": Rule.SPAM})
    assert response.status_code == 429
    assert "You have sent many reports in the last hour" in article(
        response.content.decode(), other
    )
    assert Report.objects.count() == 1


def test_a_suspended_person_may_not_report(place, citizen, moderator):
    consultation, item, _author, comment = place
    decisions.suspend(moderator, citizen, consultation, Rule.INSULT, "", days=3)
    client = browser(citizen)
    assert report_url(comment) not in client.get(item.get_absolute_url()).content.decode()
    response = client.post(report_url(comment), {"rule": Rule.SPAM})
    assert response.status_code == 403
    assert "suspended your participation" in article(response.content.decode(), comment)
    assert not Report.objects.exists()


def test_visitors_and_unverified_accounts_get_no_report_control(place, unverified):
    item, comment = place[1], place[3]
    for client in (browser(), browser(unverified)):
        content = client.get(item.get_absolute_url()).content.decode()
        assert report_url(comment) not in content
        response = client.post(report_url(comment), {"rule": Rule.SPAM})
        assert response.status_code == 403
        assert problems(response.content) == []
    assert not Report.objects.exists()


def test_reporting_needs_the_csrf_token(place, citizen):
    client = Client(enforce_csrf_checks=True)
    login(client, citizen)
    assert client.post(report_url(place[3]), {"rule": Rule.SPAM}).status_code == 403
    assert not Report.objects.exists()


def test_a_closed_consultations_comments_can_still_be_reported(place, citizen):
    consultation, item, _author, comment = place
    consultation.status = Consultation.Status.CLOSED
    consultation.save()
    client = browser(citizen)
    assert report_url(comment) in client.get(item.get_absolute_url()).content.decode()
    assert client.post(report_url(comment), {"rule": Rule.SPAM}).status_code == 302


# --- Hidden, held and locked comments ---------------------------------------------------------


def test_a_hidden_comment_keeps_its_place_with_the_rule_and_its_replies(
    place, citizen, moderator, make_user
):
    consultation, item, author, comment = place
    debate.edit_comment(author, comment, INSULT + " Et je le maintiens.")
    reply = debate.post_comment(
        make_user(), item, "Restons calmes, s’il vous plaît.", parent=comment
    )
    decision = decisions.hide(moderator, comment, Rule.INSULT, NOTE)
    charter_url = reverse("moderation_public:charter", kwargs={"slug": consultation.slug})

    for client in (browser(), browser(citizen), browser(moderator)):
        page = client.get(item.get_absolute_url())
        content = page.content.decode()
        assert problems(page.content) == []
        assert "imbécile" not in content  # neither the text nor its earlier version
        assert NOTE not in content
        mine = article(content, comment)
        assert "Hidden by moderation — reason: Insults or harassment (rule 1)" in mine
        assert f'href="{charter_url}#regle-1"' in mine
        assert "Restons calmes" in article(content, reply)
        assert report_url(comment) not in content.split(f'id="comment-{reply.pk}"')[0]
        assert decision_url(decision) not in content

    # Its author still reads their text, with the notice and the way to appeal.
    page = browser(author).get(item.get_absolute_url())
    mine = article(page.content.decode(), comment)
    assert "imbécile" in mine
    assert "Hidden by moderation — reason: Insults or harassment (rule 1)" in mine
    assert decision_url(decision) in mine
    assert problems(page.content) == []


def test_the_hidden_notice_is_in_french(place, moderator):
    item, comment = place[1], place[3]
    decisions.hide(moderator, comment, Rule.INSULT)
    content = browser(language="fr").get(item.get_absolute_url()).content.decode()
    assert "Masqué par la modération — motif : Insulte ou harcèlement (règle 1)" in content
    assert "imbécile" not in content


def test_the_charters_own_wording_names_the_rule(place, moderator, organiser):
    consultation, item, _author, comment = place
    charter.save_charter(
        organiser, consultation, "", {"insult": {"title": "Pas d’attaques", "text": "…"}}
    )
    decisions.hide(moderator, comment, Rule.INSULT)
    content = browser().get(item.get_absolute_url()).content.decode()
    assert "Hidden by moderation — reason: Pas d’attaques (rule 1)" in content


def test_a_held_comment_awaits_review_and_only_its_author_reads_it(place, citizen, make_user):
    consultation, item, author, comment = place
    consultation.quarantine_threshold = 1
    consultation.save()
    reports.report_comment(make_user(), comment, Rule.INSULT)
    comment.refresh_from_db()
    assert comment.is_held

    for client in (browser(), browser(citizen)):
        page = client.get(item.get_absolute_url())
        content = page.content.decode()
        assert "Awaiting review by moderation" in article(content, comment)
        assert "imbécile" not in content
        assert report_url(comment) not in content
        assert problems(page.content) == []
    french = browser(citizen, language="fr").get(item.get_absolute_url()).content.decode()
    assert "En attente d’examen par la modération" in french
    mine = article(browser(author).get(item.get_absolute_url()).content.decode(), comment)
    assert "imbécile" in mine and "Awaiting review by moderation" in mine


def test_a_locked_thread_says_so_and_offers_no_reply(place, citizen, moderator, make_user):
    consultation, item, _author, comment = place
    reply = debate.post_comment(make_user(), item, "Une réponse.", parent=comment)
    elsewhere = debate.post_comment(make_user(), item, "Un autre fil.")
    decisions.lock(moderator, comment, Rule.OFF_TOPIC)

    def reply_url(target):
        return reverse(
            "consultation:comment_reply",
            kwargs={"slug": consultation.slug, "item_id": item.pk, "comment_id": target.pk},
        )

    page = browser(citizen).get(item.get_absolute_url())
    content = page.content.decode()
    assert problems(page.content) == []
    mine = article(content, comment)
    assert "Thread locked by moderation — reason: Off-topic (rule 4)" in mine
    assert reply_url(comment) not in content and reply_url(reply) not in content
    assert reply_url(elsewhere) in content
    assert "Une réponse." in content  # what was said stays readable
    # Posting anyway is refused next to the thread, not lost.
    response = browser(citizen).post(reply_url(reply), {"body": "Encore.", "stance": "neutral"})
    assert response.status_code == 409


# --- The decision page and the appeal ---------------------------------------------------------


@pytest.fixture
def hidden(place, moderator, make_user):
    _consultation, _item, author, comment = place
    reporter = make_user("rita@example.org", display_name="Rita")
    reports.report_comment(reporter, comment, Rule.INSULT)
    decision = decisions.hide(moderator, comment, Rule.INSULT, NOTE)
    return decision, author, reporter


def test_the_decision_page_tells_its_subject_what_why_and_how_to_appeal(hidden, organiser):
    decision, author, _reporter = hidden
    consultation = decision.consultation
    # The charter changes afterwards: the page quotes the wording the decision cited.
    charter.save_charter(
        organiser, consultation, "", {"insult": {"title": "Nouveau titre", "text": "Nouveau."}}
    )
    page = browser(author).get(decision_url(decision))
    assert page.status_code == 200
    content = page.content.decode()
    assert problems(page.content) == []
    assert "Comment hidden" in content
    assert "Rule 1: Insults or harassment" in content and "Nouveau titre" not in content
    assert "No insults, threats" in content  # the default wording, in force then
    assert NOTE in content and "imbécile" in content
    assert "Moderator" in content and "Malik" not in content
    assert 'name="text"' in content and "Send my appeal" in content


def test_the_decision_page_is_for_its_subject_reporters_and_moderators(
    hidden, citizen, moderator, make_user
):
    decision, _author, reporter = hidden
    # A reporter learns the decision and its rule, not the note addressed to the author.
    page = browser(reporter).get(decision_url(decision))
    assert page.status_code == 200
    assert "Rule 1: Insults or harassment" in page.content.decode()
    assert NOTE not in page.content.decode() and 'name="text"' not in page.content.decode()
    assert problems(page.content) == []
    # The consultation's moderators read it all.
    page = browser(moderator).get(decision_url(decision))
    assert page.status_code == 200 and NOTE in page.content.decode()
    # Anyone else: it does not exist; a visitor is asked to log in.
    assert browser(citizen).get(decision_url(decision)).status_code == 404
    other_moderator = make_user("otto@example.org", is_moderator=True)
    assert browser(other_moderator).get(decision_url(decision)).status_code == 404
    response = browser().get(decision_url(decision))
    assert response.status_code == 302 and response["Location"].startswith(reverse("account_login"))


def test_an_appeal_is_sent_once_with_a_text(hidden):
    decision, author, _reporter = hidden
    client = browser(author)
    response = client.post(decision_url(decision), {"text": "  "})
    assert response.status_code == 422
    assert 'id="appeal_text_error"' in response.content.decode()
    assert problems(response.content) == []
    assert not Appeal.objects.exists()

    response = client.post(decision_url(decision), {"text": "Ce n’était pas une insulte."})
    assert response.status_code == 302 and response["Location"] == decision_url(decision)
    appeal = Appeal.objects.get(decision=decision)
    assert appeal.appellant == author and appeal.status == Appeal.Status.PENDING
    page = client.get(decision_url(decision))
    content = page.content.decode()
    assert "Your appeal was received." in content
    assert "Awaiting a decision" in content and "Ce n’était pas une insulte." in content
    assert 'name="text"' not in content

    response = client.post(decision_url(decision), {"text": "Encore."})
    assert response.status_code == 409
    assert "You have already appealed this decision." in response.content.decode()
    assert problems(response.content) == []
    assert Appeal.objects.count() == 1


def test_nobody_else_appeals(hidden, citizen, moderator):
    decision, _author, reporter = hidden
    response = browser(reporter).post(decision_url(decision), {"text": "Moi aussi."})
    assert response.status_code == 403
    assert "Only the person a decision is about may appeal it." in response.content.decode()
    assert browser(moderator).post(decision_url(decision), {"text": "x"}).status_code == 403
    assert browser(citizen).post(decision_url(decision), {"text": "x"}).status_code == 404
    assert not Appeal.objects.exists()


def test_the_appeals_outcome_and_reason_are_shown(hidden, organiser, make_user):
    from consultation.moderation import appeals

    decision, author, reporter = hidden
    appeal = appeals.appeal(author, decision, "Je conteste.")
    appeals.decide(organiser, appeal, grant=False, reason="C’était bien une insulte.")
    content = browser(author).get(decision_url(decision)).content.decode()
    assert "Appeal rejected" in content and "C’était bien une insulte." in content
    assert "The decision stands." in content
    # The reporter learns the outcome, not the reason addressed to the author.
    content = browser(reporter).get(decision_url(decision)).content.decode()
    assert "Appeal rejected" in content and "C’était bien une insulte." not in content
    # The outcome's own line of the log leads to the decision it answers.
    outcome = Decision.objects.get(answers=appeal)
    response = browser(author).get(decision_url(outcome))
    assert response.status_code == 302 and response["Location"] == decision_url(decision)


# --- The charter and the public log -----------------------------------------------------------


def test_the_charter_in_force_and_its_earlier_versions(place, organiser):
    consultation = place[0]
    url = reverse("moderation_public:charter", kwargs={"slug": consultation.slug})
    page = browser().get(url)
    assert page.status_code == 200 and problems(page.content) == []
    content = page.content.decode()
    for number in range(1, 8):
        assert f'id="regle-{number}"' in content
    assert "Rule 1: Insults or harassment" in content

    charter.save_charter(organiser, consultation, "Première version.", {})
    charter.save_charter(
        organiser, consultation, "Deuxième version.", {"spam": {"title": "Réclame", "text": "Non."}}
    )
    page = browser().get(url)
    content = page.content.decode()
    assert "Deuxième version." in content and "Rule 3: Réclame" in content
    assert 'href="?version=1"' in content and 'href="?version=0"' in content
    assert problems(page.content) == []
    earlier = browser().get(url + "?version=1")
    content = earlier.content.decode()
    assert "Première version." in content and "Rule 3: Spam or advertising" in content
    assert "no longer in force" in content
    assert problems(earlier.content) == []
    for wrong in ("9", "abc", "-1", "9" * 40):
        assert browser().get(url, {"version": wrong}).status_code == 404


def test_the_public_log_shows_role_and_rule_but_names_nobody(hidden, make_user):
    decision, _author, _reporter = hidden
    consultation = decision.consultation
    url = reverse("moderation_public:log", kwargs={"slug": consultation.slug})
    page = browser().get(url)
    assert page.status_code == 200
    content = page.content.decode()
    assert problems(page.content) == []
    assert "Comment hidden" in content and "Moderator" in content
    assert "Rule 1: Insults or harassment" in content
    for secret in ("Malik", "malik@", "Alex", "alex@", "Rita", "rita@", "imbécile", NOTE):
        assert secret not in content
    # The counts per rule.
    row = re.search(r"Rule 1: Insults or harassment</a></th><td>(\d+)</td>", content)
    assert row and row.group(1) == "1"
    assert "Median time from the first report to a decision" in content
    french = browser(language="fr").get(url).content.decode()
    assert "Modérateur" in french or "Modératrice" in french


def test_the_consultation_page_links_to_the_charter_and_the_log(place):
    consultation = place[0]
    content = browser().get(consultation.get_absolute_url()).content.decode()
    assert reverse("moderation_public:charter", kwargs={"slug": consultation.slug}) in content
    assert reverse("moderation_public:log", kwargs={"slug": consultation.slug}) in content


def test_drafts_have_no_charter_or_log_pages(organiser):
    draft = make_consultation(status=Consultation.Status.DRAFT, organiser=organiser)
    for name in ("charter", "log"):
        url = reverse(f"moderation_public:{name}", kwargs={"slug": draft.slug})
        assert browser().get(url).status_code == 404


def test_a_suspension_is_explained_and_appealable_on_its_page(place, moderator, staff):
    consultation, _item, author, _comment = place
    here = decisions.suspend(moderator, author, consultation, Rule.SPAM, "Trop de pub.", days=3)
    everywhere = decisions.suspend(staff, author, None, Rule.SPAM, "Partout.", days=None)
    client = browser(author)
    page = client.get(decision_url(here))
    content = page.content.decode()
    assert page.status_code == 200 and problems(page.content) == []
    assert "Participant suspended" in content and "Trop de pub." in content
    assert "Rule 3: Spam or advertising" in content and 'name="text"' in content
    page = client.get(decision_url(everywhere))
    content = page.content.decode()
    assert page.status_code == 200 and problems(page.content) == []
    assert "Every consultation of the site" in content and "Site staff" in content
    assert "Until an appeal or a moderator lifts it." in content
    # Suspended everywhere, they may still appeal.
    response = client.post(decision_url(everywhere), {"text": "Je conteste."})
    assert response.status_code == 302
    # A site-wide decision is for staff to read, not for the consultation's moderators.
    assert browser(staff).get(decision_url(everywhere)).status_code == 200
    assert browser(moderator).get(decision_url(everywhere)).status_code == 404
