"""Every API error is JSON ``{"code": ..., "detail": ...}`` with the right 4xx.

``install(api)`` maps ninja's own errors (validation, unparsable body, missing auth),
the domain's ``Refused`` refusals and Django's 404 / oversized-body errors; ``AgoraAPI``
makes unknown paths and wrong methods under /api/v1/ answer in JSON as well, and reads
bodies with ``config.json_input`` (a lone surrogate or absurd nesting is a 400, never a
500).
"""

from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import URLPattern, URLResolver, re_path
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from config.json_input import InvalidJson, load_json
from consultation.errors import Refused


class ApiError(HttpError):
    """An HTTP error with a stable ``code``, raised by this module."""

    def __init__(self, status: int, code: str, detail: str | Promise) -> None:
        super().__init__(status, str(detail))
        self.code = code


def error_response(status: int, code: str, detail: object, **extra: Any) -> JsonResponse:
    return JsonResponse({"code": code, "detail": str(detail), **extra}, status=status)


def _readable_location(loc: Sequence[object]) -> str:
    # ninja reports ("body", "payload", "grade") or ("path", "item_id"): keep the field path.
    parts = [str(p) for p in loc]
    if parts[:1] in (["body"], ["query"], ["path"], ["header"], ["cookie"]):
        parts = parts[2:] if parts[:2] == ["body", "payload"] else parts[1:]
    return ".".join(parts) or "body"


def _on_validation_error(request: HttpRequest, exc: ValidationError) -> JsonResponse:
    errors = [
        {"field": _readable_location(error.get("loc", ())), "message": str(error.get("msg", ""))}
        for error in exc.errors
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return error_response(
        422,
        "invalid_input",
        _("The request is not valid: %(errors)s") % {"errors": summary},
        errors=errors,
    )


def _on_http_error(request: HttpRequest, exc: HttpError) -> JsonResponse:
    if isinstance(exc, ApiError):
        return error_response(exc.status_code, exc.code, exc.message)
    if isinstance(exc, AuthenticationError):
        return error_response(401, "login_required", _("Log in or send a personal API token."))
    if exc.status_code == 400:
        # ninja raises this when the body is not JSON, from our parser's error.
        if isinstance(exc.__cause__, InvalidJson):
            detail = _("The request body is not valid JSON: %(reason)s.") % {
                "reason": exc.__cause__
            }
            return error_response(400, "invalid_json", detail)
        return error_response(400, "invalid_json", _("The request body is not valid JSON."))
    if exc.status_code == 429:
        return error_response(429, "too_many_requests", _("Too many requests: try again later."))
    return error_response(exc.status_code, f"http_{exc.status_code}", exc.message)


def _on_refused(request: HttpRequest, exc: Refused) -> JsonResponse:
    return error_response(exc.status, exc.code, exc.message)


def _on_not_found(request: HttpRequest, exc: Exception) -> JsonResponse:
    return error_response(404, "not_found", _("Not found."))


def _on_permission_denied(request: HttpRequest, exc: Exception) -> JsonResponse:
    return error_response(403, "forbidden", _("You may not do this."))


def _on_too_big(request: HttpRequest, exc: Exception) -> JsonResponse:
    return error_response(413, "too_large", _("The request is too large."))


def _on_suspicious(request: HttpRequest, exc: Exception) -> JsonResponse:
    return error_response(400, "bad_request", _("The request could not be understood."))


def _json_fallbacks(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Unknown paths and wrong methods answer in JSON too, not with an HTML page."""

    @csrf_exempt  # each API operation checks CSRF itself (BrowserSession)
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            return error_response(404, "not_found", _("Not found."))
        if isinstance(response, HttpResponseNotAllowed):
            allowed = response["Allow"]
            response = error_response(
                405, "method_not_allowed", _("Method not allowed here: use %s.") % allowed
            )
            response["Allow"] = allowed
        return response

    return wrapper


def _unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    return error_response(404, "not_found", _("Not found."))


class JsonParser(Parser):
    def parse_body(self, request: HttpRequest) -> Any:
        return load_json(request.body)


class AgoraAPI(NinjaAPI):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("parser", JsonParser())
        super().__init__(*args, **kwargs)

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        patterns = super()._get_urls()
        for pattern in patterns:
            if isinstance(pattern, URLPattern):  # (ninja includes no resolver)
                pattern.callback = _json_fallbacks(pattern.callback)
        patterns.append(re_path(r"^.*$", _json_fallbacks(_unknown_path)))
        return patterns


# Which error each handler answers. ninja types a handler as taking the exception or its
# class; ninja hands ours the exception, so the table says "Any" for it.
_HANDLERS: list[tuple[type[Exception], Callable[[HttpRequest, Any], HttpResponse]]] = [
    (ValidationError, _on_validation_error),
    (HttpError, _on_http_error),
    (Refused, _on_refused),
    (Http404, _on_not_found),
    (PermissionDenied, _on_permission_denied),
    (RequestDataTooBig, _on_too_big),
    (SuspiciousOperation, _on_suspicious),
]


def install(api: NinjaAPI) -> None:
    for exc_class, handler in _HANDLERS:
        api.add_exception_handler(exc_class, handler)
