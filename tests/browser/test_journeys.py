"""Whole journeys in Chromium (issue 15, "Journeys in `make test`"), in French on a desktop
and in English at 390 px: a newcomer signs up, opens the e-mail, verifies, then votes,
grades, ranks by keyboard and comments, the worker delivering the mail as in production;
an organiser imports measures, opens, closes early, answers and publishes, the worker
counting, and a citizen recounts the downloaded open data; a moderator hides a reported
comment and its author appeals."""

import json
import os
import random
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from consultation.models import (
    Appeal,
    Ballot,
    Comment,
    Consultation,
    Decision,
    Grade,
    Membership,
    Publication,
    Rule,
    Vote,
)
from consultation.moderation import reports
from consultation.participation import debate
from tests.factories import add_member, make_consultation, take_part

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "width"), [("fr", 1280), ("en", 390)])
def test_sign_up_verify_then_vote_grade_rank_by_keyboard_and_comment(
    new_context, mailbox, request, language, width
):
    # The worker that sends the mail, started once the database is open to this test (its
    # start runs Django's checks, which read the database).
    request.getfixturevalue("celery_worker")
    consultation = make_consultation(items=3)
    item = consultation.items.order_by("position").first()
    email = f"nouvelle-{language}@example.org"
    page = new_context(width=width, language=language).new_page()

    page.goto(reverse("account_signup"))
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=display_name]").fill("Nour")
    page.locator("input[name=password1]").fill("une phrase de passe assez longue")
    page.locator("input[name=password2]").fill("une phrase de passe assez longue")
    page.locator("main form button[type=submit]").last.click()
    page.wait_for_load_state()

    [message] = mailbox.wait_for(email)
    link = re.search(r"https?://[^/\s]+(/compte/confirm-email/[^\s]+/)", message["body"])[1]
    page.goto(link)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_load_state()

    page.goto(item.get_absolute_url())
    page.locator("#vote input[value='for']").check()
    page.locator("#vote button[type=submit]").click()
    page.wait_for_url("**#vote-done")
    page.locator("#grade input[type=radio]").first.check()
    page.locator("#grade button[type=submit]").first.click()
    page.wait_for_url("**#grade-done")

    page.goto(reverse("consultation:ranking", kwargs={"slug": consultation.slug}))
    page.locator("#ranking-finder").focus()
    page.keyboard.type(item.title if language == "fr" else item.title_en)
    page.keyboard.press("Enter")
    page.locator("a[href='#save-ranking']").focus()
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_url("**#ranking-done")

    page.goto(item.get_absolute_url())
    page.locator("#comment_body").fill("Bonne idée, à condition de la financer.")
    page.locator("form:has(#comment_body) input[name=stance][value=for]").check()
    page.locator("form:has(#comment_body) button[type=submit]").click()
    page.wait_for_url("**-done")
    expect(page.locator("article", has_text="Bonne idée")).to_be_visible()

    assert Vote.objects.get(item=item, user__email=email).choice == "for"
    assert Grade.objects.filter(item=item, user__email=email).exists()
    ballot = Ballot.objects.get(consultation=consultation, user__email=email)
    assert ballot.ranked_item_ids() == [item.pk]
    assert Comment.objects.filter(item=item, author__email=email).count() == 1


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("language", "width"), [("fr", 1280), ("en", 390)])
def test_an_organiser_imports_opens_closes_answers_and_publishes_and_a_citizen_recounts(
    new_context, organiser, make_user, request, settings, tmp_path, language, width
):
    """The organiser's whole journey in the browser, the worker counting as in production;
    then a citizen downloads the published open data and recounts it with the CLI."""
    request.getfixturevalue("celery_worker")  # the final count, after closing
    # Publishing (in this process, the served site's thread) copies the files the worker
    # counted: both read the same MEDIA_ROOT, the one the worker was started with.
    if os.environ.get("MEDIA_ROOT"):
        settings.MEDIA_ROOT = Path(os.environ["MEDIA_ROOT"])
    settings.OPEN_DATA_MIN_GROUP = 3
    consultation = make_consultation(items=0, status=Consultation.Status.DRAFT, organiser=organiser)
    slug = consultation.slug
    page = new_context(organiser, width=width, language=language).new_page()

    # Import three measures from a CSV file.
    page.goto(reverse("organiser:import", kwargs={"slug": slug}))
    page.locator("input[type=file]").set_input_files(
        files=[
            {
                "name": "mesures.csv",
                "mimeType": "text/csv",
                "buffer": b"title,title_en\nTrains de nuit,Night trains\n"
                b"Pistes cyclables,Cycle lanes\nCantines bio,Organic canteens\n",
            }
        ]
    )
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"**{reverse('organiser:items', kwargs={'slug': slug})}")
    assert consultation.items.count() == 3

    # Open it; people take part; close it early with a reason.
    page.goto(reverse("organiser:manage", kwargs={"slug": slug}))
    page.locator(
        f"form[action='{reverse('organiser:open_now', kwargs={'slug': slug})}'] button"
    ).click()
    page.wait_for_load_state()
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.OPEN
    rng = random.Random(5)
    for _ in range(8):
        take_part(make_user(), consultation, rng=rng)
    page.goto(reverse("organiser:close", kwargs={"slug": slug}))
    page.locator("textarea[name=reason]").fill("Assez de réponses.")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    consultation.refresh_from_db()
    assert consultation.status == Consultation.Status.CLOSED

    # The worker counts; the organiser answers the first measure and publishes.
    results = reverse("organiser:results", kwargs={"slug": slug})
    page.goto(results)
    publish = page.locator("#publish-heading")
    for _ in range(60):
        if publish.count():
            break
        page.wait_for_timeout(500)
        page.goto(results)
    assert publish.count(), "the final count never came"
    first = consultation.items.order_by("position").first()
    response = page.locator(f"#response-{first.pk}")
    response.locator("textarea[name=text]").fill("Nous ouvrirons deux lignes en 2027.")
    response.locator("textarea[name=text_en]").fill("We will open two lines in 2027.")
    response.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("form:has(#publish-heading), section:has(#publish-heading) form").locator(
        "button[type=submit]"
    ).click()
    page.wait_for_load_state()
    publication = Publication.objects.get(consultation=consultation)
    assert publication.version == 1

    # A citizen reads the results, downloads the open data and recounts it.
    citizen_page = new_context(width=width, language=language).new_page()
    citizen_page.goto(reverse("consultation:results", kwargs={"slug": slug}))
    answer = "Nous ouvrirons deux lignes" if language == "fr" else "We will open two lines"
    expect(citizen_page.locator("main")).to_contain_text(answer)
    manifest_url = reverse(
        "consultation:open_data", kwargs={"slug": slug, "version": 1, "filename": "manifest.json"}
    )
    assert citizen_page.locator(f"a[href='{manifest_url}']").count()
    download = tmp_path / "download"
    download.mkdir()
    manifest = citizen_page.request.get(manifest_url)
    assert manifest.ok
    (download / "manifest.json").write_bytes(manifest.body())
    listed = json.loads(manifest.body())["files"]
    names = [entry["name"] for entry in listed] if isinstance(listed, list) else list(listed)
    assert names
    for name in names:
        url = reverse(
            "consultation:open_data", kwargs={"slug": slug, "version": 1, "filename": name}
        )
        got = citizen_page.request.get(url)
        assert got.ok, name
        (download / name).write_bytes(got.body())
    done = subprocess.run(
        [sys.executable, "-m", "consultation.counting", "verify", str(download)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "MISMATCH" not in done.stdout


@pytest.mark.parametrize(("language", "width"), [("fr", 1280), ("en", 390)])
def test_a_moderator_hides_a_reported_comment_and_its_author_appeals(
    new_context, moderator, organiser, make_user, language, width
):
    consultation = make_consultation(items=1, organiser=organiser)
    add_member(consultation, moderator, Membership.Role.MODERATOR)
    item = consultation.items.first()
    author = make_user(f"auteur-{language}@example.org", display_name="Aurèle")
    comment = debate.post_comment(author, item, "Tu es un imbécile fini.")
    reports.report_comment(make_user(), comment, Rule.INSULT)

    # The moderator finds it in the queue and hides it under the rule it breaks.
    page = new_context(moderator, width=width, language=language).new_page()
    page.goto(reverse("moderation:queue"))
    page.goto(reverse("moderation:consultation", kwargs={"slug": consultation.slug}))
    entry = page.locator(f"#entry-{comment.pk}")
    expect(entry).to_be_visible()
    actions = entry.locator("form.mod-actions")
    actions.locator("select[name$=rule]").select_option(Rule.INSULT)
    actions.locator("textarea[name$=note]").fill("Critiquez les idées.")
    actions.locator("button[name=action][value=hide]").click()
    page.wait_for_load_state()
    decision = Decision.objects.get(comment=comment)
    assert decision.action == Decision.Action.HIDE

    # The author reads the decision, with the rule, and appeals it.
    mine = new_context(author, width=width, language=language).new_page()
    mine.goto(item.get_absolute_url())
    hidden = mine.locator(f"#comment-{comment.pk}")
    link = reverse("moderation_public:decision", kwargs={"decision_id": decision.pk})
    hidden.locator(f"a[href='{link}']").click()
    mine.wait_for_url(f"**{link}")
    mine.locator("textarea[name=text]").fill("Je visais l’idée, pas la personne.")
    mine.locator("main form button[type=submit]").click()
    mine.wait_for_load_state()
    appeal = Appeal.objects.get(decision=decision)
    assert appeal.appellant == author

    # The moderators see it waiting, on its own page, with what the author wrote.
    # (a colleague decides it: the one who hid the comment does not judge the appeal.)
    assert page.goto(reverse("moderation:appeal", kwargs={"appeal_id": appeal.pk})).ok
    expect(page.locator("main")).to_contain_text("Je visais l’idée, pas la personne.")
