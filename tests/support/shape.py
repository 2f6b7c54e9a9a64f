"""Clients of the production shape for the fault tests (tests/faults/): voters keeping a
log of what the server acknowledged, a live page's websocket that reconnects and resyncs
as static/js/live.js does, and reads of the shape's own database.

Everything goes through nginx, as a citizen's requests do; the database is read directly
(psycopg) to compare it with what the clients were told.
"""

import http.client
import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from scripts.prod_local import ROOT, Shape


def seed(shape: Shape, **spec) -> dict:
    """Consultation, items and citizens with tokens in the shape's database (shape_seed)."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.shape_seed", json.dumps(spec)],
        cwd=ROOT,
        env={**shape.agora_env(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def run_in_shape(shape: Shape, code: str) -> str:
    """Run Python (Django set up) with the shape's environment: a domain call, as a page would."""
    program = "import django; django.setup()\n" + code
    done = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={**shape.agora_env(), "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def closes_in(shape: Shape, consultation_id: int, seconds: float) -> float:
    """Move the consultation's closing time to ``seconds`` from now (after the seeding,
    whose duration varies with the machine's load); returns it as a Unix time."""
    rows = query(
        shape,
        "UPDATE consultation_consultation SET closes_at = now() + make_interval(secs => %s) "
        "WHERE id = %s RETURNING extract(epoch FROM closes_at)",
        seconds,
        consultation_id,
    )
    return float(rows[0][0])


def query(shape: Shape, sql: str, *params) -> list[tuple]:
    import psycopg

    with psycopg.connect(shape.database_url, connect_timeout=5) as connection:
        return connection.execute(sql, params).fetchall()


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Answer:
    citizen: int
    item: int
    choice: str
    status: int  # 0: no answer at all (connection dropped or timed out)
    body: dict
    retry_after: str | None
    at: float  # when the answer came
    sent: float = 0.0  # when the request was sent


@dataclass
class Voters:
    """Citizens voting through ``PUT /api/v1/items/{id}/vote``, one thread each, every
    answer logged: the client side of "nothing lost"."""

    url: str
    citizens: list[dict]
    items: list[int]
    pause: float = 0.02
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def vote(self, citizen: dict, item: int, choice: str, timeout: float = 30) -> Answer:
        parts = urlsplit(self.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        sent = time.time()
        headers = {
            "Authorization": f"Bearer {citizen['token']}",
            "Content-Type": "application/json",
        }
        try:
            connection.request(
                "PUT", f"/api/v1/items/{item}/vote", json.dumps({"choice": choice}), headers
            )
            response = connection.getresponse()
            raw = response.read()
            try:
                body = json.loads(raw)
            except ValueError:
                body = {"raw": raw[:200].decode(errors="replace")}
            answer = Answer(
                citizen["id"], item, choice, response.status, body,
                response.getheader("Retry-After"), time.time(), sent,
            )  # fmt: skip
        except (OSError, http.client.HTTPException) as error:
            answer = Answer(
                citizen["id"], item, choice, 0, {"error": str(error)}, None, time.time(), sent
            )
        finally:
            connection.close()
        with self._lock:
            self.answers.append(answer)
        return answer

    def start(self) -> "Voters":
        for n, citizen in enumerate(self.citizens):
            thread = threading.Thread(target=self._loop, args=(n, citizen), daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _loop(self, n: int, citizen: dict) -> None:
        choices = ("for", "against", "abstain")
        turn = n
        while not self._stop.is_set():
            self.vote(citizen, self.items[turn % len(self.items)], choices[(turn // 3) % 3])
            turn += 1
            self._stop.wait(self.pause)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=40)

    def statuses(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for answer in self.answers:
            counts[answer.status] = counts.get(answer.status, 0) + 1
        return counts

    def acknowledged(self) -> dict[tuple[int, int], str]:
        """(citizen, item) → the choice of the last vote the server acknowledged (200)."""
        last: dict[tuple[int, int], str] = {}
        for answer in sorted(self.answers, key=lambda a: a.at):
            if answer.status == 200:
                last[(answer.citizen, answer.item)] = answer.choice
        return last

    def sent(self) -> set[tuple[int, int, str]]:
        return {(a.citizen, a.item, a.choice) for a in self.answers}


def votes_in_database(shape: Shape, consultation_id: int) -> dict[tuple[int, int], str]:
    rows = query(
        shape,
        "SELECT v.user_id, v.item_id, v.choice FROM consultation_vote v "
        "JOIN consultation_item i ON i.id = v.item_id WHERE i.consultation_id = %s",
        consultation_id,
    )
    return {(user, item): choice for user, item, choice in rows}


def tally_of(votes: dict[tuple[int, int], str]) -> dict[str, dict[str, int]]:
    """Per item, the counts of each choice: what a recount from the database says."""
    counts: dict[str, dict[str, int]] = {}
    for (_user, item), choice in votes.items():
        per_item = counts.setdefault(str(item), {"for": 0, "against": 0, "abstain": 0})
        per_item[choice] += 1
    return counts


class LivePage:
    """A consultation page's websocket through nginx, as static/js/live.js keeps it: on a
    close it reconnects (to whichever process nginx picks) and starts from the snapshot
    it is sent. ``items`` is what the page shows; ``frames``, everything received."""

    def __init__(self, shape: Shape, slug: str) -> None:
        parts = urlsplit(shape.url)
        self.uri = f"ws://{parts.netloc}/ws/consultations/{slug}/"
        self.origin = shape.url
        self.frames: list[dict] = []
        self.connections = 0
        self.closes: list[int | None] = []
        self.items: dict[str, dict] = {}
        self.last: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._socket = None

    def __enter__(self) -> "LivePage":
        self._thread.start()
        wait_for(lambda: self.connections and self.items, 20, "the page's first snapshot")
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._socket is not None:
            self._socket.close()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        from websockets.exceptions import ConnectionClosed
        from websockets.sync.client import connect

        while not self._stop.is_set():
            try:
                with connect(self.uri, origin=self.origin, open_timeout=5) as socket:
                    self._socket = socket
                    self.connections += 1
                    self.last = None  # waiting for this connection's snapshot
                    for text in socket:
                        self._receive(json.loads(text), socket)
                    self.closes.append(socket.close_code)
            except ConnectionClosed as error:
                self.closes.append(error.rcvd.code if error.rcvd else None)
            except (OSError, TimeoutError):
                self.closes.append(None)
            self._stop.wait(0.5)  # live.js waits a moment (with jitter) before reconnecting

    def _receive(self, frame: dict, socket) -> None:
        """As live.js's ``seqAction``: a snapshot sets the page; a numbered frame right
        after the last one applies; an older one is ignored; after a gap (frames missed,
        a Redis outage) the page asks for a snapshot and waits for it."""
        frame["_at"] = time.time()
        self.frames.append(frame)
        if frame.get("type") == "snapshot":
            self.items = {k: v for k, v in frame["consultation"]["items"].items()}
            self.last = frame["seq"]
            return
        if not isinstance(frame.get("seq"), int) or self.last is None or frame["seq"] <= self.last:
            return
        if frame["seq"] > self.last + 1:
            self.last = None
            socket.send(json.dumps({"type": "resync"}))
            return
        self.last = frame["seq"]
        if frame.get("type") == "tally":
            for key, value in frame.get("items", {}).items():
                self.items.setdefault(key, {}).update(value)

    def shown_votes(self) -> dict[str, dict[str, int]]:
        return {
            key: dict(value["votes"])
            for key, value in self.items.items()
            if value.get("votes") is not None
        }

    def comes_to_show(self, expected: dict, timeout: float = 10) -> None:
        """Wait until the page shows ``expected`` (item → vote counts), or fail saying what
        it shows instead."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.shown_votes() != expected:
            time.sleep(0.1)
        assert self.shown_votes() == expected, (
            f"the page shows {self.shown_votes()}, the database says {expected} "
            f"(connections {self.connections}, closes {self.closes}, "
            f"last frames {[(f.get('type'), f.get('seq')) for f in self.frames[-5:]]})"
        )

    def snapshots_since(self, moment: float) -> int:
        return sum(1 for f in self.frames if f.get("type") == "snapshot" and f["_at"] >= moment)


def assert_nothing_lost(voters: Voters, database: dict[tuple[int, int], str]) -> None:
    """Every vote the server acknowledged is in the database, unless the same citizen sent
    a later one for that item whose outcome they were not told (no answer, or a 5xx: it
    may have been written before the failure); nothing is in the database that no client
    sent; refusals (4xx) wrote nothing."""
    by_pair: dict[tuple[int, int], list[Answer]] = {}
    for answer in sorted(voters.answers, key=lambda a: a.at):
        by_pair.setdefault((answer.citizen, answer.item), []).append(answer)
    for pair, choice in database.items():
        assert pair in by_pair, f"vote {pair}={choice} is in the database but nobody sent it"
    for pair, answers in by_pair.items():
        acked = [n for n, a in enumerate(answers) if a.status == 200]
        if not acked:
            unknown = {a.choice for a in answers if a.status == 0 or a.status >= 500}
            assert pair not in database or database[pair] in unknown, (
                f"{pair}: never acknowledged, yet {database.get(pair)} is in the database"
            )
            continue
        last = acked[-1]
        possible = {answers[last].choice} | {
            a.choice for a in answers[last + 1 :] if a.status == 0 or a.status >= 500
        }
        assert database.get(pair) in possible, (
            f"{pair}: the client was told {answers[last].choice!r} was recorded "
            f"(then {[(a.status, a.choice) for a in answers[last + 1 :]]}), "
            f"the database holds {database.get(pair)!r}"
        )


def final_results(shape: Shape, consultation_id: int) -> list[dict]:
    """The consultation's stored final results (one, or none yet), as documents."""
    rows = query(
        shape,
        "SELECT results_json FROM consultation_computedresult "
        "WHERE consultation_id = %s AND kind = 'final'",
        consultation_id,
    )
    return [json.loads(text) for (text,) in rows]


def counted_votes(results: dict) -> dict[str, dict[str, int]]:
    """Per item, the for/against/abstain counts of a results document's ``votes`` method."""
    scores = results["methods"]["votes"]["scores"]
    return {
        item: {c: s[c] for c in ("for", "against", "abstain")}
        for item, s in scores.items()
        if s["total"]
    }
