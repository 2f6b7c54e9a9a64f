"""The name the rest of the site gives a person making a request."""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

# A signed-in ``User`` or Django's ``AnonymousUser``: exactly what ``request.user`` is
# (django-stubs types it from AUTH_USER_MODEL), what the websocket scope carries and what
# every permission predicate and domain write is handed. ``user.is_authenticated`` tells
# the two apart for mypy as for the reader (docs/decisions/0027-types.md).
type Person = User | AnonymousUser
