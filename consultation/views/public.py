"""Pages anyone may read: the list of consultations, a consultation, an item and its debate.

``render_item`` is shared with participation.py, which re-renders the item page with
the refused form (and a 4xx status) when the domain turns a write down.
"""

from collections.abc import Callable, Collection
from typing import Any

from django.db.models import prefetch_related_objects
from django.http import Http404, HttpRequest
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.types import Person
from config.forms import StampedForm
from consultation import grades, permissions, queries, reads
from consultation.errors import Invalid, NotAllowed
from consultation.live import counters
from consultation.models import Consultation, Grade, Item, Vote
from consultation.moderation import threads
from consultation.participation import thread_pages
from consultation.participation.forms import (
    CommentForm,
    GradeForm,
    ItemFilterForm,
    ThreadOptionsForm,
    VoteForm,
)
from consultation.results import display, small_groups


def get_consultation(request: HttpRequest, slug: str) -> Consultation:
    """The consultation, or 404 for a draft its visitor may not manage."""
    consultation = reads.consultation_by_slug(slug, drafts=True)
    if consultation is None or not permissions.can_view(request.user, consultation):
        raise Http404
    return consultation


def get_item(request: HttpRequest, slug: str, item_id: int) -> tuple[Consultation, Item]:
    item = reads.item_with_consultation(item_id, slug=slug, drafts=True)
    if item is None or not permissions.can_view(request.user, item.consultation):
        raise Http404
    return item.consultation, item


def participation_obstacle(user: Person, consultation: Consultation) -> NotAllowed | None:
    """Why ``user`` cannot take part here (in the domain's own words), or None.

    The phase comes first on a page: telling a visitor to log in to a closed
    consultation would send them nowhere (the domain checks login first, for APIs)."""
    if not consultation.accepts_participation():
        return NotAllowed("not_open", _("This consultation is not open for participation."))
    try:
        permissions.require_participation(
            permissions.can_participate(user, consultation), user, consultation
        )
    except NotAllowed as refusal:
        return refusal
    return None


def consultation_context(
    request: HttpRequest, consultation: Consultation, *, items: Collection[int] | None = None
) -> dict:
    """What every page of a consultation shows; ``tallies`` of every item, or of the
    ``items`` (ids) given: none for the consultation's page, which shows no tally."""
    user = request.user
    see_results = permissions.can_see_results(user, consultation)
    # Its organisers see a consultation that has not opened yet as citizens will once it
    # does: every participation form shown, but disabled (fieldset[disabled]).
    preview = permissions.can_preview(user, consultation)
    counts, found = counters.shown_counts(
        consultation, tallies=see_results and items != (), items=items
    )
    tallies = small_groups.public_tallies(found, counts["ballots"]) if see_results else {}
    return {
        "consultation": consultation,
        "preview": preview,
        "can_see_results": see_results,
        "counts": counts,
        "tallies": tallies,  # small_groups.public_tally per item id: None where too few
        "min_group": small_groups.threshold(),
        "obstacle": None if preview else participation_obstacle(user, consultation),
    }


def consultation_list(request):
    return render(
        request,
        "consultation/public/list.html",
        {
            "open": Consultation.objects.open(),
            "upcoming": Consultation.objects.upcoming(),
            "finished": Consultation.objects.finished(),
        },
    )


def consultation_detail(request, slug):
    consultation = get_consultation(request, slug)
    themes = list(consultation.themes.all())
    filters = ItemFilterForm(request.GET or None, themes=themes)
    items = list(
        queries.search_items(
            consultation, query=filters.search_query(), theme=filters.selected_theme()
        )
    )
    context = consultation_context(request, consultation, items=())
    comment_counts = queries.comment_counts(consultation)
    progress = queries.progress(request.user, consultation)
    my_votes = progress["votes"] if progress else {}
    item_url = _item_urls(consultation)
    # A row's words are put together here rather than by a {% blocktranslate %} per row
    # (the same messages): thirty rows' worth of template tags was a third of the page.
    rows: list[dict[str, Any]] = []
    for item in items:
        comments = comment_counts.get(item.pk, 0)
        my_vote = Vote.Choice(my_votes[item.pk]).label if item.pk in my_votes else None
        rows.append(
            {
                "item": item,
                "url": item_url(item.pk),
                "comments": comments,
                "comments_label": ngettext("%(n)s comment", "%(n)s comments", comments)
                % {"n": comments},
                "my_vote": my_vote,
                "my_vote_label": _("Your vote: %(choice)s") % {"choice": my_vote}
                if my_vote is not None
                else None,
            }
        )
    if filters.order() == "title":
        rows.sort(key=lambda row: queries.fold(row["item"].display_title))
    elif filters.order() == "comments":
        rows.sort(key=lambda row: -row["comments"])  # stable: ties keep the consultation's order
    context.update(
        {
            "filters": filters,
            "filtered": bool(filters.search_query() or filters.selected_theme() or filters.order()),
            "themes": themes,
            "rows": rows,
            "progress": progress,
            # Every item is listed unless the search or a theme narrowed them down.
            "item_total": consultation.items.count()
            if filters.search_query() or filters.selected_theme()
            else len(items),
            "provisional": display.provisional(consultation)
            if context["can_see_results"]
            else None,
        }
    )
    return render(request, "consultation/public/detail.html", context)


def _item_urls(consultation: Consultation) -> Callable[[int], str]:
    """``Item.get_absolute_url`` for the items of ``consultation``: one ``reverse`` for a
    page that lists them all, instead of one per item."""
    mark = 2**62 + 7  # an id no item has, and found only where the id goes
    head, _mark, tail = reverse(
        "consultation:item", kwargs={"slug": consultation.slug, "item_id": mark}
    ).rpartition(str(mark))
    return lambda item_id: f"{head}{item_id}{tail}"


def item_detail(request, slug, item_id):
    consultation, item = get_item(request, slug, item_id)
    return render_item(request, consultation, item)


def render_item(request, consultation, item, *, bound=None, status=200):
    """The item page. ``bound`` replaces a blank form by the one just refused, keyed
    "vote", "grade", "comment", ("reply", comment id) or ("edit", comment id): the debate
    then shows the page of that comment, so that the refused form is on it."""
    bound = bound or {}
    user = request.user
    context = consultation_context(request, consultation, items=[item.pk])
    vote = grade = None
    if user.is_authenticated:
        vote = Vote.objects.filter(item=item, user=user).first()
        grade = Grade.objects.filter(item=item, user=user).first()
    thread_options = ThreadOptionsForm(request.GET or None)
    can_comment = permissions.can_comment(user, consultation)
    debate = _debate_page(request, item, thread_options, bound)
    tally = context["tallies"].get(item.pk)
    context.update(
        {
            "item": item,
            "tally": tally,
            "grade_rows": _grade_rows(consultation, tally),
            "can_vote": permissions.can_vote(user, consultation),
            "can_grade": permissions.can_grade(user, consultation),
            "can_comment": can_comment,
            "current_vote": vote,
            "current_grade": grade,
            "vote_form": bound.get("vote")
            or VoteForm(initial={"choice": vote.choice if vote else None}),
            "grade_form": bound.get("grade")
            or GradeForm(
                scale=consultation.grade_scale,
                initial={"grade": grade.grade if grade else None},
            ),
            "comment_form": bound.get("comment") or CommentForm(),
            "thread_options": thread_options,
            "debate": debate,
            # New comments are inserted live (static/js/live.js) where they belong: at
            # the top of the first page of the whole debate, newest first.
            "live_thread": _shows_newest_first(thread_options, debate),
            "thread": _thread(request, item, debate, bound, can_comment),
            "stance_counts": queries.stance_counts(item),
        }
    )
    return render(request, "consultation/public/item.html", context, status=status)


def _shows_newest_first(options_form: ThreadOptionsForm, debate: dict) -> bool:
    options = options_form.options()
    return (
        options["sort"] == "newest"
        and not options["stance"]
        and not options_form.search_query()
        and not debate.get("previous_url")
    )


def _grade_rows(consultation: Consultation, tally: dict | None) -> list[dict]:
    """The grade distribution, best grade first, as the ballot shows them. A small group
    (no breakdown) gets rows of zeros, for the hidden table live.js fills if it grows."""
    if not tally:
        return []
    counts = tally["grades"] or [0] * consultation.grade_scale
    return [
        {"label": label, "count": counts[value], "total": sum(counts)}
        for value, label in grades.choices(consultation.grade_scale)
    ]


def _comment_id(value: str | None) -> int | None:
    """A comment id from the address (``?comment=``), or None if it is not one."""
    if value and value.isascii() and value.isdigit() and 0 < int(value) < 2**63:
        return int(value)
    return None


def _debate_page(
    request: HttpRequest, item: Item, options_form: ThreadOptionsForm, bound: dict
) -> dict:
    """The page of the debate the address asks for (``sort``, ``stance``, ``q``, ``cursor``,
    ``replies``, ``comment``), with the links to the others. A refused form shows the page
    of its comment. A cursor or comment that is not (or no longer) valid is ignored, with
    a notice, and the first page is shown: never an error page."""
    params = request.GET
    options = options_form.options()
    query = options_form.search_query()
    focus = _comment_id(params.get("comment"))
    refused_on = [key[1] for key in bound if isinstance(key, tuple) and isinstance(key[1], int)]
    if refused_on:
        focus = refused_on[0]
    notice: str | None = None
    if params.get("comment") and focus is None:
        notice = str(_("This link to a comment is not valid: here is the start of the debate."))
    cursor = None if focus else params.get("cursor") or None
    replies = params.get("replies") or None
    sort, stance = options["sort"], options["stance"]
    try:
        page = thread_pages.page(
            item,
            sort=sort,
            stance=stance,
            query=query,
            cursor=cursor,
            replies=replies,
            focus=focus,
            viewer=request.user,
        )
    except Invalid as refusal:
        notice = str(refusal.message)
        cursor = replies = None
        focus = None
        page = thread_pages.page(item, sort=sort, stance=stance, query=query, viewer=request.user)

    # What the links to the other pages keep: a comment's page is shown whatever the
    # search and position filter, so its links drop them.
    chosen = {
        "sort": params.get("sort") and options["sort"],
        "stance": None if focus else options["stance"],
        "q": None if focus else query,
    }

    def url(fragment: str = "comments-heading", **more: str | int | None) -> str:
        wanted = {**chosen, **more}
        encoded = urlencode({name: value for name, value in wanted.items() if value})
        return f"{item.get_absolute_url()}{'?' if encoded else ''}{encoded}#{fragment}"

    here = {"cursor": cursor, "comment": focus}
    return {
        "page": page,
        "notice": notice,
        "query": query if page.search else "",
        "next_url": url(cursor=page.next) if page.next else None,
        "previous_url": url(cursor=page.previous) if page.previous else None,
        "first_url": url() if page.previous else None,
        "clear_url": url(q=None) if query else None,
        "more_urls": {
            thread.root.pk: url(f"comment-{thread.next_reply_id}", **here, replies=thread.more)
            for thread in page.threads
            if thread.more
        },
        "earlier_urls": {
            thread.root.pk: url(f"comment-{thread.root.pk}", **here, replies=thread.earlier)
            for thread in page.threads
            if thread.earlier
        },
        "in_thread_urls": {
            thread.root.pk: url(
                f"comment-{thread.root.pk}", q=None, stance=None, comment=thread.root.pk
            )
            for thread in page.threads
            if page.search
        },
    }


def _thread(
    request: HttpRequest, item: Item, debate: dict, bound: dict, can_comment: bool
) -> list[dict]:
    user = request.user
    page: thread_pages.Page = debate["page"]
    pairs = page.pairs()
    for comment, _depth in pairs:
        comment.item = item  # spares a query per comment in the permissions asked of it
    prefetch_related_objects([comment for comment, _depth in pairs], "revisions")
    # Reports, withheld texts and locked threads, for this reader (a fixed number of queries).
    moderation = threads.reader_state(request, item, [comment for comment, _depth in pairs], bound)
    entries = []
    # can_change_comment is the consultation's gate (a suspension looked up in the
    # database) plus conditions on the comment itself: asked once of the reader's first
    # comment that meets the latter, it answers for each of their comments that does.
    may_change: bool | None = None
    # The blank reply form, rendered once and given each comment's ids (config/forms.py).
    blank_reply = StampedForm(
        lambda auto_id: CommentForm(auto_id=auto_id, body_label=_("Your reply")),
        "reply",
        ["body", "stance"],
    )
    for comment, depth in pairs:
        own = user.is_authenticated and comment.author_id == user.pk
        if own and not comment.is_deleted and not comment.is_hidden:
            if may_change is None:
                may_change = permissions.can_change_comment(user, comment)
            can_change = may_change
        else:
            can_change = permissions.can_change_comment(user, comment)  # False, no query
        reply_key, edit_key = ("reply", comment.pk), ("edit", comment.pk)
        entries.append(
            {
                "comment": comment,
                "depth": depth,
                "own": own,
                "can_react": can_comment
                and not own
                and not comment.is_deleted
                and not comment.is_withheld,
                "can_change": can_change,
                "reply_form": (bound.get(reply_key) or blank_reply.copy(comment.pk))
                if can_comment
                and not page.search  # a match is answered in its thread (in_thread_url)
                and not comment.is_deleted
                and not moderation.closed(comment)
                else None,
                "reply_open": reply_key in bound,
                "edit_form": (
                    bound.get(edit_key)
                    or CommentForm(
                        auto_id=f"edit{comment.pk}_%s",
                        initial={"body": comment.body, "stance": comment.stance},
                    )
                )
                if can_change
                else None,
                "edit_open": edit_key in bound,
                **moderation.entry(comment, own=own),
            }
        )
    # The links to a thread's other replies, and to a match's thread, go after the entry
    # they follow: earlier replies after the root, more replies after the last one shown.
    start = 0
    for thread in page.threads:
        first, last = entries[start], entries[start + len(thread.comments) - 1]
        first["earlier_url"] = debate["earlier_urls"].get(thread.root.pk)
        first["in_thread_url"] = debate["in_thread_urls"].get(thread.root.pk)
        last["more_url"] = debate["more_urls"].get(thread.root.pk)
        last["more_count"] = thread.more_count
        last["thread_root"] = thread.root
        start += len(thread.comments)
    return entries
