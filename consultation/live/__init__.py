"""The consultation's live view: counters, coalesced tallies, snapshots, events.

The database is the truth. Live counters are a derived view kept after commit (a Redis
hash per consultation with ``REDIS_URL``, process memory otherwise); ``counters.reconcile``
recounts from the database and repairs drift. Everything here is called from
``transaction.on_commit`` (robustly: a failure is logged, the vote stands) or from the
websocket providers, and publishes plain JSON through ``realtime.broadcast.publish``.

- ``stores``: where the counters and the live pairwise matrix are kept (memory or Redis),
  and their keys;
- ``counters``: counting them from the database, reading, rebuilding and reconciling them;
- ``events``: the after-commit hooks the domain calls, and the frames they publish;
- ``providers``: the websocket streams (who may follow which topic, snapshots, resync).
"""
