"""The HTTP client: one method per API route, errors raised as ``ApiError``."""

from __future__ import annotations

import os
from typing import Any

import requests

DEFAULT_URL = "http://127.0.0.1:8080"


class ApiError(Exception):
    """An error answered by the server: ``status``, ``code`` and ``message``."""

    def __init__(self, status: int, code: str, message: str):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class Client:
    """A connection to a platform server.

    ``url`` defaults to ``$MLROOTS_URL`` (else ``http://127.0.0.1:8080``), ``token`` to
    ``$MLROOTS_TOKEN``. Without a token, ``login`` sets the session cookie instead.
    """

    def __init__(self, url: str | None = None, token: str | None = None, timeout: float = 30.0):
        self.url = (url or os.environ.get("MLROOTS_URL") or DEFAULT_URL).rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        token = token or os.environ.get("MLROOTS_TOKEN")
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def request(self, method: str, path: str, body: Any = None) -> Any:
        r = self.http.request(method, self.url + path, json=body, timeout=self.timeout)
        if r.status_code >= 400:
            try:
                e = r.json()["error"]
                raise ApiError(r.status_code, e["code"], e["message"])
            except (ValueError, KeyError, TypeError):
                raise ApiError(r.status_code, "http", r.text) from None
        return r.json() if r.content else None

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
        return self.request("POST", "/api/sessions/step", {"steps": steps})["results"]

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
