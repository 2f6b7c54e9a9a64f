from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from accounts.decorators import mfa_required
from consultation import permissions
from consultation.models import Consultation, Membership


@login_required
@mfa_required
def dashboard(request):
    user = request.user
    managed = Consultation.objects.filter(
        memberships__user=user, memberships__role=Membership.Role.ORGANISER
    )
    if not (permissions.can_create_consultation(user) or managed.exists()):
        raise PermissionDenied
    if permissions.is_staff(user):
        managed = Consultation.objects.all()
    return render(request, "consultation/organiser/dashboard.html", {"consultations": managed})
