"""The consultation card (issue 14, docs/decisions/0035-declared-rule.md).

Frozen at opening: once ``frozen_at`` is set, the database itself refuses any UPDATE of the
row (SQLite and PostgreSQL triggers, as for publications and the moderation log), so no
direct SQL can change the declared rule after the first vote. No DELETE guard: a card goes
with its consultation (CASCADE), and SQLite test databases are flushed with DELETE.

Existing consultations get a card chosen from what they enable (stated in the decision
record): ranking enabled → Schulze, else grades → majority judgment, else the per-item
majority; the tie-break is the published draw; no quorum. Consultations already past their
opening get it frozen at once, marked ``declared_after_opening`` (the card says the rule
was set by this update, not declared before the vote).
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

TABLE = "consultation_consultationcard"
FROZEN = [
    "consultation_id",
    "deciding_method",
    "tie_break",
    "quorum",
    "ranking_size",
    "grade_scale",
    "eligibility",
    "results_visibility",
    "min_group",
    "counting_version",
    "declared_after_opening",
    "frozen_at",
    "updated_at",
]
MESSAGE = "the consultation card is frozen once the consultation opens"
GUARD = {
    "sqlite": [
        f"CREATE TRIGGER {TABLE}_frozen BEFORE UPDATE ON {TABLE} "
        f"WHEN OLD.frozen_at IS NOT NULL AND "
        f"({' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in FROZEN)}) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
    ],
    "postgresql": [
        f"""CREATE FUNCTION {TABLE}_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.frozen_at IS NOT NULL AND
     ({", ".join(f"NEW.{c}" for c in FROZEN)}) IS DISTINCT FROM
     ({", ".join(f"OLD.{c}" for c in FROZEN)}) THEN
    RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NEW;
END $$""",
        f"CREATE TRIGGER {TABLE}_frozen BEFORE UPDATE ON {TABLE} "
        f"FOR EACH ROW EXECUTE FUNCTION {TABLE}_frozen()",
    ],
}
DROP = {
    "sqlite": [f"DROP TRIGGER IF EXISTS {TABLE}_frozen"],
    "postgresql": [
        f"DROP TRIGGER IF EXISTS {TABLE}_frozen ON {TABLE}",
        f"DROP FUNCTION IF EXISTS {TABLE}_frozen()",
    ],
}


def install_guard(apps, schema_editor):
    for statement in GUARD.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


def remove_guard(apps, schema_editor):
    for statement in DROP.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


PREPARING = ("draft", "scheduled")


def default_method(consultation) -> str:
    """The card's deciding method for a consultation that never declared one."""
    if consultation.ranking_enabled:
        return "schulze"
    if consultation.grading_enabled:
        return "majority_judgment"
    return "votes"


def give_each_consultation_its_card(apps, schema_editor):
    from consultation.counting.version import counting_version

    Consultation = apps.get_model("consultation", "Consultation")
    ConsultationCard = apps.get_model("consultation", "ConsultationCard")
    now = django.utils.timezone.now()
    min_group = settings.OPEN_DATA_MIN_GROUP
    for consultation in Consultation.objects.all():
        card = ConsultationCard(
            consultation=consultation,
            deciding_method=default_method(consultation),
            tie_break="draw",
        )
        if consultation.status not in PREPARING:
            card.ranking_size = consultation.ranking_size
            card.grade_scale = consultation.grade_scale
            card.eligibility = consultation.eligibility
            card.results_visibility = consultation.results_visibility
            card.min_group = min_group
            card.counting_version = counting_version()
            card.declared_after_opening = True
            card.frozen_at = now
        card.save()


class Migration(migrations.Migration):
    dependencies = [
        ("consultation", "0010_idempotency_key"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsultationCard",
            fields=[
                (
                    "consultation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="card",
                        serialize=False,
                        to="consultation.consultation",
                    ),
                ),
                (
                    "deciding_method",
                    models.CharField(
                        choices=[
                            ("votes", "Per-item majority (for / against / abstain)"),
                            ("majority_judgment", "Majority judgment"),
                            ("schulze", "Schulze method"),
                            ("borda", "Borda count"),
                            ("instant_runoff", "Instant-runoff voting"),
                            ("copeland", "Copeland (Condorcet pairwise wins)"),
                        ],
                        max_length=20,
                        verbose_name="deciding method",
                    ),
                ),
                (
                    "tie_break",
                    models.CharField(
                        choices=[
                            ("draw", "A random draw, with a seed published with the results"),
                            ("shared", "No tie-break: tied items share their place"),
                        ],
                        default="draw",
                        max_length=8,
                        verbose_name="tie-break",
                    ),
                ),
                (
                    "quorum",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The outcome stands only if at least this many people took part in the deciding method's ballots. Leave empty for no minimum.",
                        null=True,
                        verbose_name="minimum turnout",
                    ),
                ),
                ("ranking_size", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("grade_scale", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("eligibility", models.CharField(blank=True, max_length=20)),
                ("results_visibility", models.CharField(blank=True, max_length=12)),
                ("min_group", models.PositiveIntegerField(blank=True, null=True)),
                ("counting_version", models.CharField(blank=True, max_length=80)),
                ("declared_after_opening", models.BooleanField(default=False)),
                ("frozen_at", models.DateTimeField(blank=True, null=True)),
                ("updated_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "verbose_name": "consultation card",
                "verbose_name_plural": "consultation cards",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("quorum__isnull", True), ("quorum__gte", 1), _connector="OR"
                        ),
                        name="card_quorum_at_least_one",
                    )
                ],
            },
        ),
        migrations.RunPython(give_each_consultation_its_card, migrations.RunPython.noop),
        migrations.RunPython(install_guard, remove_guard),
    ]
