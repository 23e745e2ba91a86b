"""Starts real `mlroots serve` processes on free ports, each on its own SQLite file, and
stops them at the end. Under ``scripts/with-postgres.sh`` (``$MLROOTS_TEST_PG_URL`` set), each
server gets its own new database in that PostgreSQL cluster instead."""

from __future__ import annotations

import os
import pathlib
import signal
import subprocess
import uuid

import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))  # the client from this checkout, installed or not

import mlroots  # noqa: E402


def binary() -> str:
    b = os.environ.get("MLROOTS_BIN") or str(ROOT / "target" / "debug" / "mlroots")
    if not os.path.exists(b):
        pytest.fail(f"no mlroots binary at {b}: run `cargo build -p mlroots-cli` or set MLROOTS_BIN")
    return b


class Server:
    """One `mlroots serve` process."""

    def __init__(self, db: str):
        self.db = db
        self.proc: subprocess.Popen | None = None
        self.url = ""

    def start(self) -> "Server":
        self.proc = subprocess.Popen(
            # Every test registers an account from 127.0.0.1: lift the per-IP login limit.
            [binary(), "serve", "--addr", "127.0.0.1:0", "--database-url", self.db, "--auth-burst", "10000"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        line = self.proc.stdout.readline()
        assert line.startswith("mlroots: serving on "), f"unexpected first line {line!r}"
        self.url = line.split()[-1]
        return self

    def kill9(self):
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def user(self) -> mlroots.Client:
        """A new account, logged in, and a client holding a fresh token for it."""
        name = "u" + uuid.uuid4().hex[:12]
        c = mlroots.Client(self.url)
        c.register(name, "password-" + name)
        c.login(name, "password-" + name)
        return mlroots.Client(self.url, token=c.create_token("pytest"))


def database(tmp_dir: pathlib.Path) -> str:
    """A new, empty database: a SQLite file in ``tmp_dir``, or a PostgreSQL database when
    ``$MLROOTS_TEST_PG_URL`` names a cluster."""
    pg = os.environ.get("MLROOTS_TEST_PG_URL")
    if not pg:
        return str(tmp_dir / "mlroots.db")
    name = "t" + uuid.uuid4().hex[:12]
    host_port = pg.rsplit("@", 1)[-1]
    host, port = host_port.split(":")
    createdb = os.path.join(os.environ["MLROOTS_TEST_PG_BIN"], "createdb")
    subprocess.run([createdb, "-h", host, "-p", port, "-U", "postgres", name], check=True)
    return f"{pg}/{name}"


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    s = Server(database(tmp_path_factory.mktemp("db"))).start()
    yield s
    s.stop()


@pytest.fixture
def client(server) -> mlroots.Client:
    return server.user()
