"""The stock-Django reference for bench/write_path.py: what ``startproject`` gives you (its
settings and middleware, Django's defaults for the database connection: none kept between
requests), one sync view doing the same upsert as Agora's vote (``update_or_create`` on
Agora's ``consultation_vote`` table) and one Redis ``INCR`` (redis-py, one client per
process), served by the project's uvicorn command through Django's ASGI handler.

The voter is read from an in-memory map of the bench's tokens (``BENCH_TOKENS``): like the
bare reference, it authenticates nobody and checks nothing else.

    BENCH_DATABASE_URL=postgres://… REDIS_URL=redis://127.0.0.1:6379/12 BENCH_TOKENS=… \\
      python -m uvicorn stock_django.asgi:application --app-dir bench/refs --port 8768 ...
"""
