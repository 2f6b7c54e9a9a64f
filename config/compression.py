"""HTML pages sent compressed to visitors who are not logged in (decision 0038).

Django's GZipMiddleware, with its "Heal the Breach" random padding, applied only to
``text/html`` answers to a request without a logged-in person. BREACH reads a secret out
of a compressed body that also reflects what the attacker sends (the search of a
consultation page, a form's refused input). A visitor's page holds no secret but the CSRF
token, which Django masks afresh in every response; a logged-in person's pages hold their
own votes, address, a new API token or recovery codes: those are sent as they are.
"""

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.gzip import GZipMiddleware


class VisitorPageGZipMiddleware(GZipMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return response
        if not response.get("Content-Type", "").startswith("text/html"):
            return response  # downloads (open data, exports) and the API: as they are
        return super().process_response(request, response)
