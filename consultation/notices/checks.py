"""The notices' deploy check (``manage.py check --deploy``): links in e-mails must be https.

Every notice e-mail carries RFC 8058's one-click unsubscribe, ``List-Unsubscribe`` with
``List-Unsubscribe-Post``; RFC 8058 (section 3.1) requires its address to be https, and
mail providers ignore an http one (no "Unsubscribe" button, and bulk mail without it is
more likely taken for spam). That address, like every link in e-mails sent by the
worker, is written from ``SITE_URL``.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def site_url_is_https(app_configs, **kwargs):
    if settings.DEBUG or urlsplit(settings.SITE_URL).scheme == "https":
        return []
    return [
        Warning(
            f"SITE_URL is {settings.SITE_URL!r}: the one-click unsubscribe (RFC 8058) and "
            "every link in notice e-mails need an https address.",
            hint="Set SITE_URL to the site's public https address, e.g. "
            "https://consultation.example.org.",
            id="agora.W002",
        )
    ]
