"""A person's notices: the list (newest first), opening one (which reads it), marking them
read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from consultation.models import Notice
from consultation.notices import sending, wording

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
