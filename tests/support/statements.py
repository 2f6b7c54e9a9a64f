"""Every SQL statement run meanwhile, on the calling thread's open connections and on every
database connection opened meanwhile, in any thread: what a page costs (the test's own
connection), or what a websocket's connect costs the database, including its reads off the
event loop (``connection_created`` announces each connection, which is then watched)."""

import threading
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from asgiref.sync import sync_to_async
from django.db import connections
from django.db.backends.signals import connection_created


@dataclass
class Statements:
    sql: list[str] = field(default_factory=list)

    def matching(self, *fragments: str) -> list[str]:
        """The statements that contain every fragment (table and column names, quoted)."""
        return [sql for sql in self.sql if all(f in sql for f in fragments)]


@contextmanager
def every_statement():
    seen = Statements()
    lock = threading.Lock()
    recording = True

    def record(execute, sql, params, many, context):
        if recording:
            with lock:
                seen.sql.append(sql)
        return execute(sql, params, many, context)

    def opened(sender, connection, **kwargs):
        connection.execute_wrappers.append(record)

    # This thread's connections already open (a test's transaction) are watched too.
    already_open = list(connections.all(initialized_only=True))
    for connection in already_open:
        connection.execute_wrappers.append(record)
    connection_created.connect(opened, weak=False)
    try:
        yield seen
    finally:
        recording = False  # a connection that outlives the block keeps a silent wrapper
        connection_created.disconnect(opened)
        for connection in already_open:
            connection.execute_wrappers.remove(record)


@asynccontextmanager
async def every_statement_off_the_loop():
    """``every_statement`` for async tests: the thread where consumers read the database
    (``database_sync_to_async``) starts the block without a connection, so the first
    one it needs is announced and watched too."""
    await sync_to_async(connections.close_all)()
    with every_statement() as seen:
        yield seen
