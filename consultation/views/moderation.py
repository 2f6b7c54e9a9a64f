from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.decorators import mfa_required
from consultation import permissions


@login_required
@mfa_required
def queue(request):
    """Entry point for moderators: the consultations they moderate (queue comes later)."""
    if not permissions.has_moderation_space(request.user):
        raise PermissionDenied
    consultations = permissions.moderated_consultations(request.user)
    return render(request, "consultation/moderation_queue.html", {"consultations": consultations})
