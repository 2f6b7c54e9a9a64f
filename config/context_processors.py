from django.conf import settings


def site(request):
    return {
        "SITE_NAME": settings.SITE_NAME,
        "SITE_OPERATOR": settings.SITE_OPERATOR,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
    }
