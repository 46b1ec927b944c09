"""What keeps the page to its user: a Host allowlist (against DNS rebinding), a session cookie given
once for the token of the printed URL, same-origin POSTs with a CSRF token, a cap on request bodies,
and headers that forbid framing, sniffing, referrers to other sites and any script but the page's own."""
from __future__ import annotations

import hmac
import os
import secrets
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from etl.cli import DEBUG_ENV

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
LOGIN_PATH = "/login"
SECURITY_HEADERS = [
    (b"content-security-policy", b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                 b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # "no-referrer" would make the page's own POSTs "Origin: null"
    (b"cache-control", b"no-store"),
]


class BodyTooLarge(Exception):
    """A request body passed the server's limit while it was read."""


@dataclass
class Tokens:
    """The tokens of one server: the printed URL's login token (good once), the session cookie's value,
    and the CSRF token every POST carries."""

    port: int
    login: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    session: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    login_used: bool = False

    @property
    def cookie_name(self) -> str:
        """Cookies go to every port of a host: the port in the name keeps two servers apart."""
        return f"etl_session_{self.port}"

    def csrf_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.csrf.encode())

    def session_ok(self, given: str | None) -> bool:
        return bool(given) and hmac.compare_digest(str(given).encode(), self.session.encode())

    def take_login(self, given: str | None) -> bool:
        """Whether ``given`` is the login token, not yet used; it is spent by this call."""
        if self.login_used or not given or not hmac.compare_digest(given.encode(), self.login.encode()):
            return False
        self.login_used = True
        return True


class Guard:
    """ASGI middleware: refuses what does not come from the user's own page, before the app sees it."""

    def __init__(self, app: ASGIApp, tokens: Tokens, max_body: int) -> None:
        self.app = app
        self.tokens = tokens
        self.max_body = max_body
        self.hosts = {f"{name}:{tokens.port}" for name in LOOPBACK_NAMES}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":  # no websockets here
            await send({"type": "websocket.close", "code": 1008})
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        send = _with_security_headers(send)
        refusal = self.refusal(scope, headers)
        if refusal is not None:
            await _plain(send, *refusal)
            return
        if scope["path"] == LOGIN_PATH:
            await self.login(scope, headers, send)
            return
        try:
            await self.app(scope, self.capped(receive), send)
        except Exception:  # the app's error handler has answered with one clear message already; ETL_DEBUG=1
            # shows the traceback on the server's console, as it does for etl run
            if os.environ.get(DEBUG_ENV):
                raise

    def refusal(self, scope: Scope, headers: dict[str, str]) -> tuple[int, str] | None:
        """The status and message that refuse the request, or None to let it through."""
        host = headers.get("host", "")
        if host not in self.hosts:
            return 421, "Unknown host: open the address etl serve printed."
        if scope["path"] != LOGIN_PATH and not self.tokens.session_ok(_cookie(headers, self.tokens.cookie_name)):
            return 403, "Not signed in: open the address etl serve printed (with its token) in this browser."
        if scope["method"] not in ("GET", "HEAD", "POST"):
            return 405, "Method not allowed."
        if scope["method"] == "POST":
            origin = headers.get("origin")
            if origin is not None and origin != f"http://{host}":
                return 403, "Cross-origin request refused."
            if headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
                return 403, "Cross-site request refused."
            length = headers.get("content-length")
            if length is not None and (not length.isdigit() or int(length) > self.max_body):
                return 413, f"The file is too large: at most {self.max_body:,} bytes (etl serve --max-upload)."
        return None

    async def login(self, scope: Scope, headers: dict[str, str], send: Send) -> None:
        """The printed URL's token, good once, becomes the session cookie; then on to the page (where a browser
        already signed in goes again, the token spent or not)."""
        token = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [None])[0]
        if self.tokens.session_ok(_cookie(headers, self.tokens.cookie_name)):
            await _redirect_home(send, [])
            return
        if not self.tokens.take_login(token):
            await _plain(send, 403, "This sign-in link is not valid or was already used: "
                                    "start etl serve again for a new one.")
            return
        cookie = f"{self.tokens.cookie_name}={self.tokens.session}; Path=/; HttpOnly; SameSite=Strict"
        await _redirect_home(send, [(b"set-cookie", cookie.encode())])

    def capped(self, receive: Receive) -> Receive:
        """``receive`` that raises :class:`BodyTooLarge` past the limit (a body sent without its length)."""
        received = 0

        async def capped_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise BodyTooLarge()
            return message

        return capped_receive


def _cookie(headers: dict[str, str], name: str) -> str | None:
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header is no session
        return None
    return jar[name].value if name in jar else None


async def _redirect_home(send: Send, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": 303,
                "headers": [(b"location", b"/"), (b"content-length", b"0"), *headers]})
    await send({"type": "http.response.body", "body": b""})


def _with_security_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
        await send(message)

    return sending


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
