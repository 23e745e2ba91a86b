"""The client's HTTP/1.1 transport against canned answers from a local socket: the three ways
an answer's body may end (Content-Length, chunked, end of stream), keep-alive reuse, and a
connection the server closed while idle."""

from __future__ import annotations

import socket
import threading

import pytest

import mlroots


def serve(answers: list[bytes]) -> tuple[str, list[bytes]]:
    """A one-connection-at-a-time server on loopback that reads a request (headers plus
    Content-Length body) and writes the next canned answer; after an answer without a
    length it closes the connection. Returns its URL and the requests it saw."""
    listener = socket.create_server(("127.0.0.1", 0))
    seen: list[bytes] = []

    def run() -> None:
        pending = list(answers)
        while pending:
            conn, _ = listener.accept()
            with conn:
                buf = b""
                while pending:
                    while b"\r\n\r\n" not in buf:
                        data = conn.recv(65536)
                        if not data:
                            break
                        buf += data
                    if b"\r\n\r\n" not in buf:
                        break
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    length = 0
                    for line in head.split(b"\r\n")[1:]:
                        k, _, v = line.partition(b":")
                        if k.strip().lower() == b"content-length":
                            length = int(v)
                    while len(buf) < length:
                        buf += conn.recv(65536)
                    seen.append(head + b"\r\n\r\n" + buf[:length])
                    buf = buf[length:]
                    answer = pending.pop(0)
                    conn.sendall(answer)
                    if b"content-length" not in answer.lower() and b"chunked" not in answer.lower():
                        break
        listener.close()

    threading.Thread(target=run, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}", seen


def test_bodies_by_length_chunks_and_end_of_stream():
    url, seen = serve([
        b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{"a": 1}',
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{\"b\"\r\n5;x=y\r\n: [2]\r\n1\r\n}\r\n0\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{"c": 3}',
        b'HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n{"d": 4}',
    ])
    c = mlroots.Client(url, token="mlr_test")
    assert c.request("POST", "/one", {"x": 1}) == {"a": 1}
    first = c._conn
    assert c.request("GET", "/two") == {"b": [2]}
    assert c._conn is first, "a keep-alive connection is reused"
    assert c.request("GET", "/three") == {"c": 3}
    # The server closed after the third answer: the client opens a new connection.
    assert c.request("GET", "/four") == {"d": 4}
    assert c._conn is not first
    assert seen[0].startswith(b"POST /one HTTP/1.1\r\n")
    assert b"Authorization: Bearer mlr_test" in seen[0]
    assert seen[0].endswith(b'\r\n\r\n{"x": 1}')


def test_errors_and_cookies():
    not_found = b'{"error": {"code": "not_found", "message": "no such session"}}'
    url, _ = serve([
        b"HTTP/1.1 200 OK\r\nSet-Cookie: mlroots_session=abc; Path=/; HttpOnly\r\nContent-Length: 2\r\n\r\n{}",
        b"HTTP/1.1 404 Not Found\r\nContent-Length: %d\r\n\r\n%s" % (len(not_found), not_found),
        b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 4\r\n\r\noops",
    ])
    c = mlroots.Client(url)
    c.request("POST", "/api/login", {})
    assert c.cookies == {"mlroots_session": "abc"}
    with pytest.raises(mlroots.ApiError) as e:
        c.request("GET", "/missing")
    assert (e.value.status, e.value.code) == (404, "not_found")
    with pytest.raises(mlroots.ApiError) as e:
        c.request("GET", "/proxy")
    assert (e.value.status, e.value.code) == (502, "http")


def test_a_refused_connection_is_a_connection_error():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(ConnectionError):
        mlroots.Client(f"http://127.0.0.1:{port}").request("GET", "/api/health")
