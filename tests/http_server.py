"""Local HTTP servers for tests, on 127.0.0.1 with a free port.

:class:`LocalHttpServer` answers each request with a scripted :class:`Reply` (see
:class:`JsonStore` for a small document store); :class:`SilentServer` never answers.
"""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Request:
    """A request as received: ``path`` still URL-encoded, header names in lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


TRICKLE_LIMIT = 30.0
"""The longest a trickled answer is sent for, in seconds, whether the client reads it or not."""
FILLER = b"x" * (64 << 10)


@dataclass(frozen=True)
class Reply:
    """An answer: ``body`` is sent as JSON (dict or list) or text (str); ``drop`` closes the
    connection without answering. ``filler`` bytes ("xxx...") follow the body, sent in pieces
    (the Content-Length counts them), until the client stops reading; ``trickle`` sends the
    answer one byte at a time, that many seconds apart (for TRICKLE_LIMIT seconds at most),
    from its status line or, with ``trickle_head`` False, from the filler on. ``reason`` is
    the status line's reason phrase."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    filler: int = 0
    trickle: float = 0.0
    trickle_head: bool = True
    reason: str | None = None

    def payload(self) -> tuple[bytes, str]:
        """The body's bytes and content type."""
        if self.body is None:
            return b"", "text/plain"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


Responder = Callable[[Request], Reply]


class JsonStore:
    """A responder keeping the last body written at each path: 201 when new, else 200."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        self.writes: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self._lock:
            created = request.path not in self.documents
            self.documents[request.path] = request.json()
            self.writes[request.path] += 1
        return Reply(201 if created else 200, {"ok": True})


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # many clients connect at once: never let a SYN be dropped
    owner: LocalHttpServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-answer is what some tests do: no traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as real servers
    wbufsize = -1  # send each answer in one piece, flushed after the request is handled
    disable_nagle_algorithm = True

    def _handle(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        reply = self.server.owner.receive(Request(self.command, self.path, headers, body))
        if reply.drop:
            self.close_connection = True
            return
        payload, content_type = reply.payload()
        headers = {"Content-Type": content_type, **reply.headers, "Content-Length": str(len(payload) + reply.filler)}
        if reply.trickle:
            self._trickle(reply, headers, payload)
            return
        self.send_response(reply.status, reply.reason)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)
        try:
            for start in range(0, reply.filler, len(FILLER)):
                self.wfile.write(FILLER[: reply.filler - start])
                self.wfile.flush()
        except OSError:  # the client stopped reading
            self.close_connection = True

    def _trickle(self, reply: Reply, headers: dict[str, str], payload: bytes) -> None:
        head = f"HTTP/1.1 {reply.status} {reply.reason or 'Trickled'}\r\n"
        answer = (head + "".join(f"{n}: {v}\r\n" for n, v in headers.items()) + "\r\n").encode() + payload
        self.close_connection = True
        deadline = time.monotonic() + TRICKLE_LIMIT
        try:
            if not reply.trickle_head:
                self.connection.sendall(answer)
                answer = b""
            for index in range(len(answer) + reply.filler):
                if time.monotonic() > deadline:
                    return
                self.connection.sendall(answer[index : index + 1] or b"x")
                time.sleep(reply.trickle)
        except OSError:  # the client gave up
            return

    do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


class LocalHttpServer:
    """A threading HTTP/1.1 server; ``with LocalHttpServer(respond) as server: server.url``.

    ``latency`` seconds are slept before answering each request; with ``tls`` (a server
    context), the server speaks HTTPS.
    """

    def __init__(self, respond: Responder | None = None, latency: float = 0.0,
                 tls: ssl.SSLContext | None = None) -> None:
        self.respond: Responder = respond or JsonStore()
        self.latency = latency
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self._scheme = "http" if tls is None else "https"
        if tls is not None:
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"{self._scheme}://{host}:{port}"

    def receive(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
        if self.latency:
            time.sleep(self.latency)
        return self.respond(request)

    def __enter__(self) -> LocalHttpServer:
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._server.shutdown()
        self._server.server_close()


class SilentServer:
    """Listens on 127.0.0.1 but never accepts nor answers: the kernel completes the
    connections, then every request waits for an answer that never comes."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0), backlog=128)

    @property
    def url(self) -> str:
        host, port = self._socket.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> SilentServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._socket.close()
