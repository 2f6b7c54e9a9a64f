from django.shortcuts import render

from consultation.models import Consultation


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
