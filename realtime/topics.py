"""Topic providers: how a stream is found, authorised and snapshotted.

``realtime`` knows nothing of consultations: the consultation app registers its
streams here (in its AppConfig.ready), so the dependency points one way only.
All provider functions are synchronous (they read the database) and are called
off the event loop.
"""

from collections.abc import Callable
from dataclasses import dataclass

# Close codes of a refused stream (docs/realtime.md). A stream its visitor may not see
# at all (say, a draft's) is NOT_FOUND, like one that does not exist, as HTTP answers
# 404 for both; NOT_ALLOWED is for a stream of something the visitor may see.
NOT_ALLOWED = 4403
NOT_FOUND = 4404


@dataclass(frozen=True)
class Access:
    topic: str | None  # None: refused
    close_code: int = NOT_ALLOWED
    # True when the answer is the same for every visitor, signed in or not (a published
    # consultation's public stream): the doorway may give it to the next connects of a
    # storm for a moment without asking again (realtime/doorway.py).
    shared: bool = False


@dataclass(frozen=True)
class Provider:
    # (user, **url kwargs) -> Access
    resolve: Callable[..., Access]
    # topic -> snapshot frame (a dict with "type", "stream" and "seq")
    snapshot: Callable[[str], dict]
    # topic -> None: rebuild derived state after an outage
    resync: Callable[[str], None] | None = None


_providers: dict[str, Provider] = {}


def register(kind: str, provider: Provider) -> None:
    _providers[kind] = provider


def provider(kind: str) -> Provider:
    return _providers[kind]


def kind_of(topic: str) -> str:
    return topic.split(":", 1)[0]


def on_resync(topic: str) -> None:
    hook = _providers[kind_of(topic)].resync
    if hook is not None:
        hook(topic)


def snapshot(topic: str) -> dict:
    return _providers[kind_of(topic)].snapshot(topic)
