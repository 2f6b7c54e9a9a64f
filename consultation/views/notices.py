"""A person's notices: the list (newest first), opening one (which reads it), marking them
read; following and unfollowing; the notification settings; and the unsubscribe link of
the e-mails, which needs no login."""

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from consultation import permissions
from consultation.models import Comment, Consultation, Item, Notice
from consultation.notices import (
    follows,
    message,
    preferences,
    replies,
    sending,
    unsubscribe,
    wording,
)
from consultation.notices.forms import NoticeSettingsForm

PAGE_SIZE = 30


@login_required
def notice_list(request):
    notices = Notice.objects.filter(user=request.user).select_related("consultation")
    page = Paginator(notices, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"notice": n, "title": wording.title(n), "lines": wording.lines(n)} for n in page]
    return render(
        request,
        "consultation/notices/list.html",
        {"page": page, "rows": rows, "unread": sending.unread_count(request.user)},
    )


@login_required
def open_notice(request, notice_id):
    """Follow a notice's link: it is read, and the page it points at is shown."""
    notice = get_object_or_404(Notice, pk=notice_id, user=request.user)
    sending.mark_read(request.user, [notice.pk])
    if notice.url and url_has_allowed_host_and_scheme(
        notice.url, allowed_hosts=None, require_https=False
    ):
        return redirect(notice.url)
    return redirect(f"{_list_url()}#notice-{notice.pk}")


@require_POST
@login_required
def mark_read(request):
    """Mark the notices posted as ``notice`` read (every one when none is posted)."""
    posted = request.POST.getlist("notice")
    ids = [int(value) for value in posted if value.isdigit() and len(value) <= 18]
    sending.mark_read(request.user, ids if posted else None)
    if len(ids) == 1:
        return redirect(f"{_list_url()}#notice-{ids[0]}")
    return redirect("notices:list")


def _list_url() -> str:
    return reverse("notices:list")


# --- Following -------------------------------------------------------------------------------


def _target(request: HttpRequest) -> tuple[Consultation, Item | None, Comment | None]:
    """What the posted form names: a consultation (``consultation``, its slug), one of
    its items (``item``) or a comment's thread (``comment``). Anything the person may not
    see, or that does not exist, is a 404."""
    slug = request.POST.get("consultation", "")
    if not SLUG.fullmatch(slug):  # hostile text (a NUL byte, say) never reaches the database
        raise Http404
    consultation = get_object_or_404(Consultation, slug=slug)
    if not permissions.can_view(request.user, consultation):
        raise Http404
    item = comment = None
    comment_id = request.POST.get("comment", "")
    item_id = request.POST.get("item", "")
    if comment_id:
        comment = get_object_or_404(
            Comment.objects.select_related("item"),
            pk=_number(comment_id),
            item__consultation=consultation,
        )
    elif item_id:
        item = get_object_or_404(Item, pk=_number(item_id), consultation=consultation)
    return consultation, item, comment


SLUG = re.compile(r"[-a-zA-Z0-9_]{1,200}")


def _number(value: str) -> int:
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise Http404
    return int(value)


def _back(
    request: HttpRequest, consultation: Consultation, item: Item | None, comment: Comment | None
) -> HttpResponseRedirect:
    """Back where the form was (``next``, on this site only), or to the thing followed."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    if comment is not None:
        return redirect(replies.comment_link(comment))
    return redirect(item or consultation)


def _named(consultation: Consultation, item: Item | None, comment: Comment | None) -> str:
    if comment is not None:
        return _("this thread")
    if item is not None:
        return _("“%(title)s”") % {"title": item.display_title}
    return _("“%(title)s”") % {"title": consultation.display_title}


@require_POST
@login_required
def follow(request):
    consultation, item, comment = _target(request)
    follows.follow(request.user, consultation=consultation, item=item, comment=comment)
    messages.success(
        request, _("You follow %(what)s.") % {"what": _named(consultation, item, comment)}
    )
    return _back(request, consultation, item, comment)


@require_POST
@login_required
def unfollow(request):
    consultation, item, comment = _target(request)
    follows.unfollow(request.user, consultation=consultation, item=item, comment=comment)
    messages.success(
        request,
        _("You no longer follow %(what)s.") % {"what": _named(consultation, item, comment)},
    )
    return _back(request, consultation, item, comment)


# --- Settings ----------------------------------------------------------------------------------


@login_required
def notice_settings(request):
    """How the person hears of each kind of notice, and what they follow."""
    user = request.user
    row = preferences.settings_of(user)
    current, own_choices = preferences.channels(user), row.show_own_choices
    status = 200
    if request.method == "POST":
        form = NoticeSettingsForm(request.POST, current=current, show_own_choices=own_choices)
        if form.is_valid():
            preferences.save(
                user, form.chosen(), show_own_choices=form.cleaned_data["show_own_choices"]
            )
            messages.success(request, _("Your notification settings are saved."))
            return redirect("notices:settings")
        status = 422
    else:
        form = NoticeSettingsForm(current=current, show_own_choices=own_choices)
    context = {"form": form, "follows": follows.followed_by(user)}
    return render(request, "consultation/notices/settings.html", context, status=status)


# --- Unsubscribing, from an e-mail -----------------------------------------------------------


# CSRF-exempt on purpose, and only this view: RFC 8058's one-click unsubscribe is a POST
# that the recipient's mail provider sends from its own servers (body
# ``List-Unsubscribe=One-Click``), with no cookie and no CSRF token it could have. CSRF
# protects what a browser's cookies authorise; nothing here is authorised by a cookie:
# the signed token in the address is the whole authority (it names one person and one kind
# of e-mail, and can only stop those e-mails), so a forged request could do nothing its
# holder could not do by following the link.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe_view(request, token):
    try:
        subscription = unsubscribe.read(token)
    except unsubscribe.BadToken:
        return render(request, "consultation/notices/unsubscribe_bad.html", status=400)
    with translation.override(message.language_of(subscription.user)):
        context = {"what": subscription.describe(), "token": token}
        if request.method == "POST":
            unsubscribe.apply(subscription)
            return render(request, "consultation/notices/unsubscribe_done.html", context)
        return render(request, "consultation/notices/unsubscribe.html", context)
