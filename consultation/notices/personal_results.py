"""The personal results e-mail: at each publication, every person who voted, graded or
ranked hears what became of the measures they took part on — each one's result under
every method published, and the organisers' official response — read from the frozen
publication (``Publication.results``: the numbers anyone recounts from the open data),
never recounted here.

What it never does: tell anyone how the person voted. The notice keeps which measures the
person took part on (``data["items"]``), not how; the e-mail goes to that person alone,
and recalls their own choices only if they asked for it (``NoticeSettings
.show_own_choices``, read when the e-mail is built).

``prepare(notices)`` reads what a batch of e-mails needs in a fixed number of queries
(the publications and items once, the settings of the batch's people in one query, the
choices of those who asked in three); ``build(notice, user, batch)`` is one e-mail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from consultation import grades
from consultation.counting import METHODS, Result
from consultation.models import (
    BallotEntry,
    Consultation,
    Grade,
    Item,
    Notice,
    NoticeSettings,
    Publication,
    Vote,
)
from consultation.notices import audience, message
from consultation.results import computing, outcome, sections

TEMPLATES = "consultation/emails/personal_results"


# --- who took part on what ---------------------------------------------------------------


def _item_order(consultation_id: int) -> dict[int, int]:
    ids = Item.objects.filter(consultation_id=consultation_id).order_by("position", "pk")
    return {pk: n for n, pk in enumerate(ids.values_list("pk", flat=True))}


def items_of(consultation_id: int, user_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of these people, the items they voted on, graded or ranked, in the
    consultation's order (ids only: which measures, never how). Three queries."""
    ids = list(user_ids)
    found: dict[int, set[int]] = defaultdict(set)
    for rows in (
        Vote.objects.filter(item__consultation_id=consultation_id, user_id__in=ids).values_list(
            "user_id", "item_id"
        ),
        Grade.objects.filter(item__consultation_id=consultation_id, user_id__in=ids).values_list(
            "user_id", "item_id"
        ),
        BallotEntry.objects.filter(
            ballot__consultation_id=consultation_id, ballot__user_id__in=ids
        ).values_list("ballot__user_id", "item_id"),
    ):
        for user_id, item_id in rows:
            found[user_id].add(item_id)
    order = _item_order(consultation_id) if found else {}
    return {
        user_id: sorted(items, key=lambda pk: (order.get(pk, len(order)), pk))
        for user_id, items in found.items()
    }


def own_choices(consultation_id: int, user_ids: Iterable[int]) -> dict[int, dict[int, dict]]:
    """``{person: {item: {"vote": "for", "grade": 4, "rank": 2}}}``: only ever read for
    people who asked to see their own choices, and only put in their own e-mail."""
    ids = list(user_ids)
    out: dict[int, dict[int, dict]] = defaultdict(lambda: defaultdict(dict))
    votes = Vote.objects.filter(item__consultation_id=consultation_id, user_id__in=ids)
    for user_id, item_id, choice in votes.values_list("user_id", "item_id", "choice"):
        out[user_id][item_id]["vote"] = choice
    graded = Grade.objects.filter(item__consultation_id=consultation_id, user_id__in=ids)
    for user_id, item_id, grade in graded.values_list("user_id", "item_id", "grade"):
        out[user_id][item_id]["grade"] = grade
    ranked = BallotEntry.objects.filter(
        ballot__consultation_id=consultation_id, ballot__user_id__in=ids
    )
    for user_id, item_id, rank in ranked.values_list("ballot__user_id", "item_id", "rank"):
        out[user_id][item_id]["rank"] = rank
    return {user_id: dict(items) for user_id, items in out.items()}


# --- what the publication says of each item (in one language) ------------------------------


@dataclass
class ItemResult:
    item: int
    title: str
    url: str  # the item on the results page
    results: list[str]  # one sentence per method published
    response: str  # the organisers' official response, as frozen ("" when none)


@dataclass
class Summary:
    """A publication's facts for the e-mail, worded in one language."""

    consultation: Consultation
    version: int
    note: str
    items: dict[int, ItemResult]
    withheld: list[str]  # kinds of results not published (small groups)
    recounts: list[dict[str, str]]  # {"title", "command"} per method published
    results_link: str
    recount_link: str
    manifest_link: str
    # The outcome under the method declared on the card, first (None: published before
    # cards existed); each item's lines then give the declared method first.
    outcome: outcome.Outcome | None = None


def _percent(count: int, share: float | None) -> str:
    value = round((share or 0) * 100)
    return _("%(percent)d%% (%(count)d)") % {"percent": value, "count": count}


def _ranks(result: Result) -> dict[int, tuple[int, bool]]:
    """Each item's place (shared by tied items) and whether it is tied."""
    out: dict[int, tuple[int, bool]] = {}
    position = 1
    for tier in result.tiers:
        for pk in tier:
            out[pk] = (position, len(tier) > 1)
        position += len(tier)
    return out


def _place(ranks: dict[int, tuple[int, bool]], pk: int, count: int) -> str:
    rank, tied = ranks.get(pk, (count, False))
    if tied:
        return _("rank %(rank)d of %(count)d (tied)") % {"rank": rank, "count": count}
    return _("rank %(rank)d of %(count)d") % {"rank": rank, "count": count}


def _sentence(name: str, result: Result, pk: int, small: dict[int, int], threshold: int) -> str:
    title = sections.method_title(name)
    if pk in small:
        outcome = ngettext(
            "not broken down: %(count)d response, fewer than %(threshold)d",
            "not broken down: %(count)d responses, fewer than %(threshold)d",
            small[pk],
        ) % {"count": small[pk], "threshold": threshold}
        return _("%(method)s: %(outcome)s") % {"method": title, "outcome": outcome}
    if pk not in result.scores:
        return _("%(method)s: not counted") % {"method": title}
    place = _place(_ranks(result), pk, len(result.order))
    score = result.scores[pk]
    if name == "votes":
        outcome = _("%(place)s; for %(for)s, against %(against)s, abstaining %(abstain)s") % {
            "place": place,
            "for": _percent(score["for"], score["share_for"]),
            "against": _percent(score["against"], score["share_against"]),
            "abstain": _percent(score["abstain"], score["share_abstain"]),
        }
    elif name == "majority_judgment":
        label = score.get("median_label_en" if sections.language() == "en" else "median_label")
        if label is None:
            outcome = _("%(place)s; no grade") % {"place": place}
        else:
            outcome = _("%(place)s; majority grade “%(grade)s”") % {"place": place, "grade": label}
    else:
        outcome = place
    return _("%(method)s: %(outcome)s") % {"method": title, "outcome": outcome}


def _withheld_kinds(document: dict) -> list[str]:
    names = {
        "rankings": _("The results of the rankings are not published"),
        "grades": _("The results of the majority-judgment grades are not published"),
        "votes": _("The results of the votes are not published"),
    }
    out = []
    for kind, decision in sorted(document.get("withheld", {}).items()):
        if "items" in decision or kind not in names:
            continue
        out.append(
            _(
                "%(what)s, to protect the anonymity of those who answered (fewer than "
                "%(threshold)d responses)."
            )
            % {"what": names[kind], "threshold": decision.get("threshold", 0)}
        )
    return out


def summarise(publication: Publication, consultation: Consultation) -> Summary:
    """The publication's facts in the active language (each number as published)."""
    document = publication.results
    version = publication.version
    methods = document.get("methods", {})
    declared = outcome.declared(document, sections.Items(consultation))
    lead = [declared.method] if declared else []
    names = lead + [name for name in METHODS if name in methods and name not in lead]
    results = {name: Result.from_dict(methods[name]) for name in names if name in methods}
    withheld = document.get("withheld", {})
    responses = document.get("official_responses", {})
    english = sections.language() == "en"
    slug = consultation.slug
    results_link = settings.SITE_URL + reverse(
        "consultation:results_version", kwargs={"slug": slug, "version": version}
    )
    items: dict[int, ItemResult] = {}
    for item in consultation.items.order_by("position", "pk"):
        lines = []
        for name, result in results.items():
            decision = withheld.get(computing.data_kind(name), {})
            small = {int(k): n for k, n in decision.get("items", {}).items()}
            line = _sentence(name, result, item.pk, small, decision.get("threshold", 0))
            if declared and name != declared.method:
                line = _("%(line)s (for information)") % {"line": line}
            lines.append(line)
        response = responses.get(str(item.pk)) or {}
        text = (response.get("text_en") if english else "") or response.get("text", "")
        items[item.pk] = ItemResult(
            item=item.pk,
            title=item.display_title,
            url=f"{results_link}#item-{item.pk}",
            results=lines,
            response=text,
        )
    return Summary(
        consultation=consultation,
        version=version,
        note=publication.note,
        items=items,
        withheld=_withheld_kinds(document),
        recounts=[
            {"title": sections.method_title(name), "command": sections.recount_command(name)}
            for name in results
        ],
        results_link=results_link,
        recount_link=f"{results_link}#open-data-heading",
        manifest_link=settings.SITE_URL
        + reverse(
            "consultation:open_data",
            kwargs={"slug": slug, "version": version, "filename": "manifest.json"},
        ),
        outcome=declared,
    )


# --- a batch of e-mails -------------------------------------------------------------------


@dataclass
class Batch:
    """What a batch of personal results e-mails reads once: publications, summaries per
    language, who asked to see their own choices, and those choices."""

    publications: dict[int, Publication] = field(default_factory=dict)
    show_own: set[int] = field(default_factory=set)
    own: dict[int, dict[int, dict[int, dict]]] = field(default_factory=dict)  # consultation
    _summaries: dict[tuple[int, str], Summary] = field(default_factory=dict)

    def summary(self, publication_id: int, language: str) -> Summary | None:
        publication = self.publications.get(publication_id)
        if publication is None:
            return None
        key = (publication_id, language)
        if key not in self._summaries:
            self._summaries[key] = summarise(publication, publication.consultation)
        return self._summaries[key]


def prepare(notices: list[Notice]) -> Batch:
    """Read what these personal results notices' e-mails need, for the whole batch."""
    batch = Batch()
    mine = [n for n in notices if n.kind == audience.PERSONAL_RESULTS]
    if not mine:
        return batch
    wanted = {n.data.get("publication") for n in mine} - {None}
    batch.publications = {
        p.pk: p for p in Publication.objects.filter(pk__in=wanted).select_related("consultation")
    }
    people = {n.user_id for n in mine}
    batch.show_own = set(
        NoticeSettings.objects.filter(user_id__in=people, show_own_choices=True).values_list(
            "user_id", flat=True
        )
    )
    by_consultation: dict[int, set[int]] = defaultdict(set)
    for notice in mine:
        if notice.user_id in batch.show_own and notice.consultation_id:
            by_consultation[notice.consultation_id].add(notice.user_id)
    for consultation_id, user_ids in by_consultation.items():
        batch.own[consultation_id] = own_choices(consultation_id, user_ids)
    return batch


def _own_lines(choices: dict[str, Any], scale: int) -> list[str]:
    lines = []
    if "vote" in choices and choices["vote"] in Vote.Choice.values:
        lines.append(_("Your vote: %(choice)s") % {"choice": Vote.Choice(choices["vote"]).label})
    if "grade" in choices:
        labels = grades.labels(scale)
        grade = choices["grade"]
        if 0 <= grade < len(labels):
            lines.append(_("Your grade: %(grade)s") % {"grade": labels[grade]})
    if "rank" in choices:
        lines.append(_("In your ranking: choice no. %(rank)d") % {"rank": choices["rank"]})
    return lines


def build(notice: Notice, user: User, batch: Batch | None = None) -> EmailMultiAlternatives:
    """The personal results e-mail of ``notice`` for ``user`` (its recipient), in their
    language; the general notice e-mail if its publication cannot be read."""
    if batch is None:
        batch = prepare([notice])
    language = message.language_of(user)
    with translation.override(language):
        summary = batch.summary(notice.data.get("publication") or 0, language)
        if summary is None:
            return message.build(notice, user)
        show_own = user.pk in batch.show_own
        choices = batch.own.get(notice.consultation_id or 0, {}).get(user.pk, {})
        scale = summary.consultation.grade_scale
        items = []
        for pk in notice.data.get("items") or []:
            result = summary.items.get(pk)
            if result is None:
                continue
            own = _own_lines(choices.get(pk, {}), scale) if show_own else []
            items.append({"result": result, "own": own})
        subject = audience.title(notice)
        title = audience.consultation_title(notice.data)
        context = {
            "title": subject,
            "intro": ngettext(
                "The results of “%(title)s” are published (version %(version)d). Here is what "
                "became of the measure you voted on, graded or ranked: its result under each "
                "counting method published, and the organisers’ response.",
                "The results of “%(title)s” are published (version %(version)d). Here is what "
                "became of the %(count)d measures you voted on, graded or ranked: their result "
                "under each counting method published, and the organisers’ responses.",
                len(items),
            )
            % {"title": title, "version": summary.version, "count": len(items)},
            "summary": summary,
            "items": items,
            "show_own": show_own,
            "privacy": _(
                "Your own choices are recalled because you asked for it in your notification "
                "settings. Nobody else receives this e-mail."
            )
            if show_own
            else _(
                "This e-mail does not recall how you voted, graded or ranked (you can ask for "
                "it in your notification settings). Nobody else receives it."
            ),
            "reason": _(
                "You receive this e-mail because you voted, graded or ranked in this "
                "consultation and chose to hear of “%(kind)s” by e-mail."
            )
            % {"kind": Notice.Kind(notice.kind).label},
            **message.footer(user, notice.kind),
        }
        text = render_to_string(f"{TEMPLATES}.txt", context)
        html = render_to_string(f"{TEMPLATES}.html", context)
    return message.assemble(user, subject, text, html, context["unsubscribe_link"])
