"""The site's URLs plus one view that fails, to see what a visitor gets on a server error."""

from django.urls import path

from config.urls import handler500
from config.urls import urlpatterns as site_urlpatterns

__all__ = ["handler500", "urlpatterns"]


def boom(request):
    raise RuntimeError("a bug somewhere")


urlpatterns = [path("boom/", boom), *site_urlpatterns]
