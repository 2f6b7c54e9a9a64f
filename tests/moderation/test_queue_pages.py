"""The moderators' space through its pages (/moderation/): the queue in context and by
urgency, every action as a POST form (with its message, or its refusal and status), the
appeals to decide, who may come in, and pages that are valid, labelled HTML."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from consultation.models import (
    Appeal,
    Comment,
    Decision,
    Membership,
    Report,
    Rule,
    Suspension,
)
from consultation.moderation import appeals, decisions, reports
from consultation.participation import debate
from tests.factories import add_member, make_consultation
from tests.support.accounts import enable_totp, login, remove_mfa
from tests.support.html import problems

pytestmark = pytest.mark.django_db
A = Decision.Action
QUEUE = reverse("moderation:queue")


@pytest.fixture
def place(moderator, organiser, make_user):
    """An open consultation moderated by ``moderator``, and a comment by Alex."""
    consultation = make_consultation(organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    item = consultation.items.first()
    author = make_user("alex@example.org", display_name="Alex")
    comment = debate.post_comment(author, item, "Un commentaire discutable.", "against")
    return consultation, item, author, comment


@pytest.fixture
def colleague(make_user, place):
    user = make_user("mia@example.org", display_name="Mia")
    enable_totp(user)
    add_member(place[0], user, Membership.Role.MODERATOR)
    return user


@pytest.fixture
def reporters(make_user):
    """``reporters(n)``: n new people, none of them named in any page."""
    return lambda n: [make_user(display_name=f"Rapporteur {i}") for i in range(n)]


def page_url(consultation):
    return reverse("moderation:consultation", kwargs={"slug": consultation.slug})


def comment_url(comment):
    return reverse(
        "moderation:comment",
        kwargs={"slug": comment.item.consultation.slug, "comment_id": comment.pk},
    )


def sound(response, status=200):
    assert response.status_code == status, response.content[:2000]
    assert problems(response.content) == []
    return response.content.decode()


def says(content, english, **values):
    """The page shows ``english`` in the page's language (French by default)."""
    with translation.override("fr"):
        text = translation.gettext(english) % values if values else translation.gettext(english)
    assert escape(text) in content, text


def entry_order(content):
    return [int(pk) for pk in re.findall(r'data-entry data-comment="(\d+)"', content)]


def post_action(client, comment, action, rule=Rule.INSULT, note="", back="consultation", **extra):
    prefix = "s" if action == "suspend" else "c"
    data = {
        "action": action,
        "back": back,
        f"{prefix}{comment.pk}-rule": rule,
        f"{prefix}{comment.pk}-note": note,
        **{f"{prefix}{comment.pk}-{name}": value for name, value in extra.items()},
    }
    return client.post(comment_url(comment), data)


# --- The queue ---------------------------------------------------------------------------


def test_the_queue_lists_reported_and_held_comments_most_urgent_first(
    client_for, moderator, place, reporters, make_user
):
    consultation, item, _author, once = place
    thrice = debate.post_comment(make_user(display_name="Bea"), item, "Un autre avis.")
    spammer = make_user(display_name="Sam Spam")
    debate.post_comment(spammer, item, "Achetez nos produits !")
    held = debate.post_comment(spammer, item, "Achetez nos produits !")  # the same text: held
    quiet = debate.post_comment(make_user(), item, "Rien à signaler.")
    assert held.is_held
    one, two, three = reporters(3)
    reports.report_comment(one, once, Rule.OFF_TOPIC)
    for person in (one, two, three):
        reports.report_comment(person, thrice, Rule.INSULT)
    # Urgency: 3 reports (3) > held, nobody reported it yet (2) > 1 report (1).
    client = client_for(moderator)
    content = sound(client.get(page_url(consultation)))
    assert entry_order(content) == [thrice.pk, held.pk, once.pk]
    assert quiet.pk not in entry_order(content)
    # The wait counts too: a report waiting for days comes before fresher, weightier ones.
    Report.objects.filter(comment=once).update(created_at=timezone.now() - timedelta(days=4))
    content = client.get(page_url(consultation)).content.decode()
    assert entry_order(content) == [once.pk, thrice.pk, held.pk]


def test_an_entry_shows_its_context_and_the_reports_but_never_who_reported(
    client_for, moderator, place, reporters
):
    consultation, item, _author, parent = place
    reply = debate.post_comment(place[2], item, "Une réponse agressive.", parent=parent)
    one, two = reporters(2)
    reports.report_comment(one, reply, Rule.OTHER, "Il vise une personne nommée.")
    reports.report_comment(two, reply, Rule.OTHER, "Hors charte.")
    content = sound(client_for(moderator).get(page_url(consultation)))
    entry = content[content.index(f'id="entry-{reply.pk}"') :]
    entry = entry[: entry.index("</article>")]
    # The comment, its item (a link to it in the debate), its parent, its place.
    assert "Une réponse agressive." in entry
    assert f'href="{item.get_absolute_url()}#comment-{reply.pk}"' in entry
    assert "Un commentaire discutable." in entry and "Alex" in entry
    assert re.search(r"(Reply|Réponse) 1 (of|sur) 1", entry)
    # The reports: rule, count, weight, what they wrote; never who.
    assert "Il vise une personne nommée." in entry and "Hors charte." in entry
    assert re.search(r"2 (open reports|signalements ouverts)", entry)
    for person in (one, two):
        assert person.display_name not in content and person.email not in content
    # The forms start on the most reported rule.
    assert re.search(r'<option value="other" selected>', entry)


def test_the_overview_counts_per_consultation_and_queues_across_them(
    client_for, moderator, place, reporters, make_user
):
    consultation, _item, _author, comment = place
    other = make_consultation()
    add_member(other, moderator, Membership.Role.MODERATOR)
    elsewhere = debate.post_comment(make_user(), other.items.first(), "Ailleurs.")
    not_mine = make_consultation()
    foreign = debate.post_comment(make_user(), not_mine.items.first(), "Pas chez moi.")
    one, two = reporters(2)
    reports.report_comment(one, comment, Rule.SPAM)
    reports.report_comment(one, elsewhere, Rule.SPAM)
    reports.report_comment(two, elsewhere, Rule.SPAM)
    reports.report_comment(one, foreign, Rule.SPAM)
    content = sound(client_for(moderator).get(QUEUE))
    assert entry_order(content) == [elsewhere.pk, comment.pk]
    assert not_mine.title not in content
    rows = re.findall(
        r'<th scope="row"><a href="([^"]+)">[^<]+</a></th>\s*<td>[^<]+</td>\s*'
        r"<td>(\d+)</td>\s*<td>(\d+)</td>",
        content,
    )
    assert (page_url(other), "1", "0") in rows and (page_url(consultation), "1", "0") in rows


def test_an_empty_queue_says_so(client_for, moderator, place):
    content = sound(client_for(moderator).get(page_url(place[0])))
    says(content, "Nothing to review.")


# --- Actions through the page ------------------------------------------------------------


@pytest.mark.parametrize("back", ["consultation", "all", "comment"])
def test_hiding_from_the_page_redirects_back_with_a_message(
    client_for, moderator, place, reporters, back
):
    consultation, _item, author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    client = client_for(moderator)
    response = post_action(client, comment, "hide", note="Restez courtois.", back=back)
    target = {
        "consultation": page_url(consultation),
        "all": QUEUE,
        "comment": comment_url(comment),
    }[back]
    assert response.status_code == 302 and response["Location"] == target
    comment.refresh_from_db()
    assert comment.is_hidden and comment.hidden_rule == Rule.INSULT
    decision = Decision.objects.get(comment=comment)
    assert (decision.action, decision.note, decision.moderator, decision.subject) == (
        A.HIDE,
        "Restez courtois.",
        moderator,
        author,
    )
    content = sound(client.get(target))
    says(
        content,
        "Comment hidden under rule %(number)s (%(rule)s); its author is told.",
        number=1,
        rule=translation.gettext("Insults or harassment"),
    )
    if back != "comment":
        assert comment.pk not in entry_order(content)  # decided: out of the queue


def test_each_action_on_an_entry(client_for, moderator, place, reporters, make_user):
    consultation, item, author, comment = place
    client = client_for(moderator)
    # Dismiss: the reports close, the comment stays.
    reports.report_comment(reporters(1)[0], comment, Rule.SPAM)
    assert post_action(client, comment, "dismiss", Rule.SPAM).status_code == 302
    assert not Report.objects.filter(comment=comment, status="open").exists()
    assert not Comment.objects.get(pk=comment.pk).is_withheld
    # Lock, then unlock the thread.
    assert post_action(client, comment, "lock", Rule.OFF_TOPIC).status_code == 302
    assert Comment.objects.get(pk=comment.pk).locked_at is not None
    assert post_action(client, comment, "unlock", Rule.OFF_TOPIC).status_code == 302
    assert Comment.objects.get(pk=comment.pk).locked_at is None
    # Restore a held comment.
    spammer = make_user(display_name="Sam Spam")
    debate.post_comment(spammer, item, "Achetez !")
    held = debate.post_comment(spammer, item, "Achetez !")
    assert post_action(client, held, "restore", Rule.SPAM, note="Faux positif.").status_code == 302
    assert not Comment.objects.get(pk=held.pk).is_withheld
    # Warn the author.
    assert post_action(client, comment, "warn", Rule.INSULT, note="Attention.").status_code == 302
    assert Decision.objects.filter(action=A.WARN, subject=author, comment=comment).exists()
    # Suspend them here for 3 days, and (another author) until lifted.
    assert post_action(client, comment, "suspend", Rule.INSULT, days="3").status_code == 302
    suspension = Suspension.objects.get(user=author)
    assert suspension.consultation == consultation
    assert timedelta(days=2.9) < suspension.ends_at - timezone.now() < timedelta(days=3.1)
    assert post_action(client, held, "suspend", Rule.SPAM, days="").status_code == 302
    assert Suspension.objects.get(user=spammer).ends_at is None
    actions = list(Decision.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [A.DISMISS, A.LOCK, A.UNLOCK, A.RESTORE, A.WARN, A.SUSPEND, A.SUSPEND]


def test_only_staff_may_suspend_everywhere(client_for, moderator, staff, place, make_user):
    consultation, _item, author, comment = place
    response = post_action(client_for(moderator), comment, "suspend", days="2", scope="site")
    assert response.status_code == 302  # no such choice for a moderator: here only
    assert Suspension.objects.get(user=author).consultation == consultation
    content = sound(client_for(staff).get(page_url(consultation)))
    other = debate.post_comment(make_user(), consultation.items.first(), "Encore.")
    reports.report_comment(make_user(), other, Rule.SPAM)
    content = sound(client_for(staff).get(page_url(consultation)))
    assert f'name="s{other.pk}-scope"' in content
    response = post_action(client_for(staff), other, "suspend", Rule.SPAM, days="", scope="site")
    assert response.status_code == 302
    suspension = Suspension.objects.get(user=other.author)
    assert suspension.consultation is None and suspension.ends_at is None


def test_a_second_moderator_on_a_decided_comment_gets_409_and_the_message(
    client_for, moderator, colleague, place, reporters
):
    _consultation, _item, _author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    decisions.hide(colleague, comment, Rule.INSULT)
    for back in ("consultation", "all", "comment"):
        response = post_action(client_for(moderator), comment, "hide", back=back)
        content = sound(response, 409)
        says(content, "A colleague already hid this comment.")
        assert 'role="alert"' in content
    for action in ("dismiss",):
        response = post_action(client_for(moderator), comment, action)
        sound(response, 409)
    assert Decision.objects.filter(comment=comment).count() == 1


def test_refusals_are_shown_next_to_their_field_with_their_status(
    client_for, moderator, place, reporters
):
    _consultation, _item, _author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    client = client_for(moderator)
    content = sound(post_action(client, comment, "hide", rule=""), 422)
    entry = content[content.index(f'id="entry-{comment.pk}"') :]
    assert 'aria-invalid="true"' in entry[: entry.index("</article>")]
    # Rule "other" without a note: the note's field says so; what was typed stays.
    content = sound(post_action(client, comment, "hide", rule=Rule.OTHER, note=" "), 422)
    says(content, "Rule “other” needs a note saying what the problem is.")
    content = sound(post_action(client, comment, "suspend", days="400"), 422)
    assert f'id="id_s{comment.pk}-days"' in content
    # An unknown action changes nothing.
    sound(post_action(client, comment, "delete"), 422)
    assert not Decision.objects.exists()


def test_a_moderator_cannot_decide_about_themselves(client_for, moderator, place):
    consultation = place[0]
    own = debate.post_comment(moderator, consultation.items.first(), "Mon propre avis.")
    content = sound(post_action(client_for(moderator), own, "warn"), 422)
    says(content, "You cannot take a decision about yourself.")
    assert not Decision.objects.exists()


# --- Appeals -----------------------------------------------------------------------------


@pytest.fixture
def appealed(place, moderator, reporters):
    """Alex's comment, hidden by ``moderator``, and Alex's appeal."""
    _consultation, _item, author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    decision = decisions.hide(moderator, comment, Rule.INSULT, "Insultant.")
    return appeals.appeal(author, decision, "Je critiquais une idée, pas une personne.")


def test_appeals_wait_for_a_colleague_never_for_the_one_who_decided(
    client_for, moderator, colleague, appealed
):
    consultation = appealed.decision.consultation
    mine = sound(client_for(moderator).get(page_url(consultation)))
    assert f'data-appeal="{appealed.pk}"' not in mine
    assert re.search(r"1 (appeal against one of your decisions|recours contre)", mine)
    theirs = sound(client_for(colleague).get(page_url(consultation)))
    assert f'data-appeal="{appealed.pk}"' in theirs
    assert "Je critiquais une idée, pas une personne." in theirs
    # The one who decided is refused, through the page too.
    url = reverse("moderation:appeal", kwargs={"appeal_id": appealed.pk})
    page = sound(client_for(moderator).get(url))
    assert 'name="action"' not in page
    response = client_for(moderator).post(
        url, {"action": "grant", "back": "appeal", f"a{appealed.pk}-reason": "Oui."}
    )
    sound(response, 403)
    assert Appeal.objects.get(pk=appealed.pk).status == Appeal.Status.PENDING


@pytest.mark.parametrize(("action", "status"), [("grant", "granted"), ("reject", "rejected")])
def test_a_colleague_answers_an_appeal_with_a_required_reason(
    client_for, colleague, appealed, action, status
):
    consultation = appealed.decision.consultation
    url = reverse("moderation:appeal", kwargs={"appeal_id": appealed.pk})
    client = client_for(colleague)
    content = sound(client.post(url, {"action": action, "back": "consultation"}), 422)
    assert 'aria-invalid="true"' in content
    response = client.post(
        url,
        {"action": action, "back": "consultation", f"a{appealed.pk}-reason": "Après relecture."},
    )
    assert response.status_code == 302 and response["Location"] == page_url(consultation)
    appealed.refresh_from_db()
    assert appealed.status == status
    comment = appealed.decision.comment
    comment.refresh_from_db()
    assert comment.is_hidden == (action == "reject")
    sound(client.get(response["Location"]))
    # Answered once: the second answer is a conflict, shown with its message.
    again = client.post(
        url, {"action": action, "back": "appeal", f"a{appealed.pk}-reason": "Encore."}
    )
    content = sound(again, 409)
    says(content, "A colleague already answered this appeal.")


# --- Who may come in ---------------------------------------------------------------------


def test_a_moderator_of_another_consultation_and_a_citizen_are_refused(
    client_for, make_user, moderator, citizen, place, reporters
):
    consultation, _item, _author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    elsewhere = make_user(display_name="Eve")
    enable_totp(elsewhere)
    add_member(make_consultation(), elsewhere, Membership.Role.MODERATOR)
    decision = decisions.hide(moderator, comment, Rule.INSULT)
    appeal = appeals.appeal(comment.author, decision, "Non.")
    appeal_url = reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk})
    for person in (elsewhere, citizen):
        client = client_for(person)
        for url in (page_url(consultation), comment_url(comment), appeal_url):
            assert client.get(url).status_code == 403, (person, url)
        assert post_action(client, comment, "restore").status_code == 403
        assert (
            client.post(appeal_url, {"action": "grant", f"a{appeal.pk}-reason": "x"}).status_code
            == 403
        )
    # The other consultation's moderator has a space, with none of this in it.
    content = sound(client_for(elsewhere).get(QUEUE))
    assert consultation.title not in content and "Un commentaire discutable." not in content
    assert client_for(citizen).get(QUEUE).status_code == 403
    assert Comment.objects.get(pk=comment.pk).is_hidden
    assert Appeal.objects.get(pk=appeal.pk).status == Appeal.Status.PENDING


def test_a_draft_is_answered_like_an_unknown_consultation(client_for, citizen):
    draft = make_consultation(status="draft")
    client = client_for(citizen)
    assert client.get(page_url(draft)).status_code == 404
    assert (
        client.get(reverse("moderation:consultation", kwargs={"slug": "nope"})).status_code == 404
    )


def test_a_moderator_without_the_second_factor_is_sent_to_pass_it(client, moderator, place):
    consultation, _item, _author, comment = place
    pages = [QUEUE, page_url(consultation), comment_url(comment)]
    login(client, moderator, second_factor=False)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("mfa_reauthenticate")), url
    response = post_action(client, comment, "hide")
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))
    # Without MFA set up at all: sent to set it up.
    remove_mfa(moderator)
    login(client, moderator)
    for url in pages:
        assert client.get(url)["Location"].startswith(reverse("mfa_activate_totp")), url
    assert not Decision.objects.exists()


def test_visitors_are_sent_to_log_in(client, place):
    consultation, _item, _author, comment = place
    for url in (QUEUE, page_url(consultation), comment_url(comment)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


# --- Sound pages -------------------------------------------------------------------------


def test_every_page_of_the_space_is_valid_and_labelled(
    client_for, moderator, colleague, staff, place, reporters, make_user
):
    """Entries with every state (reported, held, a reply, locked), an appeal, the
    decisions list: valid HTML, every control labelled, no inline script, in both
    languages, for a moderator and for staff (who get the site-wide choice)."""
    consultation, item, author, comment = place
    reply = debate.post_comment(make_user(), item, "Une réponse.", parent=comment)
    spammer = make_user()
    debate.post_comment(spammer, item, "Promo !")
    debate.post_comment(spammer, item, "Promo !")
    one, two = reporters(2)
    reports.report_comment(one, comment, Rule.OTHER, "Texte libre.")
    reports.report_comment(two, reply, Rule.HATE)
    decisions.lock(colleague, reply, Rule.OFF_TOPIC)
    decision = decisions.warn(colleague, author, consultation, Rule.INSULT, comment=comment)
    appeal = appeals.appeal(author, decision, "Je conteste.")
    pages = [
        QUEUE,
        page_url(consultation),
        comment_url(comment),
        comment_url(reply),
        reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk}),
    ]
    for person in (moderator, staff):
        for language in ("fr", "en"):
            client = client_for(person)
            client.cookies["django_language"] = language
            for url in pages:
                content = sound(client.get(url))
                assert f'<html lang="{language}"' in content, url
    content = client_for(moderator).get(page_url(consultation)).content.decode()
    # Every action is a POST form with its CSRF token; the shortcuts are documented.
    assert content.count('method="post"') >= 3
    assert content.count("csrfmiddlewaretoken") == content.count('method="post"')
    assert 'aria-keyshortcuts="h"' in content and 'id="shortcuts"' in content
    assert "js/moderation" in content and "data-moderation-streams" in content


def test_the_admin_leads_to_the_moderation_pages_and_stays_for_staff(
    client_for, moderator, staff, place, reporters
):
    _consultation, _item, author, comment = place
    decision = decisions.hide(moderator, comment, Rule.INSULT)
    appeal = appeals.appeal(author, decision, "Non.")
    client = client_for(staff)
    listing = client.get(reverse("admin:consultation_comment_changelist")).content.decode()
    assert f'href="{comment_url(comment)}"' in listing
    change = client.get(reverse("admin:consultation_comment_change", args=[comment.pk]))
    assert f'href="{comment_url(comment)}"' in change.content.decode()
    appeal_page = client.get(reverse("admin:consultation_appeal_change", args=[appeal.pk]))
    assert (
        reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk})
        in appeal_page.content.decode()
    )
    decision_page = client.get(reverse("admin:consultation_decision_change", args=[decision.pk]))
    assert decision_page.status_code == 200
    # Each link leads somewhere real.
    assert client.get(comment_url(comment)).status_code == 200
    assert (
        client.get(reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk})).status_code == 200
    )
    # Moderators moderate in their space, not in the admin.
    assert client_for(moderator).get(
        reverse("admin:consultation_comment_changelist")
    ).status_code in (302, 403)


def test_the_queue_costs_the_same_queries_whatever_its_length(
    client_for, moderator, place, make_user
):
    """Context for every entry (parent, place in the thread, the author's record, the
    charter's wording) is read for all entries at once: no query per entry."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    consultation, item, _author, parent = place
    reporter = make_user(display_name="Rapporteuse")
    client = client_for(moderator)

    def add(n):
        for _ in range(n):
            author = make_user()
            reply = debate.post_comment(author, item, "Une réponse.", parent=parent)
            reports.report_comment(reporter, reply, Rule.SPAM, "Publicité.")

    def queries():
        with CaptureQueriesContext(connection) as captured:
            sound(client.get(page_url(consultation)))
        return len(captured)

    add(2)
    few = queries()
    add(10)
    many = queries()
    assert many == few, (few, many)


def test_hostile_values_get_a_sound_answer(client_for, moderator, place, reporters):
    _consultation, _item, _author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    client = client_for(moderator)
    for value in ("a\x00b", "x" * 100_000, "\x1b[31m", "\u202eevil", "-1", "9" * 40):
        for action in ("hide", "suspend"):
            response = post_action(client, comment, action, note=value, days=value)
            assert response.status_code in (302, 422), (value, action)
            if response.status_code == 422:
                sound(response, 422)
            comment.refresh_from_db()
            if comment.is_hidden:  # an acceptable note: put it back for the next value
                decisions.restore(moderator, comment, Rule.INSULT)
    notes = [decision.note for decision in Decision.objects.all()]
    assert notes and not any("\x00" in note or "\u202e" in note for note in notes), notes


# --- Lifting a suspension ----------------------------------------------------------------


def post_lift(client, comment, suspension, rule=Rule.INSULT, note="", back="consultation"):
    prefix = f"l{comment.pk}"
    data = {
        "action": "lift",
        "back": back,
        f"{prefix}-rule": rule,
        f"{prefix}-note": note,
        f"{prefix}-suspension": suspension.pk,
    }
    return client.post(comment_url(comment), data)


def test_a_moderator_lifts_a_suspension_from_the_entry_that_shows_it(
    client_for, moderator, colleague, place, reporters
):
    consultation, item, author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.INSULT)
    decision = decisions.suspend(
        colleague, author, consultation, Rule.INSULT, days=None, comment=comment
    )
    suspension = Suspension.objects.get(decision=decision)
    client = client_for(moderator)
    content = sound(client.get(page_url(consultation)))
    entry = content[content.index(f'id="entry-{comment.pk}"') :]
    entry = entry[: entry.index("</article>")]
    assert 'value="lift"' in entry
    assert f'name="l{comment.pk}-suspension" value="{suspension.pk}"' in entry
    # The form starts on the rule the suspension was decided under.
    assert re.search(
        rf'id="id_l{comment.pk}-rule"[^>]*>.*?<option value="insult" selected>', entry, re.S
    )
    # Rule "other" needs a note: 422, the lift form open with its error; nothing lifted.
    content = sound(post_lift(client, comment, suspension, Rule.OTHER), 422)
    says(content, "Rule “other” needs a note saying what the problem is.")
    assert re.search(r'<details class="mod-suspend mod-lift" open>', content)
    assert Suspension.objects.active().filter(pk=suspension.pk).exists()
    for back, target in (("comment", comment_url(comment)), ("all", QUEUE)):
        if back == "all":  # suspended again, lifted again from the overview
            decision = decisions.suspend(colleague, author, consultation, Rule.SPAM, days=3)
            suspension = Suspension.objects.get(decision=decision)
        response = post_lift(client, comment, suspension, note="Excuses reçues.", back=back)
        assert response.status_code == 302 and response["Location"] == target
        suspension.refresh_from_db()
        assert suspension.lifted_at is not None
        content = sound(client.get(target))
        says(content, "The suspension of %(name)s is lifted; they are told.", name="Alex")
        assert f'name="l{comment.pk}-suspension"' not in content  # nothing left to lift
    lifted = Decision.objects.filter(action=A.LIFT).order_by("pk")
    assert [(d.subject, d.moderator, d.note) for d in lifted] == [
        (author, moderator, "Excuses reçues."),
    ] * 2
    # The comment's page lists the lift among the decisions about it; Alex writes again.
    history = sound(client.get(comment_url(comment)))
    history = history[history.index('id="history-title"') :]
    says(history, "Suspension lifted")
    debate.post_comment(author, item, "Je peux de nouveau écrire.")
    # A colleague's second click is a conflict, shown with its message.
    content = sound(post_lift(client_for(colleague), comment, suspension), 409)
    says(content, "This suspension was already lifted.")
    assert Decision.objects.filter(action=A.LIFT).count() == 2


def test_a_site_wide_suspension_is_lifted_from_the_page_by_staff_only(
    client_for, moderator, staff, place, reporters
):
    consultation, _item, author, comment = place
    reports.report_comment(reporters(1)[0], comment, Rule.SPAM)
    decision = decisions.suspend(staff, author, None, Rule.SPAM, days=None)
    suspension = Suspension.objects.get(decision=decision)
    content = sound(client_for(moderator).get(page_url(consultation)))
    says(content, "Author suspended")
    assert 'value="lift"' not in content
    content = sound(post_lift(client_for(moderator), comment, suspension, Rule.SPAM), 403)
    says(content, "Only site staff may lift a suspension from every consultation.")
    assert Suspension.objects.active().filter(pk=suspension.pk).exists()
    client = client_for(staff)
    content = sound(client.get(comment_url(comment)))
    assert f'name="l{comment.pk}-suspension" value="{suspension.pk}"' in content
    response = post_lift(client, comment, suspension, Rule.SPAM, back="comment")
    assert response.status_code == 302
    assert not Suspension.objects.active().filter(user=author).exists()
    # Another person's suspension is not lifted through this comment's form.
    other = decisions.suspend(staff, moderator, consultation, Rule.SPAM, days=None)
    response = post_lift(client, comment, Suspension.objects.get(decision=other), Rule.SPAM)
    sound(response, 422)
    assert Suspension.objects.active().filter(decision=other).exists()
