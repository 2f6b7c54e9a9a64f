"""Every way in, read from the running configuration, for the authorization meta-test
(tests/test_authorization_coverage.py): the Django URL patterns (with their namespaces),
the API's operations (from its OpenAPI schema) and the websocket routes; the check that
a policy table covers them; and the filling of a route's arguments with sample values.
"""

import importlib
import re
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from django.urls import URLPattern, URLResolver, get_resolver, resolve

TESTS_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Route:
    """One way in. ``key`` is what the policy table names: ``namespace:name`` for a named
    URL pattern (``namespace:/its/path/`` when unnamed), ``METHOD /api/v1/path`` for an API
    operation, the path pattern for a websocket route."""

    key: str
    pattern: str
    detail: str = ""
    namespaces: tuple[str, ...] = field(default=(), compare=False)


@dataclass(frozen=True)
class Rule:
    """A route's access policy, the HTTP methods it is used with, and the tests that check
    who may and who may not use it (``tests/path.py::test_name``)."""

    policy: str | dict[str, str]
    methods: str
    tests: tuple[str, ...]

    def policy_of(self, method: str) -> str:
        return self.policy[method] if isinstance(self.policy, dict) else self.policy

    def method_list(self) -> list[str]:
        return self.methods.split()


def rule(policy, methods="GET", *, tests) -> Rule:
    if isinstance(policy, dict):
        methods = " ".join(policy)
    return Rule(policy, methods, tuple(tests))


# --- Enumeration -------------------------------------------------------------------------


def _walk(patterns, prefix="", namespaces=()):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = namespaces + ((entry.namespace,) if entry.namespace else ())
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern):
            yield namespaces, entry, prefix + str(entry.pattern)


def url_routes(resolver=None) -> list[Route]:
    """Every Django URL pattern, the API's included (their operations are checked one by
    one, see ``api_operations``)."""
    routes = []
    for namespaces, pattern, path in _walk((resolver or get_resolver()).url_patterns):
        name = pattern.name or "/" + path
        callback = pattern.callback
        view = f"{getattr(callback, '__module__', '?')}.{getattr(callback, '__name__', '?')}"
        routes.append(Route(":".join((*namespaces, name)), path, view, namespaces))
    return routes


def api_operations(api) -> list[Route]:
    """Every operation of the django-ninja API: method, path and operationId."""
    schema = api.get_openapi_schema()
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append(
                Route(f"{method.upper()} {path}", path, operation.get("operationId", ""))
            )
    return operations


def websocket_routes(patterns) -> list[Route]:
    return [
        Route(str(pattern.pattern), str(pattern.pattern), _consumer(pattern))
        for pattern in patterns
    ]


def _consumer(pattern) -> str:
    consumer = getattr(pattern.callback, "consumer_class", pattern.callback)
    return f"{consumer.__module__}.{consumer.__name__}"


def _shape(path: str) -> str:
    """A path with its parameters blanked (``<slug>``, ``<int:item_id>``, ``{slug}`` and
    ``(?P<key>...)`` alike) and a regex's anchors dropped."""
    blanked = re.sub(r"<[^>]*>|\{[^}]*\}|\(\?P<\w+>[^()]*\)", "{}", path)
    return blanked.replace("^", "").replace("$", "").strip("/")


def api_patterns_of_operations(routes: list[Route], operations: list[Route]) -> set[str]:
    """The keys of the ``api:`` URL patterns that serve an API operation: the operations
    table covers them (an operation's policy is per method, a pattern serves several)."""
    shapes = {_shape(operation.pattern) for operation in operations}
    return {
        route.key
        for route in routes
        if "api" in route.namespaces and _shape(route.pattern) in shapes
    }


# --- The bookkeeping check ---------------------------------------------------------------


def entry_for(key: str, table: dict[str, Rule]) -> tuple[str | None, list[str]]:
    """The table entry naming ``key``: an exact entry, else the one wildcard entry that
    matches it. Returns (entry, every wildcard entry that matched)."""
    if key in table:
        return key, []
    wildcards = [entry for entry in table if "*" in entry and fnmatchcase(key, entry)]
    return (wildcards[0] if len(wildcards) == 1 else None), wildcards


def reference_problem(reference: str, *, itself: str) -> str | None:
    """Why ``tests/path.py::test_name`` names no test function, or None."""
    path, _, name = reference.partition("::")
    if not path.startswith("tests/") or not path.endswith(".py") or not name:
        return f"{reference!r} is not of the form 'tests/path.py::test_name'"
    if path == itself:
        return (
            f"{reference!r} points at the meta-test itself: name the test that checks it in depth"
        )
    if not (TESTS_ROOT.parent / path).is_file():
        return f"{reference!r}: no such file"
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    function = getattr(module, name, None)
    if not (name.startswith("test_") and callable(function)):
        return f"{reference!r}: {path} defines no test function {name}"
    return None


def coverage_problems(
    routes: list[Route], table: dict[str, Rule], *, kind: str, policies, itself: str
) -> list[str]:
    """Everything wrong between the routes and their policy table: a route without an
    entry, an entry matching no route (stale), an unknown policy, a reference to a test
    that does not exist."""
    problems = []
    used = set()
    for route in routes:
        entry, wildcards = entry_for(route.key, table)
        if entry is None and len(wildcards) > 1:
            problems.append(f"{kind} {route.key!r} is matched by several entries: {wildcards}")
        elif entry is None:
            problems.append(
                f"{kind} {route.key!r} ({route.pattern} -> {route.detail}) has no entry in the "
                "policy table: add one with its policy and the tests that check it"
            )
        else:
            used.add(entry)
    for entry, rule_ in table.items():
        if entry not in used:
            problems.append(f"{kind} entry {entry!r} matches no route any more (stale): remove it")
        for method in rule_.method_list():
            if rule_.policy_of(method) not in policies:
                problems.append(
                    f"{kind} entry {entry!r}: unknown policy {rule_.policy_of(method)!r}"
                )
        if not rule_.tests:
            problems.append(f"{kind} entry {entry!r} names no test")
        for reference in rule_.tests:
            problem = reference_problem(reference, itself=itself)
            if problem:
                problems.append(f"{kind} entry {entry!r}: {problem}")
    return problems


# --- Filling a route's arguments ---------------------------------------------------------

_ROUTE_PARAMETER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")
_REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^()]*\)")
_API_PARAMETER = re.compile(r"\{(?P<name>[^}]+)\}")


class MissingSample(LookupError):
    pass


def fill(pattern: str, samples: dict) -> str:
    """The path ``pattern`` gives with ``samples`` for its arguments (route converters,
    regex groups and ``{name}`` alike); a regex's anchors dropped, a bare ``.*`` filled."""

    def value(match):
        name = match.group("name")
        if name not in samples:
            raise MissingSample(name)
        return str(samples[name])

    path = _REGEX_GROUP.sub(value, pattern)  # first: "(?P<key>...)" holds a "<key>"
    path = _ROUTE_PARAMETER.sub(value, path)
    path = _API_PARAMETER.sub(value, path)
    path = path.replace("^", "").replace("$", "").replace(".*", "anything-else")
    return path if path.startswith("/") else "/" + path


def resolves_to(path: str, route: Route) -> bool:
    """``path`` reaches ``route``'s pattern (and not an earlier one that shadows it)."""
    match = resolve(path.split("?")[0])
    if match.url_name is not None:
        return match.view_name == route.key
    return _shape(match.route) == _shape(route.pattern)
