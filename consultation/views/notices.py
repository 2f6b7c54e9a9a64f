"""A person's notices: the list (newest first), marking them read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
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


@require_POST
@login_required
def mark_read(request):
    ids = [int(value) for value in request.POST.getlist("notice") if value.isdigit()]
    sending.mark_read(request.user, ids or None)
    return redirect("notices:list")
