"""The read path's reference (bench/read_path.py): a stock Django project of one sync view
answering "hello", with no middleware, under Django's own ASGI handler.

A settings module and a URLconf in one file: ``DJANGO_SETTINGS_MODULE=stock_hello`` and
``uvicorn --app-dir bench/refs stock_hello:application``. No database, no template, no
session: what Django itself costs per request, which is what issue 16's ratios are taken
against.
"""

from django.http import HttpResponse
from django.urls import path

SECRET_KEY = "stock-hello-bench-reference-" + "x" * 32
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "stock_hello"
DATABASES: dict = {}
USE_TZ = True


def hello(request):
    return HttpResponse("hello")


urlpatterns = [path("", hello)]


def _application():
    from django.core.asgi import get_asgi_application

    return get_asgi_application()


application = _application()
