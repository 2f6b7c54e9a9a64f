"""The production shape on loopback: `make prod-local` (docs/deploy.md).

Its own PostgreSQL cluster (``initdb``, data in ``var/prod-local/postgres``) and its own
Redis (with an append-only file, as in production), nginx with the site of ``deploy/``
(the same proxy snippet), two uvicorn processes started with the Makefile's
``UVICORN_OPTIONS``, a Celery worker and Celery beat. Every server listens on 127.0.0.1
on a free port; the machine's own PostgreSQL and Redis are never touched. Each process
writes its log to ``var/log/<name>.log``.

From a shell::

    python scripts/prod_local.py run      # start, print the URL, stop on Ctrl+C (make prod-local)
    python scripts/prod_local.py start    # start in the background, print the state as JSON
    python scripts/prod_local.py status   # the state as JSON (exit 1 when not running)
    python scripts/prod_local.py stop     # stop it, however it was started (make prod-local-stop)

``start`` and ``run`` take ``--port`` (nginx's; ``PROD_LOCAL_PORT``, else 8080 when free,
else any free port) and ``--env NAME=VALUE`` (an Agora setting for every process of the
shape, e.g. ``--env WRITE_RATE_LIMIT=100000/m``). The state (``var/prod-local/state.json``)
names the URL, the database and Redis addresses, each process's pid, port and log.

From Python (the fault tests, bench/load.py)::

    from scripts.prod_local import Shape
    with Shape(home=tmp, env={"WRITE_RATE_LIMIT": "100000/m"}) as shape:
        shape.url, shape.database_url, shape.redis_url
        shape.kill("web1")            # a fault: SIGKILL one process
        shape.restart("redis")        # stop it cleanly, start it again on the same port

``Shape.unavailable()`` says why the shape cannot start on this machine (nginx, Redis or
PostgreSQL missing), or ``None``; ``scripts/setup-prod-local`` installs what is missing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PYTHON = str(ROOT / ".venv" / "bin" / "python") if (ROOT / ".venv").exists() else sys.executable
PROXY_SNIPPET = ROOT / "deploy" / "nginx" / "agora-proxy.conf"
# The order things start in; they stop in the reverse order.
ORDER = ("postgres", "redis", "web1", "web2", "worker", "beat", "nginx")
# What the shape sets itself, whatever the caller's environment says.
OWN = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND")


class ShapeUnavailable(RuntimeError):
    """Something the shape needs is missing on this machine: the message says what."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
        return True


def uvicorn_options() -> list[str]:
    """The Makefile's UVICORN_OPTIONS: one definition for `make run` and the shape."""
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^UVICORN_OPTIONS := (.*)$", makefile, re.MULTILINE)
    assert found, "UVICORN_OPTIONS is not in the Makefile"
    return shlex.split(found[1])


def postgres_bindir() -> Path | None:
    """PG_BIN, else the newest /usr/lib/postgresql/*/bin (Debian), else initdb on PATH."""
    if os.environ.get("PG_BIN"):
        return Path(os.environ["PG_BIN"])
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
    )


def _alive(pid: int) -> bool:
    """Running, and not a zombie nobody reaped."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in {"Z", "X"}


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class Shape:
    """The production shape, started and stopped as one thing (see the module's docstring)."""

    def __init__(
        self,
        home: Path | str = ROOT / "var" / "prod-local",
        logs: Path | str | None = None,
        *,
        port: int = 0,
        env: dict[str, str] | None = None,
    ) -> None:
        self.home = Path(home).resolve()
        self.logs = Path(logs).resolve() if logs else self.home / "log"
        self.port = port
        self.overrides = dict(env or {})
        self.state_file = self.home / "state.json"
        self.state: dict = {}
        self._children: dict[str, subprocess.Popen] = {}

    # --- what the others read --------------------------------------------------------

    @property
    def url(self) -> str:
        return self.state["url"]

    @property
    def database_url(self) -> str:
        return self.state["database_url"]

    @property
    def redis_url(self) -> str:
        return self.state["redis_url"]

    def web_urls(self) -> list[str]:
        return [f"http://{HOST}:{self.state['services'][n]['port']}" for n in ("web1", "web2")]

    def log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    @staticmethod
    def unavailable() -> str | None:
        """Why the shape cannot start here, or None."""
        missing = []
        if nginx_binary() is None:
            missing.append("nginx")
        if shutil.which("redis-server") is None:
            missing.append("redis-server")
        bindir = postgres_bindir()
        if bindir is None or not (bindir / "postgres").exists():
            missing.append("PostgreSQL's server (initdb, postgres)")
        if missing:
            return (
                f"the production shape needs {', '.join(missing)}: run scripts/setup-prod-local "
                "(Debian packages nginx, redis-server, postgresql)"
            )
        if os.geteuid() == 0:
            import pwd

            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root, PostgreSQL needs a 'postgres' account to run as"
        return None

    # --- starting and stopping ------------------------------------------------------

    def __enter__(self) -> Shape:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, timeout: float = 240.0) -> dict:
        reason = self.unavailable()
        if reason:
            raise ShapeUnavailable(reason)
        if self._running_state():
            raise RuntimeError(f"already running ({self.state_file}): stop it first")
        self.home.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(parents=True, exist_ok=True)
        secrets_ = self._secrets()
        port = self.port or int(os.environ.get("PROD_LOCAL_PORT", "0") or 0)
        if not port:
            port = 8080 if port_is_free(8080) else free_port()
        elif not port_is_free(port):
            raise RuntimeError(f"port {port} is taken: choose another with --port")
        ports = {name: free_port() for name in ("postgres", "redis", "web1", "web2")}
        self.state = {
            "url": f"http://{HOST}:{port}",
            "database_url": (
                f"postgres://agora:{secrets_['postgres']}@{HOST}:{ports['postgres']}/agora"
            ),
            "redis_url": f"redis://:{secrets_['redis']}@{HOST}:{ports['redis']}/0",
            "home": str(self.home),
            "logs": str(self.logs),
            "supervisor": None,
            "services": {
                name: {"pid": None, "port": ports.get(name), "log": str(self.log(name))}
                for name in ORDER
            },
        }
        self.state["services"]["nginx"]["port"] = port
        deadline = time.monotonic() + timeout
        try:
            for name in ORDER:
                if name == "web1":  # the database and Redis answer: bring the schema up
                    self._prepare(deadline)
                self.start_service(name, deadline=deadline)
        except BaseException:
            self.stop()
            raise
        return self.state

    def stop(self) -> None:
        """Stop every process of the shape, the last started first; forget the state."""
        if not self.state and self.state_file.exists():
            self.state = json.loads(self.state_file.read_text())
        for name in reversed(ORDER):
            if self.state.get("services", {}).get(name):
                self.stop_service(name)
        self.state_file.unlink(missing_ok=True)

    def _running_state(self) -> dict | None:
        if not self.state_file.exists():
            return None
        state = json.loads(self.state_file.read_text())
        pids = [s["pid"] for s in state["services"].values() if s.get("pid")]
        return state if any(_alive(pid) for pid in pids) else None

    def _save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2))

    def _secrets(self) -> dict[str, str]:
        """Passwords and key of this shape, made once and kept (0600) with its data."""
        path = self.home / "secrets.json"
        if path.exists():
            return json.loads(path.read_text())
        made = {
            "postgres": secrets.token_urlsafe(24),
            "redis": secrets.token_urlsafe(24),
            "secret_key": secrets.token_urlsafe(50),
        }
        path.touch(mode=0o600)
        path.write_text(json.dumps(made))
        return made

    # --- Agora's environment -----------------------------------------------------------

    def agora_env(self) -> dict[str, str]:
        """The environment of every Agora process of the shape (and of manage.py on it)."""
        env = {k: v for k, v in os.environ.items() if k not in OWN}
        env.update(
            DEBUG="false",
            SECRET_KEY=self._secrets()["secret_key"],
            ALLOWED_HOSTS="127.0.0.1,localhost",
            HTTPS="false",
            TRUSTED_PROXY_COUNT="1",
            STATIC_ROOT=str(self.home / "static"),
            MEDIA_ROOT=str(self.home / "media"),
            EMAIL_URL=f"file://{self.home / 'mail'}",
            SITE_URL=self.state["url"],
            CELERY_EMBEDDED_WORKER="false",
        )
        env.update(self.overrides)
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url)
        env.pop("DJANGO_SETTINGS_MODULE", None)
        return env

    def manage(self, *args: str, timeout: float = 300) -> str:
        """Run ``manage.py`` against the shape; returns its output."""
        done = subprocess.run(  # noqa: S603 (our own commands)
            [PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=self.agora_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _prepare(self, deadline: float) -> None:
        self._wait(lambda: self._sql("SELECT 1", db="postgres") is not None, deadline, "postgres")
        if not self._sql("SELECT 1 FROM pg_database WHERE datname = 'agora'", db="postgres"):
            self._sql("CREATE DATABASE agora", db="postgres")
        self.manage("migrate", "--noinput", "-v", "0")
        self.manage("collectstatic", "--noinput", "-v", "0")

    def _sql(self, query: str, db: str = "agora") -> list | None:
        import psycopg

        url = self.database_url.rsplit("/", 1)[0] + "/" + db
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=2) as connection:
                cursor = connection.execute(query)
                return cursor.fetchall() if cursor.description else []
        except psycopg.OperationalError:
            return None

    # --- one process at a time (the faults use these) ------------------------------------

    def start_service(self, name: str, *, deadline: float | None = None) -> None:
        deadline = deadline or time.monotonic() + 120
        service = self.state["services"][name]
        if service.get("pid") and _alive(service["pid"]):
            self.stop_service(name)  # never two of one: the first would be left running
        command, env, user = getattr(self, f"_{re.sub(r'[0-9]', '', name)}_command")(name)
        with self.log(name).open("ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting {name}\n".encode())
            log.flush()
            process = subprocess.Popen(  # noqa: S603 (our own commands)
                command,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl+C in the terminal reaches the supervisor only
                user=user,
                group=user,
                extra_groups=[] if user else None,
            )
        self._children[name] = process
        service["pid"] = process.pid
        service["cmd"] = command[0]
        self._save()
        self._wait(lambda: self._ready(name, process), deadline, name)

    def stop_service(self, name: str, timeout: float = 30) -> None:
        service = self.state["services"][name]
        pid = service.get("pid")
        if not pid or not _alive(pid):
            self._reap(name)
            return
        if service.get("cmd") and service["cmd"] not in _cmdline(pid):
            return  # not ours any more (the pid was reused): leave it alone
        # PostgreSQL: SIGINT is its "fast" shutdown; nginx: SIGQUIT its graceful one.
        sig = {"postgres": signal.SIGINT, "nginx": signal.SIGQUIT}.get(name, signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)
        end = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < end:
            self._reap(name)
            time.sleep(0.05)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        self._reap(name)
        service["pid"] = None
        if self.state_file.exists():
            self._save()

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """A fault: send ``sig`` to the process and everything it started (its group)."""
        pid = self.state["services"][name]["pid"]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
        if sig == signal.SIGKILL:
            end = time.monotonic() + 10
            while _alive(pid) and time.monotonic() < end:
                self._reap(name)
                time.sleep(0.02)
            self._reap(name)
            self.state["services"][name]["pid"] = None
            self._save()

    def restart(self, name: str) -> None:
        self.stop_service(name)
        self.start_service(name)

    def _reap(self, name: str) -> None:
        process = self._children.get(name)
        if process is not None and process.poll() is not None:
            self._children.pop(name, None)

    def _wait(self, condition, deadline: float, what: str) -> None:
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.1)
        tail = self.log(what).read_text(errors="replace")[-3000:] if self.log(what).exists() else ""
        raise RuntimeError(f"{what} did not become ready in time; its log ends:\n{tail}")

    def _ready(self, name: str, process: subprocess.Popen) -> bool:
        if process.poll() is not None:
            tail = self.log(name).read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited at start ({process.returncode}):\n{tail}")
        service = self.state["services"][name]
        if name == "postgres":
            return self._sql("SELECT 1", db="postgres") is not None
        if name == "redis":
            import redis

            try:
                return bool(redis.Redis.from_url(self.redis_url, socket_timeout=1).ping())
            except redis.RedisError:
                return False
        if name in ("web1", "web2", "nginx"):
            return _health(f"http://{HOST}:{service['port']}/health/")
        marker = {"worker": " ready.", "beat": "beat: Starting"}[name]
        return marker in self.log(name).read_text(errors="replace").rsplit("--- ", 1)[-1]

    # --- the commands -------------------------------------------------------------------

    def _postgres_command(self, name: str) -> tuple[list[str], dict, str | None]:
        bindir = postgres_bindir()
        assert bindir is not None
        data = self.home / "postgres"
        user = "postgres" if os.geteuid() == 0 else None
        if not (data / "PG_VERSION").exists():
            self._initdb(bindir, data, user)
        port = self.state["services"]["postgres"]["port"]
        settings = {
            "listen_addresses": HOST,
            "port": port,
            "unix_socket_directories": "",
            "max_connections": 200,
            "shared_buffers": "128MB",
            "logging_collector": "off",
            # Durable as in production; a restart under load is one of the faults.
            "fsync": "on",
        }
        options = [f"--{key}={value}" for key, value in settings.items()]
        return [str(bindir / "postgres"), "-D", str(data), *options], dict(os.environ), user

    def _initdb(self, bindir: Path, data: Path, user: str | None) -> None:
        data.mkdir(mode=0o700, parents=True, exist_ok=True)
        password_file = data.parent / "initdb-password"
        password_file.write_text(self._secrets()["postgres"] + "\n")
        if user:
            shutil.chown(data, user, user)
            shutil.chown(password_file, user, user)
        password_file.chmod(0o600)
        try:
            subprocess.run(  # noqa: S603 (our own commands)
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "agora",
                    f"--pwfile={password_file}",
                    "--auth-host=scram-sha-256",
                    "--auth-local=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                check=True,
                capture_output=True,
                cwd=data.parent,
                user=user,
                group=user,
                extra_groups=[] if user else None,
                timeout=120,
            )
        except subprocess.CalledProcessError as error:
            raise RuntimeError(f"initdb failed: {error.stdout!r} {error.stderr!r}") from error
        finally:
            password_file.unlink(missing_ok=True)

    def _redis_command(self, name: str) -> tuple[list[str], dict, str | None]:
        directory = self.home / "redis"
        directory.mkdir(exist_ok=True)
        config = directory / "redis.conf"
        config.touch(mode=0o600)
        config.write_text(
            "\n".join(
                [
                    f"bind {HOST}",
                    f"port {self.state['services']['redis']['port']}",
                    f"requirepass {self._secrets()['redis']}",
                    f"dir {directory}",
                    # Queued jobs and counters survive a restart (docs/deploy.md).
                    "appendonly yes",
                    "appendfsync everysec",
                    'save ""',
                    "daemonize no",
                    'logfile ""',
                    "maxclients 10000",
                ]
            )
            + "\n"
        )
        return ["redis-server", str(config)], dict(os.environ), None

    def _web_command(self, name: str) -> tuple[list[str], dict, str | None]:
        port = self.state["services"][name]["port"]
        command = [PYTHON, "-m", "uvicorn", "config.asgi:application", "--host", HOST]
        return [*command, "--port", str(port), *uvicorn_options()], self.agora_env(), None

    def _worker_command(self, name: str) -> tuple[list[str], dict, str | None]:
        command = [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO"]
        options = ["--concurrency=2", f"--hostname=worker@prod-local-{os.getpid()}"]
        # As deploy/systemd/agora-worker.service: without these, a worker can stop taking
        # tasks for good after a Redis restart (docs/decisions/0033-production-shape.md).
        quiet = ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        return [*command, *options, *quiet], self.agora_env(), None

    def _beat_command(self, name: str) -> tuple[list[str], dict, str | None]:
        schedule = self.home / "celerybeat-schedule"
        command = [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
        return [*command, f"--schedule={schedule}"], self.agora_env(), None

    def _nginx_command(self, name: str) -> tuple[list[str], dict, str | None]:
        prefix = self.home / "nginx"
        prefix.mkdir(exist_ok=True)
        upstreams = "\n".join(
            f"        server {HOST}:{self.state['services'][n]['port']};" for n in ("web1", "web2")
        )
        worker_user = "user www-data;\n" if os.geteuid() == 0 else ""
        config = prefix / "nginx.conf"
        config.write_text(
            f"""# Written by scripts/prod_local.py: deploy/nginx.conf's shape on loopback.
{worker_user}worker_processes 1;
worker_rlimit_nofile 40000;
daemon off;
pid {prefix}/nginx.pid;
error_log {self.logs}/nginx-error.log warn;
events {{ worker_connections 16384; }}
http {{
    access_log {self.logs}/nginx-access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    upstream agora {{
{upstreams}
        keepalive 32;
    }}
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ""      "";
    }}
    server {{
        listen {HOST}:{self.state["services"]["nginx"]["port"]};
        server_name 127.0.0.1 localhost;
        include {PROXY_SNIPPET};
    }}
}}
"""
        )
        binary = nginx_binary()
        assert binary is not None
        error_log = str(self.logs / "nginx-error.log")  # also before the file is read
        return (
            [binary, "-p", str(prefix), "-e", error_log, "-c", str(config)],
            dict(os.environ),
            None,
        )


def _health(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our loopback)
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


# --- the command line -------------------------------------------------------------------


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("run", "start", "stop", "status"))
    parser.add_argument("--home", type=Path, default=ROOT / "var" / "prod-local")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "log")
    parser.add_argument("--port", type=int, default=0, help="nginx's port (default: 8080)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    overrides = dict(item.split("=", 1) for item in args.env)
    shape = Shape(args.home, args.logs, port=args.port, env=overrides)
    running = shape._running_state()
    if args.action == "status":
        print(json.dumps(running, indent=2) if running else "not running")
        return 0 if running else 1
    if args.action == "stop":
        if running and running.get("supervisor") and _alive(running["supervisor"]):
            os.kill(running["supervisor"], signal.SIGTERM)  # `run` stops its own shape
            end = time.monotonic() + 90
            while _alive(running["supervisor"]) and time.monotonic() < end:
                time.sleep(0.1)
        else:
            shape.stop()
        print("stopped")
        return 0
    try:
        state = shape.start()
    except ShapeUnavailable as reason:
        print(f"prod-local: {reason}", file=sys.stderr)
        return 2
    if args.action == "start":
        print(json.dumps(state, indent=2))
        return 0
    state["supervisor"] = os.getpid()
    shape._save()
    print(f"\n  Agora's production shape is running on {state['url']}  (Ctrl+C stops it)")
    print(f"  logs: {shape.logs}/   state: {shape.state_file}\n", flush=True)
    stopping: list[int] = []
    # Ctrl+C (SIGINT, even when started with it ignored, as background jobs are) or
    # `prod_local.py stop` (SIGTERM): stop everything, in order.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: stopping.append(signum))
    while not stopping:
        time.sleep(0.5)
        for name, service in state["services"].items():
            if service["pid"] and not _alive(service["pid"]):
                print(f"prod-local: {name} exited (see {service['log']})", file=sys.stderr)
                service["pid"] = None
    print("\nprod-local: stopping…", flush=True)
    shape.stop()
    print("prod-local: stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
