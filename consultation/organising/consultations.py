"""What organisers write: consultations, their themes and items, their team.

Every page of the organiser space (and the admin, or a future API) goes through
these functions. Status changes are not here: they belong to ``lifecycle``.

Items are only added, changed, removed or reordered while the consultation is a
draft or scheduled: once it opens, citizens vote on exactly what they read.
"""

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.types import Person
from consultation import permissions
from consultation.errors import Conflict, Invalid, NotAllowed
from consultation.live import events
from consultation.models import Consultation, Item, Membership, Theme
from consultation.organising import lifecycle

Status = Consultation.Status

# Statuses in which the items (and the participation settings) may still change.
PREPARING = (Status.DRAFT, Status.SCHEDULED)

# Consultation fields that shape how citizens take part: fixed once it opens, so
# that no vote is cast under one set of rules and counted under another.
SETTINGS_FIELDS = (
    "slug",
    "comments_enabled",
    "voting_enabled",
    "grading_enabled",
    "ranking_enabled",
    "ranking_size",
    "grade_scale",
    "eligibility",
    "results_visibility",
)


def is_preparing(consultation: Consultation) -> bool:
    return consultation.status in PREPARING


def _lock(consultation: Consultation) -> Consultation:
    """Lock the consultation row for the rest of the transaction.

    Serialises item changes with lifecycle transitions (which take the same lock):
    an item cannot slip in while the consultation is being opened.
    """
    return Consultation.objects.select_for_update().get(pk=consultation.pk)


def refuse_unless_preparing(consultation: Consultation) -> None:
    if consultation.status not in PREPARING:
        raise Conflict(
            "items_locked",
            _(
                "Items can only be added, changed, removed or reordered while the "
                "consultation is a draft or scheduled."
            ),
        )


# --- Consultations and themes --------------------------------------------------------


def parse_theme_lines(text: str) -> list[tuple[str, str]]:
    """``"Nom"`` or ``"Nom | English name"``, one theme per line; blank lines ignored."""
    themes = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _bar, name_en = line.partition("|")
        themes.append((name.strip(), name_en.strip()))
    return themes


def theme_lines(consultation: Consultation) -> str:
    return "\n".join(
        f"{theme.name} | {theme.name_en}" if theme.name_en else theme.name
        for theme in consultation.themes.all()
    )


def _unique_theme_slug(name: str, taken: set[str]) -> str:
    base = slugify(name)[:50] or "theme"
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    taken.add(slug)
    return slug


def create_theme(
    consultation: Consultation, name: str, name_en: str = "", *, taken: set[str] | None = None
) -> Theme:
    if taken is None:
        taken = set(consultation.themes.values_list("slug", flat=True))
    position = (consultation.themes.aggregate(top=Max("position"))["top"] or 0) + 1
    return Theme.objects.create(
        consultation=consultation,
        slug=_unique_theme_slug(name, taken),
        name=name,
        name_en=name_en,
        position=position,
    )


def _sync_themes(consultation: Consultation, themes: list[tuple[str, str]]) -> None:
    """Make the consultation's themes those listed, in order. Themes are matched by
    name, so renaming one is removing it and adding another: its items lose their theme."""
    existing = {theme.name.casefold(): theme for theme in consultation.themes.all()}
    taken = {theme.slug for theme in existing.values()}
    kept: set[int] = set()
    for position, (name, name_en) in enumerate(themes):
        theme = existing.get(name.casefold())
        if theme is None:
            theme = Theme(
                consultation=consultation,
                slug=_unique_theme_slug(name, taken),
                name=name,
            )
        theme.name, theme.name_en, theme.position = name, name_en, position
        theme.save()
        kept.add(theme.pk)
    consultation.themes.exclude(pk__in=kept).delete()


def create_consultation(
    creator: Person, fields: dict[str, Any], themes: list[tuple[str, str]]
) -> Consultation:
    """A draft consultation; its creator becomes its organiser."""
    if not permissions.can_create_consultation(creator):
        raise NotAllowed("not_organiser", _("Only organisers may create a consultation."))
    with transaction.atomic():
        consultation = Consultation.objects.create(
            created_by=creator, status=Status.DRAFT, **fields
        )
        Membership.objects.create(
            consultation=consultation, user=creator, role=Membership.Role.ORGANISER
        )
        _sync_themes(consultation, themes)
    return consultation


def update_consultation(
    user: Person,
    consultation: Consultation,
    fields: dict[str, Any],
    themes: list[tuple[str, str]] | None = None,
) -> Consultation:
    """Texts may change at any time; settings and themes only while preparing."""
    permissions.require_manager(user, consultation)
    with transaction.atomic():
        current = _lock(consultation)
        changed_settings = [
            name
            for name in SETTINGS_FIELDS
            if name in fields and fields[name] != getattr(current, name)
        ]
        themes_changed = themes is not None and themes != [
            (theme.name, theme.name_en) for theme in current.themes.all()
        ]
        if (changed_settings or themes_changed) and current.status not in PREPARING:
            raise Conflict(
                "settings_locked",
                _(
                    "The address, the themes and the participation settings cannot change "
                    "once the consultation has opened."
                ),
            )
        old_slug = current.slug
        for name, value in fields.items():
            setattr(current, name, value)
        current.save()
        if themes_changed and themes is not None:
            _sync_themes(current, themes)
        # Its pages and the lists change (the anonymous page cache, decision 0039); an
        # address changed while preparing drops the copies under the old one too.
        if current.slug != old_slug:
            events.after_commit(events.pages_changed, current.pk, True, old_slug)
        events.changed(current, listed=True)
    return current


def reschedule(
    user: Person,
    consultation: Consultation,
    *,
    opens_at: datetime | None,
    closes_at: datetime | None,
    now: datetime | None = None,
) -> Consultation:
    """Set (or change) the opening and closing dates of a draft or scheduled consultation."""
    permissions.require_manager(user, consultation)
    with transaction.atomic():
        if consultation.status == Status.SCHEDULED:
            # The lifecycle only schedules drafts: step back to draft in the same
            # transaction, so the periodic job never sees the in-between state.
            lifecycle.transition(consultation.pk, Status.DRAFT, now=now)
        return lifecycle.schedule(
            user, consultation, opens_at=opens_at, closes_at=closes_at, now=now
        )


# --- Items ---------------------------------------------------------------------------


def add_item(user: Person, consultation: Consultation, fields: dict[str, Any]) -> Item:
    permissions.require_manager(user, consultation)
    with transaction.atomic():
        current = _lock(consultation)
        refuse_unless_preparing(current)
        top = current.items.aggregate(top=Max("position"))["top"]
        events.changed(current)  # its pages (the anonymous page cache, decision 0039)
        return Item.objects.create(
            consultation=current, position=0 if top is None else top + 1, **fields
        )


def update_item(user: Person, item: Item, fields: dict[str, Any]) -> Item:
    permissions.require_manager(user, item.consultation)
    with transaction.atomic():
        current = _lock(item.consultation)
        refuse_unless_preparing(current)
        events.changed(current)
        for name, value in fields.items():
            setattr(item, name, value)
        item.save()
    return item


def delete_item(user: Person, item: Item) -> None:
    permissions.require_manager(user, item.consultation)
    with transaction.atomic():
        current = _lock(item.consultation)
        refuse_unless_preparing(current)
        events.changed(current)
        item.delete()


def move_item(user: Person, item: Item, direction: str) -> None:
    """Swap the item with its neighbour ("up" or "down"); positions become 0..n-1."""
    permissions.require_manager(user, item.consultation)
    if direction not in ("up", "down"):
        raise Invalid("bad_direction", _("Unknown direction."))
    with transaction.atomic():
        current = _lock(item.consultation)
        refuse_unless_preparing(current)
        items = list(current.items.order_by("position", "id"))
        index = next(i for i, other in enumerate(items) if other.pk == item.pk)
        other = index - 1 if direction == "up" else index + 1
        if 0 <= other < len(items):
            items[index], items[other] = items[other], items[index]
        _renumber(items)
        events.changed(current)


def _renumber(items: list[Item]) -> None:
    changed = []
    for position, each in enumerate(items):
        if each.position != position:
            each.position = position
            changed.append(each)
    Item.objects.bulk_update(changed, ["position"])


# --- Team ----------------------------------------------------------------------------


def add_member(user: Person, consultation: Consultation, email: str, role: str) -> Membership:
    """Give an existing account a role in this consultation."""
    permissions.require_manager(user, consultation)
    member = User.objects.filter(email__iexact=email.strip()).first()
    if member is None:
        raise Invalid(
            "unknown_account",
            _("No account uses this e-mail address. Ask the person to sign up first."),
        )
    with transaction.atomic():
        _lock(consultation)
        membership, created = Membership.objects.get_or_create(
            consultation=consultation, user=member, role=role
        )
    if not created:
        raise Conflict("already_member", _("This person already holds this role here."))
    return membership


def remove_member(user: Person, consultation: Consultation, membership_id: int) -> None:
    permissions.require_manager(user, consultation)
    with transaction.atomic():
        # The lock keeps two organisers from removing each other at the same time
        # and leaving the consultation with nobody to manage it.
        _lock(consultation)
        membership = consultation.memberships.filter(pk=membership_id).first()
        if membership is None:
            raise Invalid("unknown_member", _("This person is not on the team any more."))
        organisers = consultation.memberships.filter(role=Membership.Role.ORGANISER)
        if membership.role == Membership.Role.ORGANISER and organisers.count() == 1:
            raise Conflict("last_organiser", _("A consultation keeps at least one organiser."))
        membership.delete()
