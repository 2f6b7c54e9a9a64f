"""What a debate page shows of moderation, comment by comment, for one reader: whether
they may report it (and the report form, refused or blank), whether they already did and
what became of it, a withheld comment's notice in place of its text (its author reading
their own text with the notice and, for a hidden one, the decision to appeal), and a
locked thread.

Built once per page from the comments shown, in a fixed number of queries whatever their
number: the charter, the reader's reports, the decisions behind the hidden and locked
comments shown, and one permission check.
"""

from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.http import HttpRequest

from config.forms import StampedForm
from consultation import permissions
from consultation.models import Comment, Decision, Item, Report
from consultation.moderation import charter
from consultation.moderation.charter import CharterText, RuleText
from consultation.moderation.forms import ReportForm


def report_key(comment_id: int) -> tuple[str, int]:
    """The key of a refused report form in ``render_item``'s ``bound``."""
    return ("report", comment_id)


@dataclass
class ThreadModeration:
    charter: CharterText
    may_report: bool  # the reader may report in this consultation (the comment aside)
    reported: dict[int, str] = field(default_factory=dict)  # comment id -> report status
    hiding: dict[int, Decision] = field(default_factory=dict)  # the reader's hidden comments
    locks: dict[int, Decision] = field(default_factory=dict)  # comment id -> lock decision
    locked: set[int] = field(default_factory=set)  # in a locked thread (it or an ancestor)
    bound: dict = field(default_factory=dict)
    blank_report: StampedForm = field(init=False)

    def __post_init__(self) -> None:
        # The blank report form, rendered once for the page (config/forms.py).
        self.blank_report = StampedForm(
            lambda auto_id: ReportForm(charter=self.charter, comment_id=0, auto_id=auto_id),
            "report",
            ["rule", "text"],
        )

    def closed(self, comment: Comment) -> bool:
        """No reply here: a locked thread, or a comment whose text others cannot read."""
        return comment.pk in self.locked or comment.is_withheld

    def entry(self, comment: Comment, *, own: bool) -> dict[str, Any]:
        """The keys the comment partial reads, for ``comment`` and this reader."""
        key = report_key(comment.pk)
        can_report = (
            self.may_report
            and not own
            and not comment.is_deleted
            and not comment.is_withheld
            and comment.pk not in self.reported
        )
        form = self.bound.get(key)
        if form is None and can_report:
            form = self.blank_report.copy(comment.pk)
        lock = self.locks.get(comment.pk)
        return {
            "withheld": comment.is_withheld and not own and not comment.is_deleted,
            "hidden_rule": self._rule(comment.hidden_rule) if comment.is_hidden else None,
            "hiding": self.hiding.get(comment.pk),
            "can_report": can_report,
            "report_form": form,
            "report_open": key in self.bound,
            "reported": self.reported.get(comment.pk),  # the reader's report's status
            "locked": comment.pk in self.locked,
            "lock_here": comment.locked_at is not None,
            "lock_rule": self._rule(lock.rule) if lock is not None else None,
        }

    def _rule(self, code: str) -> RuleText | None:
        return next((rule for rule in self.charter.rules if rule.code == code), None)


def reader_state(
    request: HttpRequest, item: Item, comments: list[Comment], bound: dict | None = None
) -> ThreadModeration:
    """The moderation state of ``comments`` (in display order: parents before replies)."""
    user = request.user
    consultation = item.consultation
    bound = {key: value for key, value in (bound or {}).items() if _is_report_key(key)}
    shown = {comment.pk for comment in comments}
    for key, form in bound.items():
        if key[1] not in shown:  # refused on a comment this page does not show
            for error in form.non_field_errors() or [
                e for errors in form.errors.values() for e in errors
            ]:
                messages.error(request, error)
    state = ThreadModeration(charter=charter.current(consultation), may_report=False, bound=bound)
    if not comments:
        return state
    if user.is_authenticated:
        # can_report is the consultation's gate plus conditions on the comment itself (not
        # their own, not removed): asked once, of a comment meeting the latter, it answers
        # for every such comment of the page.
        candidate = next(
            (
                c
                for c in comments
                if c.author_id != user.pk and not c.is_deleted and not c.is_withheld
            ),
            None,
        )
        state.may_report = candidate is not None and permissions.can_report(user, candidate)
        state.reported = dict(
            Report.objects.filter(reporter=user, comment_id__in=shown).values_list(
                "comment_id", "status"
            )
        )
        own_hidden = [c.pk for c in comments if c.is_hidden and c.author_id == user.pk]
        if own_hidden:
            state.hiding = _latest(own_hidden, Decision.Action.HIDE)
    locked_here = [c.pk for c in comments if c.locked_at is not None]
    if locked_here:
        state.locks = _latest(locked_here, Decision.Action.LOCK)
    for comment in comments:
        if comment.locked_at is not None or comment.parent_id in state.locked:
            state.locked.add(comment.pk)
    return state


def _is_report_key(key: object) -> bool:
    return isinstance(key, tuple) and len(key) == 2 and key[0] == "report"


def _latest(comment_ids: list[int], action: str) -> dict[int, Decision]:
    latest: dict[int, Decision] = {}
    for decision in Decision.objects.filter(comment_id__in=comment_ids, action=action).order_by(
        "created_at", "pk"
    ):
        assert decision.comment_id is not None
        latest[decision.comment_id] = decision
    return latest
