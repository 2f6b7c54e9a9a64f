"""The moderation charter: the rules every report and decision cites, worded by the
organisers, edited freely before opening and versioned after.

Version 0 is the default wording below, which every consultation has until its organisers
save their own. A decision records the rule's number and the charter version it cited, so
that "rule 3" keeps meaning what it meant when a moderator applied it.
"""

from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict, Invalid
from consultation.models import Charter, Consultation, Rule

MAX_INTRO = 3000
MAX_TITLE = 120
MAX_TEXT = 1000

DEFAULT_TEXTS = {
    Rule.INSULT: _(
        "No insults, threats, mockery of a person or repeated targeting of a participant. "
        "Criticise ideas, not people."
    ),
    Rule.HATE: _(
        "No content inciting hatred, discrimination or violence against people for their "
        "origin, sex, sexual orientation, gender identity, disability, religion or opinions."
    ),
    Rule.SPAM: _(
        "No advertising, promotion of a business, chain messages or the same text posted "
        "again and again."
    ),
    Rule.OFF_TOPIC: _(
        "Stay on the measure being discussed; a comment unrelated to it may be hidden."
    ),
    Rule.PERSONAL_DATA: _(
        "Do not publish anyone's personal data (address, telephone, e-mail, health, "
        "identifiable private life), your own included."
    ),
    Rule.ILLEGAL: _(
        "No content that breaks the law (defamation, incitement to crime, infringement of "
        "copyright, and the like)."
    ),
    Rule.OTHER: _(
        "Anything else a moderator must explain in their note; this rule is never applied "
        "without one."
    ),
}

DEFAULT_INTRO = _(
    "This debate is moderated by people, not by an algorithm. A comment is hidden only by a "
    "moderator, under one of the rules below, with a reason its author is told; every "
    "decision can be appealed, is decided by someone else, and appears in the public "
    "moderation log."
)


@dataclass(frozen=True)
class RuleText:
    number: int
    code: str
    title: str
    text: str


@dataclass(frozen=True)
class CharterText:
    version: int  # 0: the default wording
    intro: str
    rules: list[RuleText]
    created_at: datetime | None

    def rule(self, code: str) -> RuleText:
        return next(rule for rule in self.rules if rule.code == code)


def _text(consultation: Consultation, row: Charter | None) -> CharterText:
    saved = row.rules if row is not None else {}
    rules = []
    for number, code in enumerate(Rule.values, start=1):
        own = saved.get(code) or {}
        rules.append(
            RuleText(
                number=number,
                code=code,
                title=own.get("title") or str(Rule(code).label),
                text=own.get("text") or str(DEFAULT_TEXTS[Rule(code)]),
            )
        )
    return CharterText(
        version=row.version if row is not None else 0,
        intro=(row.intro if row is not None and row.intro else str(DEFAULT_INTRO)),
        rules=rules,
        created_at=row.created_at if row is not None else None,
    )


def current(consultation: Consultation) -> CharterText:
    """The charter in force: the latest version, or the default wording."""
    row = Charter.objects.filter(consultation=consultation).order_by("-version").first()
    return _text(consultation, row)


def version(consultation: Consultation, number: int) -> CharterText | None:
    if number == 0:
        return _text(consultation, None)
    row = Charter.objects.filter(consultation=consultation, version=number).first()
    return None if row is None else _text(consultation, row)


def versions(consultation: Consultation) -> list[CharterText]:
    """Every saved version, newest first (the default wording is not listed)."""
    rows = Charter.objects.filter(consultation=consultation).order_by("-version")
    return [_text(consultation, row) for row in rows]


def _clean(intro: str, rules: dict[str, dict[str, str]]) -> tuple[str, dict[str, dict[str, str]]]:
    intro = (intro or "").strip()
    if len(intro) > MAX_INTRO:
        raise Invalid(
            "charter_too_long",
            _("The introduction may have at most %(max)d characters.") % {"max": MAX_INTRO},
        )
    cleaned: dict[str, dict[str, str]] = {}
    for code, wording in rules.items():
        if code not in Rule.values:
            raise Invalid("unknown_rule", _("This rule is not part of the charter."))
        title = (wording.get("title") or "").strip()
        text = (wording.get("text") or "").strip()
        if len(title) > MAX_TITLE or len(text) > MAX_TEXT:
            raise Invalid(
                "charter_too_long",
                _("A rule's title may have at most %(title)d characters, its text %(text)d.")
                % {"title": MAX_TITLE, "text": MAX_TEXT},
            )
        if title or text:
            cleaned[code] = {"title": title, "text": text}
    return intro, cleaned


def save_charter(
    user: Person, consultation: Consultation, intro: str, rules: dict[str, dict[str, str]]
) -> CharterText:
    """Word the charter. Before opening, version 1 is rewritten in place; after, a change
    is a new version (an unchanged text saves nothing)."""
    permissions.require(
        permissions.can_edit_charter(user, consultation),
        "not_organiser",
        _("Only the organisers of this consultation may do this."),
    )
    intro, rules = _clean(intro, rules)
    editable_in_place = consultation.status in (
        Consultation.Status.DRAFT,
        Consultation.Status.SCHEDULED,
    )
    try:
        with transaction.atomic():
            latest = (
                Charter.objects.select_for_update()
                .filter(consultation=consultation)
                .order_by("-version")
                .first()
            )
            if latest is not None and (latest.intro, latest.rules) == (intro, rules):
                return _text(consultation, latest)
            if latest is not None and editable_in_place:
                latest.intro, latest.rules = intro, rules
                latest.save(update_fields=["intro", "rules"])
                return _text(consultation, latest)
            row = Charter.objects.create(
                consultation=consultation,
                version=(latest.version + 1) if latest is not None else 1,
                intro=intro,
                rules=rules,
                created_by=user if user.is_authenticated else None,
            )
    except IntegrityError:
        raise Conflict(
            "charter_changed", _("Someone saved the charter at the same time: try again.")
        ) from None
    return _text(consultation, row)
