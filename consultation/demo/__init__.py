"""Demo data for `make run`: the two programmes' consultations and a closed, real-sized one,
and some moderation so that the demo moderator finds a queue (reported comments, one held
for review, one hidden with its author's appeal waiting for an answer).

Idempotent: consultations are keyed by slug, themes by (consultation, slug) and
items by (consultation, position), generated participation is only created
when the consultation is first created, and the moderation story only where the
consultation has no report and no decision yet. Running it twice changes nothing.
"""

import json
import random
from datetime import timedelta
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from consultation.models import (
    Ballot,
    BallotEntry,
    Comment,
    ComputedResult,
    Consultation,
    Decision,
    Grade,
    Item,
    Membership,
    Notice,
    Report,
    Rule,
    Theme,
    Vote,
)
from consultation.moderation import appeals, decisions, reports
from consultation.notices import sending
from consultation.queries import fold
from consultation.results import computing

HERE = Path(__file__).resolve().parent
S = Consultation.Status

GENERATED_DOMAIN = "participants.demo.agora.test"
CLOSED_SLUG = "mediatheque-horaires-et-services"
# Generated accounts numbered from here take part in the moderation story (the ones
# before it vote in the open and closed consultations).
MODERATION_ACCOUNTS_START = 90_000
# Reports (weighted) that set a comment aside for review in the open consultation.
DEMO_QUARANTINE_THRESHOLD = 3

# The closed consultation: a town library asking which services to develop first.
CLOSED_ITEMS = [
    ("Ouvrir le dimanche après-midi", "Open on Sunday afternoons"),
    ("Prolonger l’ouverture jusqu’à 20 h en semaine", "Stay open until 8 pm on weekdays"),
    ("Créer un atelier de réparation d’ordinateurs", "Start a computer repair workshop"),
    ("Prêter des liseuses et des tablettes", "Lend e-readers and tablets"),
    ("Accompagner les démarches en ligne", "Help with online paperwork"),
    ("Développer le fonds en langues étrangères", "Grow the foreign-language collection"),
    ("Installer une salle de travail silencieuse", "Set up a quiet study room"),
    ("Proposer des ateliers de code pour les jeunes", "Offer coding workshops for young people"),
    ("Numériser les archives locales", "Digitise the local archives"),
    ("Organiser des débats citoyens mensuels", "Hold monthly citizens’ debates"),
    ("Rendre le site accessible aux lecteurs d’écran", "Make the website screen-reader friendly"),
    ("Supprimer les amendes de retard", "Abolish late-return fines"),
]
CLOSED_COMMENTS = [
    ("for", "Indispensable pour les personnes qui travaillent en semaine."),
    ("against", "Le budget serait mieux utilisé ailleurs, à mon avis."),
    ("neutral", "Bonne idée, mais comment sera-t-elle financée ?"),
    ("for", "Je m’en servirais chaque semaine avec mes enfants."),
    ("neutral", "À tester d’abord sur quelques mois, puis à évaluer."),
    ("against", "Cela risque de réduire les autres services."),
]


def account_age() -> timedelta:
    """How long ago demo accounts joined: well past the new-account limits on comments
    (``MODERATION_NEW_ACCOUNT_HOURS``), as people who took part for a while."""
    return timedelta(hours=settings.MODERATION_NEW_ACCOUNT_HOURS) + timedelta(days=60)


def _load(name: str) -> dict:
    return json.loads((HERE / name).read_text(encoding="utf-8"))


def _upsert_consultation(data: dict[str, Any], **settings_: Any) -> tuple[Consultation, bool]:
    consultation, created = Consultation.objects.get_or_create(
        slug=data["slug"],
        defaults={
            "title": data["title"],
            "title_en": data.get("title_en", ""),
            "summary": data["summary"],
            "summary_en": data.get("summary_en", ""),
            "description": data.get("description", ""),
            **settings_,
        },
    )
    themes = {}
    for position, theme in enumerate(data.get("themes", [])):
        themes[theme["slug"]], _ = Theme.objects.update_or_create(
            consultation=consultation,
            slug=theme["slug"],
            defaults={
                "name": theme["name"],
                "name_en": theme.get("name_en", ""),
                "position": position,
            },
        )
    for position, item in enumerate(data["items"]):
        Item.objects.update_or_create(
            consultation=consultation,
            position=position,
            defaults={
                "title": item["title"],
                "title_en": item.get("title_en", ""),
                "summary": item.get("summary", ""),
                "summary_en": item.get("summary_en", ""),
                "body": item.get("body", ""),
                "theme": themes.get(item.get("theme")),
                "source_reference": item.get("source_reference", ""),
            },
        )
    return consultation, created


def _participants(count: int, *, start: int = 0) -> list[User]:
    """Verified demo accounts (no usable password: they exist to have voted)."""
    emails = [f"p{n:05d}@{GENERATED_DOMAIN}" for n in range(start, start + count)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    joined = timezone.now() - account_age()
    new = [
        User(
            email=e,
            display_name=f"Participant {e[1:6]}",
            password=make_password(None),
            date_joined=joined,
        )
        for e in emails
        if e not in existing
    ]
    User.objects.bulk_create(new, batch_size=1000)
    users = list(User.objects.filter(email__in=emails).order_by("email"))
    with_address = set(
        EmailAddress.objects.filter(user__in=users).values_list("user_id", flat=True)
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(user=u, email=u.email, verified=True, primary=True)
            for u in users
            if u.pk not in with_address
        ],
        batch_size=1000,
    )
    return users


def _generate_participation(
    consultation: Consultation,
    users: list[User],
    rng: random.Random,
    *,
    comment_rate: float = 0.05,
) -> None:
    """Votes, grades, rankings and comments with some structure (items differ in appeal)."""
    items = list(consultation.items.order_by("position"))
    appeal = {item.pk: rng.uniform(-1.0, 1.0) for item in items}
    now = timezone.now()
    votes: list[Vote] = []
    grades: list[Grade] = []
    ballots: list[tuple[Ballot, list[Item]]] = []
    entries: list[BallotEntry] = []
    posts: list[Comment] = []
    for user in users:
        leaning = rng.gauss(0, 0.6)
        for item in rng.sample(items, k=max(1, int(len(items) * rng.uniform(0.3, 1.0)))):
            score = appeal[item.pk] + leaning + rng.gauss(0, 0.8)
            if consultation.voting_enabled:
                choice = "for" if score > 0.3 else "against" if score < -0.3 else "abstain"
                votes.append(
                    Vote(item=item, user=user, choice=choice, created_at=now, updated_at=now)
                )
            if consultation.grading_enabled:
                grade = min(consultation.grade_scale - 1, max(0, round(3 + score * 1.6)))
                grades.append(
                    Grade(item=item, user=user, grade=grade, created_at=now, updated_at=now)
                )
            if consultation.comments_enabled and rng.random() < comment_rate:
                stance, body = rng.choice(CLOSED_COMMENTS)
                posts.append(
                    Comment(
                        item=item,
                        author=user,
                        stance=stance,
                        body=body,
                        folded_body=fold(body),
                        created_at=now,
                    )
                )
        if consultation.ranking_enabled:
            k = rng.randint(1, consultation.ranking_size)
            ranked = sorted(
                items, key=lambda i: appeal[i.pk] + leaning * 0.2 + rng.gauss(0, 0.7), reverse=True
            )[:k]
            ballots.append(
                (
                    Ballot(consultation=consultation, user=user, created_at=now, updated_at=now),
                    ranked,
                )
            )
    Vote.objects.bulk_create(votes, batch_size=2000)
    Grade.objects.bulk_create(grades, batch_size=2000)
    Comment.objects.bulk_create(posts, batch_size=2000)
    Ballot.objects.bulk_create([b for b, _ in ballots], batch_size=2000)
    for ballot, ranked in ballots:
        entries.extend(
            BallotEntry(ballot=ballot, item=item, rank=r) for r, item in enumerate(ranked, start=1)
        )
    BallotEntry.objects.bulk_create(entries, batch_size=5000)


# --- Moderation -----------------------------------------------------------------------------

# (key, item position, author's comment, [(reporter, rule, report text)]): a reporter is a
# generated account's number, or "citizen" for the demo citizen (who then finds notices).
DEMO_REPORTED: list[tuple[str, int, str, list[tuple[int | str, str, str]]]] = [
    (
        "spam",
        0,
        "Gagnez 500 € par semaine depuis chez vous, sans diplôme : tout est expliqué sur "
        "mon site, écrivez-moi en message privé !",
        [(1, Rule.SPAM, ""), (2, Rule.SPAM, "Publicité."), (3, Rule.SPAM, "")],
    ),
    (
        "off_topic",
        1,
        "Quelqu’un sait à quelle heure ferme la piscine municipale ce week-end ?",
        [("citizen", Rule.OFF_TOPIC, ""), (2, Rule.OFF_TOPIC, "")],
    ),
    (
        "personal_data",
        2,
        "Le responsable de ce projet habite au 12 rue des Lilas : allez donc lui dire en face.",
        [(3, Rule.PERSONAL_DATA, "Une adresse personnelle est publiée.")],
    ),
    (
        "insult",
        3,
        "Ceux qui défendent cette mesure sont des abrutis qui n’ont rien compris.",
        [("citizen", Rule.INSULT, "Insulte les autres participants."), (1, Rule.INSULT, "")],
    ),
]
DEMO_HIDE_NOTE = (
    "Vous pouvez critiquer la mesure, pas traiter ceux qui la défendent d’abrutis. "
    "Reformulez sans l’insulte et votre avis aura sa place."
)
DEMO_APPEAL = (
    "Je critiquais la mesure, pas les personnes ; le mot était trop fort et je peux le "
    "retirer, mais le reste de mon avis mérite d’être lu."
)


def _seed_moderation(
    consultation: Consultation, *, citizen: User | None, decider: User | None
) -> str | None:
    """Reports on four comments of ``consultation`` (one held for review: the threshold is
    set), the last one hidden by ``decider`` with its decision, and its author's appeal
    pending: what a moderator of the consultation finds on their first visit. Only on a
    consultation without any report or decision (so, once)."""
    if (
        Report.objects.filter(comment__item__consultation=consultation).exists()
        or Decision.objects.filter(consultation=consultation).exists()
    ):
        return None
    if consultation.quarantine_threshold is None:
        consultation.quarantine_threshold = DEMO_QUARANTINE_THRESHOLD
        consultation.save(update_fields=["quarantine_threshold"])
    people = _participants(8, start=MODERATION_ACCOUNTS_START)
    authors, reporters = people[:4], dict(enumerate(people[4:], start=1))
    items = list(consultation.items.order_by("position"))
    posted_at = timezone.now() - timedelta(hours=20)
    comments = {}
    for (key, position, body, reported), author in zip(DEMO_REPORTED, authors, strict=True):
        item = items[position % len(items)]
        comment = Comment.objects.create(
            item=item,
            author=author,
            stance="against",
            body=body,
            folded_body=fold(body),
            created_at=posted_at,
        )
        comments[key] = comment
        for who, rule, text in reported:
            reporter = citizen if who == "citizen" else reporters[int(who)]
            if reporter is not None:
                reports.report_comment(reporter, comment, rule, text)
    if decider is not None:
        _hide(comments["insult"], decider)
    return (
        f"{consultation.slug}: {len(comments)} reported comments for the moderators"
        f" (quarantine after {consultation.quarantine_threshold} reports)"
    )


def _hide(comment: Comment, decider: User) -> None:
    """What ``decisions.hide`` writes, without its check of the decider's second factor
    (no demo account has set one up yet), and its author's appeal."""
    consultation = comment.item.consultation
    comment.moderation = Comment.Moderation.HIDDEN
    comment.held_because = ""
    comment.hidden_rule, comment.hidden_rule_number = Rule.INSULT, Rule.number(Rule.INSULT)
    comment.save(update_fields=decisions.MODERATION_FIELDS)
    decision = decisions.record(
        decider,
        consultation,
        Decision.Action.HIDE,
        Rule.INSULT,
        DEMO_HIDE_NOTE,
        comment=comment,
        subject=comment.author,
    )
    now = timezone.now()
    upheld = Report.objects.filter(comment=comment, status=Report.Status.OPEN)
    for report in upheld.select_related("reporter"):
        sending.notify(
            report.reporter,
            Notice.Kind.REPORT,
            consultation=consultation,
            data={
                "status": Report.Status.UPHELD,
                "comment": comment.pk,
                "rule": decision.rule,
                "rule_number": decision.rule_number,
                "decision": decision.pk,
            },
            url=reverse("moderation_public:decision", args=[decision.pk]),
        )
    upheld.update(status=Report.Status.UPHELD, resolved_at=now)
    sending.notify(
        comment.author,
        Notice.Kind.MODERATION,
        consultation=consultation,
        data=decisions.notice_data(decision),
        url=reverse("moderation_public:decision", args=[decision.pk]),
    )
    assert comment.author is not None
    appeals.appeal(comment.author, decision, DEMO_APPEAL)


@transaction.atomic
def seed(
    *,
    closed_participants: int = 3000,
    open_participants: int = 150,
    organiser: User | None = None,
    moderator: User | None = None,
    citizen: User | None = None,
    staff: User | None = None,
) -> list[str]:
    """Create what is missing; return a line per consultation for the terminal."""
    now = timezone.now()
    rng = random.Random(20261123)  # same demo every time
    report = []

    numerique, created = _upsert_consultation(
        _load("numerique_en_commun.json"),
        status=S.OPEN,
        opens_at=now - timedelta(days=3),
        closes_at=now + timedelta(days=60),
        comments_enabled=True,
        voting_enabled=True,
        grading_enabled=True,
        ranking_enabled=True,
        ranking_size=5,
        results_visibility=Consultation.ResultsVisibility.LIVE,
    )
    if created and open_participants:
        _generate_participation(numerique, _participants(open_participants), rng)
    report.append(f"{numerique.slug}: {numerique.items.count()} items, open, live results")

    question, created = _upsert_consultation(
        _load("reseaux_sociaux_16_ans.json"),
        status=S.OPEN,
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        comments_enabled=True,
        voting_enabled=True,
        grading_enabled=False,
        ranking_enabled=False,
        results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE,
    )
    report.append(f"{question.slug}: single question, open, results after close")

    closed, created = _upsert_consultation(
        {
            "slug": CLOSED_SLUG,
            "title": "Médiathèque : quels services développer en priorité ?",
            "title_en": "Library: which services should come first?",
            "summary": (
                "Consultation terminée (données générées) : horaires et services de la médiathèque."
            ),
            "summary_en": (
                "Finished consultation (generated data): library opening hours and services."
            ),
            "description": (
                "Une consultation **fictive**, close, dont les participations ont été "
                "générées pour que les résultats, les exports et les tests de charge aient "
                "une taille réelle."
            ),
            "themes": [],
            "items": [
                {"title": fr, "title_en": en, "summary": fr + ".", "summary_en": en + "."}
                for fr, en in CLOSED_ITEMS
            ],
        },
        status=S.CLOSED,
        opens_at=now - timedelta(days=40),
        closes_at=now - timedelta(days=10),
        closed_at=now - timedelta(days=10),
        comments_enabled=True,
        voting_enabled=True,
        grading_enabled=True,
        ranking_enabled=True,
        ranking_size=5,
        grade_scale=7,
        results_visibility=Consultation.ResultsVisibility.AFTER_CLOSE,
    )
    if created and closed_participants:
        _generate_participation(
            closed, _participants(closed_participants, start=open_participants), rng
        )
    report.append(f"{closed.slug}: closed, {closed.ballots.count()} ranking ballots")

    for user, role in (
        (organiser, Membership.Role.ORGANISER),
        (moderator, Membership.Role.MODERATOR),
    ):
        if user is None:
            continue
        for consultation in (numerique, question, closed):
            Membership.objects.get_or_create(consultation=consultation, user=user, role=role)
    # The demo moderator's first queue. Site staff took the decision under appeal, so that
    # the moderator may answer the appeal (never the one who decided).
    moderation = _seed_moderation(numerique, citizen=citizen, decider=staff)
    if moderation:
        report.append(moderation)
    # What closing would have queued: the organiser finds the results ready to review,
    # answer and publish (publishing is theirs to do, with MFA, like any organiser).
    if not ComputedResult.objects.filter(consultation=closed, kind="final").exists():
        computing.compute_results(closed.pk, "final")
        report.append(f"{closed.slug}: final results computed, ready for review and publication")
    return report
