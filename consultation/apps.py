from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsultationConfig(AppConfig):
    name = "consultation"
    verbose_name = _("Consultations")

    def ready(self):
        from accounts import privacy
        from consultation.live import providers
        from consultation.models import idempotency
        from consultation.moderation import personal_data as moderation_data
        from consultation.notices import checks  # noqa: F401 - registers its system check
        from consultation.notices import personal_data as notices_data
        from consultation.participation import personal_data

        privacy.register("participation", export=personal_data.export, erase=personal_data.erase)
        privacy.register("moderation", export=moderation_data.export, erase=moderation_data.erase)
        privacy.register("notices", export=notices_data.export, erase=notices_data.erase)
        privacy.register(
            "api_retries", export=idempotency.export_keys, erase=idempotency.erase_keys
        )
        providers.register_providers()
