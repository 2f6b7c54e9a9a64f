"""The ASGI server's own ``send`` for a websocket, kept for the hub's fan-out.

Channels' session middleware wraps ``send`` to save sessions on HTTP responses;
on a websocket frame the wrapper does nothing but costs a few LazyObject reads,
and the hub pays that once per socket per frame (about a quarter of the server's
CPU per delivery at 5,000 sockets, see docs/performance.md). ``capture`` sits
outside the middleware stack and stores the server's ``send`` in the scope; the
hub writes pre-serialised frames through it. Everything else a consumer sends
(accept, snapshots, errors, close) still goes through the middleware.
"""

import asyncio

SCOPE_KEY = "agora.transport_send"


def capture(app):
    async def capture_transport_send(scope, receive, send):
        if scope["type"] == "websocket":
            # Mutated, not copied: a copy would cost memory per open socket, and the
            # middleware below copies the scope (with this key) anyway.
            scope[SCOPE_KEY] = send
        return await app(scope, receive, send)

    return capture_transport_send


def flow_control(send) -> asyncio.Event | None:
    """The server's "may write" event for this socket, when it exposes one.

    uvicorn's websocket protocols clear ``writable`` while the socket's write
    buffer is above its high-water mark (a client that stopped reading). The hub
    checks it so that one stalled socket never holds up the fan-out to the rest.
    """
    event = getattr(getattr(send, "__self__", None), "writable", None)
    return event if isinstance(event, asyncio.Event) else None
