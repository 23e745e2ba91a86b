"""The HTTP client: one method per API route, errors raised as ``ApiError``.

The transport is the standard library's ``http.client`` on one keep-alive connection per
``Client``: a step costs one small request, and a general-purpose HTTP library's per-request
work (pools, hooks, cookie jars) would cost more than the server takes to answer it.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import urllib.parse
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8080"


class ApiError(Exception):
    """An error answered by the server: ``status``, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class _NoDelay:
    """Sends each request at once (``TCP_NODELAY``, as urllib3 does). With Nagle's algorithm,
    a request written in two pieces holds its second piece until the server acknowledges the
    first, and the server delays that acknowledgement: about 40 ms a step on Linux."""

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]


class _Http(_NoDelay, http.client.HTTPConnection):
    pass


class _Https(_NoDelay, http.client.HTTPSConnection):
    pass


class Client:
    """A connection to a platform server.

    ``url`` defaults to ``$MLROOTS_URL`` (else ``http://127.0.0.1:8080``), ``token`` to
    ``$MLROOTS_TOKEN``. Without a token, ``login`` sets the session cookie instead.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0):
        self.url = (url or os.environ.get("MLROOTS_URL") or DEFAULT_URL).rstrip("/")
        self.timeout = timeout
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = token or os.environ.get("MLROOTS_TOKEN")
        if token:
            self.headers["Authorization"] = f"Bearer {token}"
        self.cookies: dict[str, str] = {}
        self._conn: http.client.HTTPConnection | None = None
        self._conn_url = ""

    def _connection(self) -> tuple[http.client.HTTPConnection, str]:
        """The keep-alive connection to ``self.url`` (a new one if the URL changed or the
        server closed the old one while it was idle), and the URL's path prefix."""
        u = urllib.parse.urlsplit(self.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"the server URL must be http(s)://host[:port][/path], not {self.url!r}")
        conn = self._conn
        if conn is not None and (self._conn_url != self.url or _dropped(conn)):
            conn.close()
            conn = None
        if conn is None:
            cls = _Https if u.scheme == "https" else _Http
            conn = cls(u.hostname, u.port, timeout=self.timeout)
            self._conn, self._conn_url = conn, self.url
        return conn, u.path

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = b"" if body is None else json.dumps(body).encode()
        headers = dict(self.headers)
        if self.cookies and "Authorization" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn, prefix = self._connection()
        try:
            conn.request(method, prefix + path, body=data, headers=headers)
            r = conn.getresponse()
            raw = r.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            self._conn = None
            raise ConnectionError(f"{method} {self.url}{path}: {e}") from e
        for c in r.msg.get_all("Set-Cookie") or []:
            name, _, rest = c.partition("=")
            value, _, attrs = rest.partition(";")
            if "max-age=0" in attrs.replace(" ", "").lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        if r.status >= 400:
            try:
                e = json.loads(raw)["error"]
                raise ApiError(r.status, e["code"], e["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(r.status, "http", raw.decode("utf-8", "replace")) from None
        return json.loads(raw) if raw else None

    # Accounts and tokens.
    def register(self, username: str, password: str) -> dict:
        return self.request("POST", "/api/register", {"username": username, "password": password})

    def login(self, username: str, password: str) -> dict:
        return self.request("POST", "/api/login", {"username": username, "password": password})

    def create_token(self, name: str, scopes: list[str] | None = None) -> str:
        body: dict[str, Any] = {"name": name}
        if scopes is not None:
            body["scopes"] = scopes
        return self.request("POST", "/api/tokens", body)["token"]

    # Environment sessions.
    def open(self, sub_challenge: str, phase: str = "practice") -> dict:
        return self.request("POST", "/api/sessions", {"sub_challenge": sub_challenge, "phase": phase})

    def reset(self, session: int, seed: int | None = None) -> dict:
        return self.request("POST", f"/api/sessions/{session}/reset", {"seed": seed} if seed is not None else None)

    def step(self, session: int, action: int) -> dict:
        return self.request("POST", f"/api/sessions/{session}/step", {"action": int(action)})

    def step_batch(self, pairs: list[tuple[int, int]]) -> list[dict]:
        steps = [{"session": s, "action": int(a)} for s, a in pairs]
        return self.batch(steps)

    def batch(self, items: list[dict], obs: str = "list") -> list[dict]:
        """Steps and resets many sessions in one request: each item is
        ``{"session", "action"}`` or ``{"session", "reset": True[, "seed"]}``; the answers
        come back in the same order (a failed item answers ``{"error": ...}``). With
        ``obs="base64"`` each observation comes as the base64 of its little-endian float32
        values (``np.frombuffer(base64.b64decode(o), "<f4")``), which decodes several times
        faster than lists of numbers."""
        body: dict[str, Any] = {"steps": items}
        if obs != "list":
            body["obs"] = obs
        return self.request("POST", "/api/sessions/step", body)["results"]

    def render(self, session: int, mode: str = "ascii") -> dict:
        return self.request("GET", f"/api/sessions/{session}/render?mode={mode}")

    def close(self, session: int) -> None:
        self.request("DELETE", f"/api/sessions/{session}")

    def attempt(self, attempt_id: int) -> dict:
        return self.request("GET", f"/api/attempts/{attempt_id}")

    # Artefact submissions.
    def submit(self, sub_challenge: str, artefact: str) -> dict:
        """``POST /api/submissions``: ``artefact`` is the text (levels, mazes, an action
        string) or the base64 of weights. Returns the judged attempt."""
        return self.request("POST", "/api/submissions", {"sub_challenge": sub_challenge, "artefact": artefact})


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """True when an idle keep-alive connection was closed by the server (its socket reads
    as ready: end of stream), so the next request must open a new one."""
    sock = conn.sock
    if sock is None:
        return False
    try:
        ready, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(ready)
