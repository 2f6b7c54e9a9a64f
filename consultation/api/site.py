"""The one ``api`` object: the operation modules (``reading``, ``participating``,
``moderating``) register on it, ``errors.install`` makes every failure JSON, and every
write takes an ``Idempotency-Key`` (``idempotency``)."""

from django.urls import URLPattern, URLResolver
from ninja.operation import Operation

from consultation.api import errors
from consultation.api.errors import AgoraAPI
from consultation.api.idempotency import idempotent

# Generated clients name their methods after the schema's operationIds, so they are a
# published contract. ninja derives them from the module holding the function; they were
# first published when every operation lived in ``consultation/api/routes.py``, and keep
# that spelling whichever module of ``consultation/api/`` holds the operation now.
OPERATION_ID_PREFIX = "consultation_api_routes_"


class SiteAPI(AgoraAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        return OPERATION_ID_PREFIX + operation.view_func.__name__

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):
                pattern.callback = idempotent(pattern.callback)
        return patterns


api = SiteAPI(
    title="Agora API",
    version="1",
    description=(
        "Read consultations, items and aggregate results; take part as yourself. See docs/api.md."
    ),
    urls_namespace="api",
    # ninja's docs page loads Swagger UI from a CDN: no third-party requests here.
    docs_url=None,
)
errors.install(api)
