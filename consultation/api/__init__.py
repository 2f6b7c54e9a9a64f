"""The JSON API (/api/v1/), built with django-ninja. Thin: parse, check, call the domain.

Reads are public and follow the same visibility policy as the pages. Writes act as
the caller, authenticated either by a personal token (``Authorization: Bearer
agora_…``, for scripts) or by the browser session, which must then carry Django's
CSRF token. Every error is JSON: ``{"code": "...", "detail": "..."}`` with a 4xx.

Drafts are never served here, not even to their organisers: previewing a draft is
an organiser feature, kept behind the MFA-protected organiser pages, and a token
must not become a way around that.
"""

# Importing an operation module registers its operations on ``api``, and the schema lists
# them in that order: the reads first, then taking part, then moderation as citizens meet
# it (``isort: split`` keeps the order).
from consultation.api import reading  # noqa: F401

# isort: split
from consultation.api import participating  # noqa: F401

# isort: split
from consultation.api import moderating  # noqa: F401
from consultation.api.site import api

__all__ = ["api"]
