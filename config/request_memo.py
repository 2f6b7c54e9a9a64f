"""Answers remembered for the length of one page's request.

A signed-in page asks the same question of the database several times: whether its reader
is suspended here (once per form the page may show: vote, grade, comment, report, change
a comment), which roles they hold (the menu's spaces). The answer cannot change in the
middle of reading a page, so ``remembered(key, ask)`` asks once per request.

Only for ``GET`` and ``HEAD`` requests: a write may change the answer halfway (a
moderator's suspension, then the page rendered again), and is never memoised. Only on the
request's context, never on the user object: a websocket connection keeps its user for
hours, and a suspension must hold on every door at once (``permissions.suspension_of``).
Outside a request (tests, tasks, websocket consumers) nothing is remembered.
"""

from collections.abc import Callable, Hashable
from contextvars import ContextVar

from django.http import HttpRequest, HttpResponseBase

_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)

READS = frozenset({"GET", "HEAD"})


def remembered[T](key: Hashable, ask: Callable[[], T]) -> T:
    """``ask()``, asked once per reading request for ``key``; every time elsewhere."""
    memo = _memo.get()
    if memo is None:
        return ask()
    if key not in memo:
        memo[key] = ask()
    return memo[key]


class RequestMemoMiddleware:
    """Opens the memo for a reading request and closes it when its answer is made."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method not in READS:
            return self.get_response(request)
        token = _memo.set({})
        try:
            return self.get_response(request)
        finally:
            _memo.reset(token)
