from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.decorators import mfa_required
from consultation.permissions import can_moderate, can_organise


@login_required
@mfa_required
def organiser_dashboard(request):
    if not can_organise(request.user):
        raise PermissionDenied
    return render(request, "consultation/organiser_dashboard.html")


@login_required
@mfa_required
def moderation_queue(request):
    if not can_moderate(request.user):
        raise PermissionDenied
    return render(request, "consultation/moderation_queue.html")
