"""The HTTP client: one method per API route, errors raised as ``ApiError``.

The transport is a minimal HTTP/1.1 exchange over one keep-alive socket per ``Client``
(``_Wire``): a step costs one small request, so the client's own work per request is what
limits a learner's steps per second. ``http.client`` sent each request in two writes and
parsed every response's headers with the ``email`` package, about a third of a single
step's time on loopback (python/bench.py). Responses are read by ``Content-Length`` (what
the platform sends), chunked transfer or end of stream; ``https`` URLs are wrapped in TLS.
"""

from __future__ import annotations

import json
import os
import select
import socket
import ssl
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


class _Wire:
    """One keep-alive HTTP/1.1 connection. Requests go out in one write with
    ``TCP_NODELAY`` (with Nagle's algorithm a request waits for the server's delayed
    acknowledgement of the previous packet: about 40 ms a step on Linux)."""

    def __init__(self, scheme: str, host: str, port: int | None, timeout: float):
        port = port or (443 if scheme == "https" else 80)
        sock = socket.create_connection((host, port), timeout=timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.host = host if port in (80, 443) else f"{host}:{port}"
        self.buf = bytearray()
        self.open = True

    def close(self) -> None:
        self.open = False
        self.sock.close()

    def dropped(self) -> bool:
        """True when the server closed this idle connection (the socket reads as ready: end
        of stream), so the next request needs a new one."""
        if not self.open or self.buf:
            return True
        try:
            ready, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(ready)

    def _fill(self) -> bool:
        data = self.sock.recv(262144)
        self.buf += data
        return bool(data)

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("the server closed the connection in the middle of an answer")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def _line(self) -> bytes:
        while (i := self.buf.find(b"\r\n")) < 0:
            if not self._fill():
                raise ConnectionError("the server closed the connection in the middle of an answer")
        return self._take(i + 2)[:-2]

    def exchange(self, method: str, target: str, headers: dict[str, str], body: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
        """Sends one request and reads its answer: (status, headers lower-cased, body)."""
        head = f"{method} {target} HTTP/1.1\r\nHost: {self.host}\r\nContent-Length: {len(body)}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        self.sock.sendall(head.encode("latin-1") + body)
        while (i := self.buf.find(b"\r\n\r\n")) < 0:
            if not self._fill():
                raise ConnectionError("the server closed the connection without answering")
        lines = self._take(i + 4).decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise ConnectionError(f"not an HTTP/1.x answer: {lines[0][:80]!r}")
        status = int(parts[1])
        fields = [(k.strip().lower(), v.strip()) for k, _, v in (x.partition(":") for x in lines[1:] if x)]
        found = dict(fields)
        if status < 200 or status in (204, 304) or method == "HEAD":
            data = b""
        elif "content-length" in found:
            data = self._take(int(found["content-length"]))
        elif "chunked" in found.get("transfer-encoding", "").lower():
            chunks = []
            while size := int(self._line().split(b";")[0], 16):
                chunks.append(self._take(size))
                self._line()
            while self._line():  # trailers, then the empty line
                pass
            data = b"".join(chunks)
        else:  # the body runs to the end of the stream
            while self._fill():
                pass
            data, self.buf = bytes(self.buf), bytearray()
            self.open = False
        if found.get("connection", "").lower() == "close":
            self.open = False
        return status, fields, data


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
        self._conn: _Wire | None = None
        self._conn_url = ""

    def _connection(self, u: urllib.parse.SplitResult) -> _Wire:
        """The keep-alive connection to ``self.url`` (a new one if the URL changed or the
        server closed the old one while it was idle)."""
        conn = self._conn
        if conn is not None and (self._conn_url != self.url or conn.dropped()):
            conn.close()
            conn = None
        if conn is None:
            conn = _Wire(u.scheme, u.hostname or "", u.port, self.timeout)
            self._conn, self._conn_url = conn, self.url
        return conn

    def request(self, method: str, path: str, body: Any = None) -> Any:
        u = urllib.parse.urlsplit(self.url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise ValueError(f"the server URL must be http(s)://host[:port][/path], not {self.url!r}")
        # A body already encoded as JSON (bytes) goes out as it is.
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = dict(self.headers)
        if self.cookies and "Authorization" not in headers:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            status, fields, raw = self._connection(u).exchange(method, u.path + path, headers, data)
        except (OSError, ValueError) as e:  # ConnectionError is an OSError
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            raise ConnectionError(f"{method} {self.url}{path}: {e}") from e
        for k, c in fields:
            if k != "set-cookie":
                continue
            name, _, rest = c.partition("=")
            value, _, attrs = rest.partition(";")
            if "max-age=0" in attrs.replace(" ", "").lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value.strip()
        if status >= 400:
            try:
                e = json.loads(raw)["error"]
                raise ApiError(status, e["code"], e["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(status, "http", raw.decode("utf-8", "replace")) from None
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

    def batch_columns(self, items: list[dict] | bytes) -> dict:
        """``batch`` with the answers as columns, for vector environments: ``obs`` is the base64
        of every item's little-endian float32 observation concatenated (``obs_len`` gives each
        length), then ``reward``, ``terminated``, ``truncated`` and ``info`` lists, ``errors``
        (``[{"index", "error"}]``) and ``attempts`` (``[{"index", "id", "passed"}]``). One decode
        for all the observations instead of one an item. ``items`` may also be the JSON text of
        the items' list, already encoded (bytes)."""
        if isinstance(items, bytes):
            return self.request("POST", "/api/sessions/step",
                                b'{"obs":"base64","layout":"columns","steps":' + items + b"}")
        return self.request("POST", "/api/sessions/step", {"steps": items, "obs": "base64", "layout": "columns"})

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
