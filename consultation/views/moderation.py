from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.decorators import mfa_required
from consultation.models import Consultation, Membership


@login_required
@mfa_required
def queue(request):
    """Entry point for moderators: the consultations they moderate (queue comes later)."""
    user = request.user
    if user.is_staff or user.is_superuser:
        consultations = Consultation.objects.all()
    else:
        consultations = Consultation.objects.filter(
            memberships__user=user, memberships__role=Membership.Role.MODERATOR
        )
    if not (user.is_moderator or user.is_staff or user.is_superuser or consultations.exists()):
        raise PermissionDenied
    return render(request, "consultation/moderation_queue.html", {"consultations": consultations})
