"""The JSON API (/api/v1/), built with django-ninja. Thin: parse, check, call the domain."""

from ninja import NinjaAPI

api = NinjaAPI(title="Agora API", version="1", urls_namespace="api")
