"""The load client's ceiling for bench/write_path.py: a server that answers at once.

A raw asyncio protocol (uvloop when installed) that reads each request's head and body
and answers a fixed ``200`` with a short JSON body, doing nothing else: no ASGI, no
database, no Redis. What the load client reaches against it is the most it can send on
this machine; the bench checks it stays well above what the bare reference answers, so
that the client is never what the references or Agora are measured against.

    python bench/refs/http_ceiling.py --port 8769
"""

import argparse
import asyncio
import contextlib

ANSWER = (
    b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'
)


class Answering(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in bytes(self.buffer[:end]).split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if len(self.buffer) < end + 4 + length:
                return
            del self.buffer[: end + 4 + length]
            self.transport.write(ANSWER)


async def serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Answering, "127.0.0.1", port, backlog=1024)
    print(f"ceiling server listening on 127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    port = parser.parse_args().port
    try:
        import uvloop
    except ImportError:
        run = asyncio.run
    else:
        run = uvloop.run
    with contextlib.suppress(KeyboardInterrupt):  # how the bench stops it
        run(serve(port))


if __name__ == "__main__":
    main()
