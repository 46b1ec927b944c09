"""HTTP sink: send each document as JSON to a REST endpoint (``--sink http --target URL``).

Each document goes to ``{URL}/{path}``, the path given by the ``path`` option, a template with
``{kind}`` and ``{key}`` (default ``{kind}/{key}``), or for one kind by ``path.KIND`` (e.g.
``path.customers=v2/clients/{key}``), with the kind and the key URL-encoded. The body is the document's data
as a JSON object without its ``None`` fields: ``None`` means "not given", and leaving a
field out is how a request says "keep the stored value"; a field cleared on purpose
(:data:`etl.components.CLEAR`) is sent as JSON ``null``.

The documents of one batch are sent concurrently by a pool of threads, each with its own
keep-alive connection; a batch returns only once all its documents are finished, so the
order between batches (customers before their contacts) holds. A 201 answer means
CREATED, any other 2xx UPDATED (the server does not say whether anything changed).

``timeout`` bounds each request as a whole, however slowly the server answers: past it, the
request's connection is shut down. At most ``MAX_BODY`` bytes of an answer are read (the
rest is left unread and the connection closed). After ``give_up_after`` requests in a row
failed (no answer in time, connection lost, 408, 429 or 5xx), the server is taken for down:
the documents not yet delivered are rejected without being sent, so a run ends in bounded
time whatever the number of documents.

Connection errors, timeouts and the answers 408, 429, 500, 502, 503 and 504 are retried
with exponential backoff and jitter, honouring ``Retry-After``, as PUT and PATCH by key are
idempotent. A POST is retried only when the server surely did not store it (it could not be
connected to, or answered 408, 429 or 503): after a lost answer it is rejected, never sent
twice. A 4xx answer rejects its document with the server's message. A document whose URL
cannot be built, or is longer than ``MAX_URL_LENGTH``, or whose data is not JSON, is
rejected alone. When no request of the run's first batch could even connect, the run
stops with a :class:`SinkError`.

Header values and URL passwords are secrets: every message, error and repr masks them.
"""
from __future__ import annotations

import base64
import json
import math
import os
import random
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from etl import (
    CLEAR, CREATED, Document, Rejected, SinkError, SinkSpec, StoredDocument, UPDATED, UsageError, hookimpl,
    mask_secrets)

if TYPE_CHECKING:
    import httpx

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
MAX_BACKOFF = 10.0
"""The longest pause between two attempts chosen by the backoff, in seconds."""
MAX_RETRY_AFTER = 60.0
"""The longest pause a server's ``Retry-After`` may ask for, in seconds."""
MESSAGE_LENGTH = 200
"""The longest server message quoted in a rejection, in characters."""
MAX_BODY = 64 << 10
"""The most read of an answer's body, in bytes: enough for any message."""
MAX_URL_LENGTH = 8 << 10
"""The longest URL sent, in characters: servers refuse longer ones (with 414) or worse."""
METHODS = ("PUT", "POST", "PATCH")
NOT_STORED_STATUSES = frozenset({408, 429, 503})
"""Answers saying the request was not processed: a POST may be sent again after them."""
DEFAULT_PATH = "{kind}/{key}"
KIND_PATH = "path."
"""Options ``path.KIND`` give the path of one kind of documents."""
JSON_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": "identity"}
"""Sent with each document; no compressed answer, lest a small one unpack to gigabytes."""

_ENV_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


@hookimpl
def register_sinks() -> list[SinkSpec]:
    return [
        SinkSpec(
            name="http",
            open=open_http_sink,
            description="PUT each document as JSON to a REST endpoint: --target URL",
            options_schema=options_schema(),
        )
    ]


def options_schema() -> type:
    """The sink's options (``--sink-option K=V``), loaded as the keywords of :class:`HttpOptions`: ``header``
    as ``headers`` (``${VAR}`` in their values filled from the environment), and each ``path.KIND`` into
    ``kind_paths`` (a schema made when the registry is built: `etl --help` needs no marshmallow)."""
    from marshmallow import Schema, ValidationError, fields, pre_load, validate

    def checked(parse: Callable[[str], Any]) -> Callable[[Any], Any]:
        """``parse`` of a text option, its ValueError a validation error."""
        def deserialize(value: Any) -> Any:
            if not isinstance(value, str):
                raise ValidationError("Not a valid string.")
            try:
                return parse(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return deserialize

    positive, not_negative = validate.Range(min=0, min_inclusive=False), validate.Range(min=0)

    class HttpOptionsSchema(Schema):
        headers = fields.Function(deserialize=checked(_parse_headers), data_key="header")
        timeout = fields.Float(validate=positive)
        concurrency = fields.Integer(validate=positive)
        rate = fields.Float(validate=positive)
        retries = fields.Integer(validate=not_negative)
        backoff = fields.Float(validate=not_negative)
        give_up_after = fields.Integer(validate=positive)
        method = fields.Function(deserialize=checked(_parse_method))
        path = fields.Function(deserialize=checked(_parse_path))
        kind_paths = fields.Dict(keys=fields.String(), data_key="path.KIND")

        @pre_load
        def gather_kind_paths(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
            """Each ``path.KIND`` option, checked, into ``path.KIND``: ``{KIND: path}``."""
            data, kinds = dict(data), {}
            for name in [name for name in data if name.startswith(KIND_PATH)]:
                try:
                    kinds[name[len(KIND_PATH):]] = checked(_parse_path)(data.pop(name))
                except ValidationError as exc:
                    raise ValidationError(exc.messages, name) from None
            return {**data, "path.KIND": kinds} if kinds else data

    return HttpOptionsSchema


@dataclass(frozen=True)
class HttpOptions:
    """The options of the sink, as loaded by its schema."""

    headers: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    timeout: float = 10.0
    concurrency: int = 8
    rate: float | None = None
    retries: int = 5
    backoff: float = 0.5
    give_up_after: int = 20
    method: str = "PUT"
    path: str = DEFAULT_PATH
    kind_paths: Mapping[str, str] = field(default_factory=dict)


def open_http_sink(target: str | None, options: Mapping[str, Any], dry_run: bool) -> HttpSink:
    """Check the target URL and open the sink with ``options`` loaded by ``options_schema``; no request is sent
    here."""
    url = _check_url(target)
    settings = HttpOptions(**options)
    _check_credentials(url, settings.headers)
    try:
        import httpx  # here, not at the top: listing the plugins must not load httpx
    except ImportError:
        raise UsageError("the http sink needs the httpx package: pip install httpx") from None

    def client() -> httpx.Client:
        return httpx.Client(
            headers=list(settings.headers),
            timeout=settings.timeout,
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
        )

    return HttpSink(url, settings, client, dry_run)


@dataclass(frozen=True)
class _Retry:
    """A failed attempt worth retrying: why, the pause the server asked for (if any), and
    whether the server may have stored the document all the same."""

    reason: str
    pause: float | None = None
    maybe_stored: bool = True


class _Connection:
    """One thread's client and keep-alive connection, and the deadline of its current request.

    httpx's timeouts bound each read, not a request: a server trickling its answer a byte at
    a time would hold a request for ever. So each request also starts a timer that, at the
    deadline, shuts down the request's socket (found with httpx's ``trace`` extension), which
    ends whatever httpx is waiting for.
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client
        self._lock = threading.Lock()
        self._stream: Any = None
        """The network stream of the connection last opened: the one in use (one per client)."""
        self._request = 0
        """The number of the current request, so that a late timer stops no other one."""
        self._active = False
        self.expired = False

    def trace(self, event: str, info: dict[str, Any]) -> None:
        """httpx's ``trace`` extension: note the stream of each connection opened (or made TLS)."""
        if event in ("connection.connect_tcp.complete", "connection.start_tls.complete"):
            with self._lock:
                self._stream = info["return_value"]
                if self._active and self.expired:
                    self._shut_down()

    @contextmanager
    def deadline(self, seconds: float) -> Iterator[None]:
        """Bound the request made inside to ``seconds``; ``expired`` tells if it had to be cut."""
        with self._lock:
            self._request += 1
            self._active, self.expired = True, False
        timer = threading.Timer(seconds, self._expire, (self._request,))
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._lock:
                self._active = False

    def _expire(self, request: int) -> None:
        with self._lock:
            if self._active and request == self._request:
                self.expired = True
                self._shut_down()

    def _shut_down(self) -> None:
        sock = self._stream.get_extra_info("socket") if self._stream is not None else None
        if sock is not None:
            try:
                socket.socket.shutdown(sock, socket.SHUT_RDWR)  # not SSLSocket's: it would drop its state
            except OSError:
                pass  # already closed


class HttpSink:
    """Sends documents to a REST endpoint; see the module's documentation."""

    def __init__(self, url: str, options: HttpOptions, client: Callable[[], httpx.Client],
                 dry_run: bool = False) -> None:
        self._url = url.rstrip("/")
        self._options = options
        self._new_client = client
        """Makes the client of each sending thread."""
        self._dry_run = dry_run
        self._secrets = _secrets_of(options.headers, url)
        self._limiter = _RateLimiter(options.rate)
        from concurrent.futures import ThreadPoolExecutor  # here, not at start-up: most runs use another sink

        self._pool = ThreadPoolExecutor(options.concurrency, thread_name_prefix="etl-http")
        self._local = threading.local()
        self._connections: list[_Connection] = []
        self._lock = threading.Lock()
        self._reached = threading.Event()
        """Set once any request got past connecting: the server is reachable."""
        self._unreachable: str | None = None
        """Why a document could not connect at all, while the server was never reached."""
        self._failures = 0
        """Requests in a row that failed: no answer in time, connection lost, 408, 429 or 5xx."""
        self._gave_up: str | None = None
        """Why no more document is sent: the server seems down."""

    def __repr__(self) -> str:
        return (
            f"HttpSink({self._mask(self._url)!r}, method={self._options.method}, "
            f"concurrency={self._options.concurrency}, dry_run={self._dry_run})"
        )

    def existing(self, kind: str) -> list[StoredDocument]:
        """Nothing: the endpoint is write-only."""
        return []

    def write_batch(self, documents: list[Document]) -> list[str | Rejected]:
        """Send the documents concurrently and return once every one is finished."""
        if self._dry_run:
            return [CREATED] * len(documents)
        from concurrent.futures import wait

        futures = [self._pool.submit(self._deliver, document) for document in documents]
        wait(futures)
        outcomes = [future.result() for future in futures]
        if self._unreachable is not None and not self._reached.is_set():
            raise SinkError(f"cannot reach {self._mask(self._url)}: {self._unreachable}")
        return outcomes

    def commit(self) -> None:
        """Nothing to do: the server stored each accepted document when it answered."""

    def close(self) -> None:
        self._pool.shutdown(cancel_futures=True)
        for connection in self._connections:
            connection.client.close()

    def _deliver(self, document: Document) -> str | Rejected:
        """Send one document, retrying transient failures; never raises for HTTP trouble."""
        try:
            url = self._document_url(document)
            body = _json_body(document.data)
        except (UnicodeError, ValueError, TypeError, RecursionError) as exc:
            return Rejected(f"not sent: {self._describe_error(exc)}")
        if len(url) > MAX_URL_LENGTH:
            return Rejected(f"not sent: its URL would be {len(url):,} characters long, more than {MAX_URL_LENGTH:,}"
                            " (is the key too long?)")
        attempts = self._options.retries + 1
        for attempt in range(1, attempts + 1):
            if self._unreachable is not None and not self._reached.is_set():
                return Rejected(f"not delivered: cannot reach the server ({self._unreachable})")
            if self._gave_up is not None:
                return Rejected(f"not delivered: {self._gave_up}")
            result = self._attempt(url, body)
            if not isinstance(result, _Retry):
                return result
            if result.maybe_stored and self._options.method == "POST":
                return Rejected(f"not delivered or not known to be: {result.reason} (a POST is not sent again, lest"
                                " the server store it twice: check the server before importing the line again)")
            if attempt < attempts:
                pause = result.pause if result.pause is not None else _backoff(self._options.backoff, attempt)
                time.sleep(pause)
        if not self._reached.is_set():
            self._unreachable = result.reason
        return Rejected(f"not delivered after {attempts} attempts: {result.reason}")

    def _attempt(self, url: str, body: bytes) -> str | Rejected | _Retry:
        """Send one request, within the deadline, and judge the answer."""
        import httpx

        connection = self._connection()
        self._limiter.wait()
        try:
            with connection.deadline(self._options.timeout), connection.client.stream(
                self._options.method, url, content=body, headers=JSON_HEADERS,
                extensions={"trace": connection.trace},
            ) as response:
                self._reached.set()
                return self._count(self._judge(response, self._read_start(response)))
        except httpx.InvalidURL as exc:
            return Rejected(f"not sent: {self._describe_error(exc)}")
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return self._count(_Retry(self._describe_error(exc), maybe_stored=False))
        except httpx.RequestError as exc:
            self._reached.set()
            if connection.expired or isinstance(exc, httpx.TimeoutException):
                return self._count(_Retry(f"no complete answer within {self._options.timeout:g} s"))
            return self._count(_Retry(self._describe_error(exc)))

    def _judge(self, response: httpx.Response, body: str) -> str | Rejected | _Retry:
        status = response.status_code
        if status in RETRY_STATUSES:
            return _Retry(f"server answered {status}: {self._server_message(response, body)}", _retry_after(response),
                          maybe_stored=status not in NOT_STORED_STATUSES)
        if response.is_success:
            return CREATED if status == 201 else UPDATED
        return Rejected(f"rejected by the server ({status}): {self._server_message(response, body)}")

    def _count(self, result: str | Rejected | _Retry) -> str | Rejected | _Retry:
        """Count the requests in a row that failed (once the server was reached); past
        ``give_up_after``, give up on the server. An answer accepting or refusing a document
        starts the count again."""
        with self._lock:
            if not isinstance(result, _Retry):
                self._failures = 0
            elif self._reached.is_set():
                self._failures += 1
                if self._failures >= self._options.give_up_after and self._gave_up is None:
                    self._gave_up = (f"the server seems down: {self._failures} requests in a row failed"
                                     f" (the last: {result.reason})")
        return result

    def _connection(self) -> _Connection:
        """This thread's connection, made on first use."""
        connection: _Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = _Connection(self._new_client())
            with self._lock:
                self._connections.append(connection)
        return connection

    def _document_url(self, document: Document) -> str:
        template = self._options.kind_paths.get(document.kind) or \
            self._options.path.replace("{kind}", quote(document.kind, safe=""))
        return f"{self._url}/{template.replace('{key}', _quote_key(document.key))}"

    def _describe_error(self, exc: Exception) -> str:
        detail = str(exc)
        return self._one_line(f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__)

    def _read_start(self, response: httpx.Response) -> str:
        """The start of the body as text: at most MAX_BODY bytes, never uncompressed (the
        connection is closed if more is left); "" for a compressed body. The end of a body
        cut short loses the length of the longest secret, lest it hold the start of one."""
        if response.headers.get("Content-Encoding", "identity").strip().lower() != "identity":
            return ""
        data = bytearray()
        for chunk in response.iter_raw():
            data += chunk
            if len(data) > MAX_BODY:
                break
        try:
            text = data[:MAX_BODY].decode(response.encoding or "utf-8", "replace")
        except LookupError:  # a charset that is no text encoding
            text = data[:MAX_BODY].decode("utf-8", "replace")
        if len(data) > MAX_BODY:
            text = text[: len(text) - max(map(len, self._secrets), default=0)] + "…"
        return text

    def _server_message(self, response: httpx.Response, body: str) -> str:
        """The server's own explanation: a JSON message field, else the body, else the status;
        secrets masked before it is cut to length."""
        text = body
        try:
            payload = json.loads(text)
        except (ValueError, RecursionError):
            payload = None
        if isinstance(payload, dict):
            for name in ("message", "error", "detail"):
                value = payload.get(name)
                if value:
                    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                    break
        return self._one_line(text or response.reason_phrase) or "no message"

    def _one_line(self, text: str) -> str:
        """``text`` on one line, secrets masked, then cut to MESSAGE_LENGTH (masking first: a
        cut inside a secret would leave its start unmasked)."""
        line = self._mask(" ".join(text.split()))
        return line if len(line) <= MESSAGE_LENGTH else line[: MESSAGE_LENGTH - 1] + "…"

    def _mask(self, text: str) -> str:
        return mask_secrets(text, self._secrets)


class _RateLimiter:
    """Spaces the starts of requests, across threads, to at most ``rate`` per second."""

    def __init__(self, rate: float | None) -> None:
        self._interval = 1 / rate if rate else 0.0
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Return when the next request may start."""
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next)
            self._next = start + self._interval
        if start > now:
            time.sleep(start - now)


def _check_url(target: str | None) -> str:
    if not target:
        raise UsageError("the http sink needs --target URL")
    try:
        parts = urlsplit(target)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"bad --target URL {mask_secrets(target)!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the http sink's --target must be an http:// or https:// URL, got {mask_secrets(target)!r}")
    if parts.query or parts.fragment:
        raise UsageError(f"the http sink's --target must have no query or fragment, got {mask_secrets(target)!r}")
    return target


def _check_credentials(url: str, headers: Iterable[tuple[str, str]]) -> None:
    """Refuse two sets of credentials: those of the URL would silently replace the header."""
    parts = urlsplit(url)
    if (parts.username or parts.password) and any(name.lower() == "authorization" for name, _ in headers):
        raise UsageError("give the credentials either in the --target URL or in an Authorization header, not both")


def _parse_method(text: str) -> str:
    method = text.strip().upper()
    if method not in METHODS:
        raise ValueError(f"Must be one of {', '.join(METHODS)}.")
    return method


def _parse_path(template: str) -> str:
    if "{key}" not in template:
        raise ValueError("Must contain {key}.")
    return template.lstrip("/")


def _parse_headers(text: str) -> tuple[tuple[str, str], ...]:
    """Headers from "Name: value" lines, ``${VAR}`` filled from the environment; values are secrets, so no
    message quotes them."""
    headers = []
    for line in text.split("\n"):
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not _HEADER_NAME.fullmatch(name):
            raise ValueError("Must be 'Name: value'.")
        value = _expand(value.strip(), name, os.environ)
        if not all(char == "\t" or " " <= char <= "~" for char in value):
            raise ValueError(f"{name}: the value must be printable ASCII.")
        headers.append((name, value))
    return tuple(headers)


def _expand(value: str, header: str, environ: Mapping[str, str]) -> str:
    """``value`` with each ``${VAR}`` replaced by the environment variable's value."""

    def variable(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"{header}: environment variable {name} is not set.")
        return environ[name]

    return _ENV_VARIABLE.sub(variable, value)


def _secrets_of(headers: Iterable[tuple[str, str]], url: str) -> tuple[str, ...]:
    """The texts to mask: header values (and their credentials alone), the URL password
    (also as sent in the Basic authorization)."""
    secrets = []
    for _, value in headers:
        secrets.append(value)
        words = value.split()
        if len(words) > 1:  # "Bearer <token>": the token alone is a secret too
            secrets.append(words[-1])
    parts = urlsplit(url)
    if parts.password:
        user, password = unquote(parts.username or ""), unquote(parts.password)
        basic = base64.b64encode(f"{user}:{password}".encode()).decode()  # as httpx sends it
        secrets += [parts.password, password, basic]
    return tuple(secrets)


def _quote_key(key: str) -> str:
    """``key`` as one path segment; "." and ".." are encoded too, lest they move up the path."""
    quoted = quote(str(key), safe="")
    return quoted.replace(".", "%2E") if quoted in (".", "..") else quoted


def _json_body(data: Mapping[str, Any]) -> bytes:
    given = {name: None if value is CLEAR else value for name, value in data.items() if value is not None}
    return json.dumps(given, ensure_ascii=False, default=_json_default).encode("utf-8")


def _json_default(value: Any) -> str:
    """Dates and times in ISO format, anything else JSON cannot write as its text."""
    isoformat: Callable[[], str] | None = getattr(value, "isoformat", None)
    return isoformat() if callable(isoformat) else str(value)


def _retry_after(response: httpx.Response) -> float | None:
    """The pause asked by a ``Retry-After: <seconds>`` header, capped; None without one."""
    try:
        seconds = float(response.headers.get("Retry-After", ""))
    except ValueError:
        return None
    return min(seconds, MAX_RETRY_AFTER) if math.isfinite(seconds) and seconds >= 0 else None


def _backoff(base: float, attempt: int) -> float:
    """The pause after failed attempt ``attempt``: base·2^(attempt-1), capped, with jitter."""
    ceiling = min(MAX_BACKOFF, base * 2 ** min(attempt - 1, 32))
    return random.uniform(ceiling / 2, ceiling)

