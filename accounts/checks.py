from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def mailer_is_real(app_configs, **kwargs):
    backend = settings.MAILERS.get("default", {}).get("BACKEND", "")
    if not settings.DEBUG and backend.endswith(
        ("console.EmailBackend", "ReadableConsoleBackend", "locmem.EmailBackend")
    ):
        return [
            Warning(
                "E-mail goes to the console: sign-up and password reset mails reach no one.",
                hint="Set EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.org:587.",
                id="agora.W001",
            )
        ]
    return []
