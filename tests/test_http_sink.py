"""The http sink against real HTTP servers on 127.0.0.1."""
from __future__ import annotations

import base64
import socket
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from urllib.parse import quote, unquote

import pytest
from http_server import JsonStore, LocalHttpServer, Reply, Request, SilentServer

from etl.components import CLEAR, CREATED, UPDATED, Document, Rejected
from etl.connectors import http_sink
from etl.connectors.http_sink import HttpSink, mask_secrets, register_sinks
from etl.errors import SinkError, UsageError


def open_http_sink(url: str | None, options: dict[str, str], dry_run: bool) -> HttpSink:
    """The sink's ``open`` with ``options`` loaded by its schema, as a run opens it."""
    return http_sink.open_http_sink(url, register_sinks()[0].load_options(options), dry_run)

FAST = {"backoff": "0.01", "retries": "3"}
TOKEN = "tok-0123456789"
PASSWORD = "pa55-word"

OpenSink = Callable[..., HttpSink]


@pytest.fixture
def open_sink() -> Iterator[OpenSink]:
    """``open_sink(url, dry_run=False, **options)``; every sink opened is closed after the test."""
    sinks: list[HttpSink] = []

    def open_(url: str | None, dry_run: bool = False, **options: str) -> HttpSink:
        sink = open_http_sink(url, options, dry_run)
        sinks.append(sink)
        return sink

    yield open_
    for sink in sinks:
        sink.close()


@pytest.fixture
def store() -> Iterator[tuple[LocalHttpServer, JsonStore]]:
    store = JsonStore()
    with LocalHttpServer(store) as server:
        yield server, store


def customer(key: str, **data: object) -> Document:
    return Document("customers", key, {"name": key, **data}, (2,))


def contact(email: str, customer_key: str) -> Document:
    return Document("contacts", email, {"email": email, "customer": customer_key}, (3,))


def path_of(kind: str, key: str) -> str:
    return f"/{kind}/{quote(key, safe='')}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_registers_the_http_sink() -> None:
    [spec] = register_sinks()
    assert spec.name == "http" and spec.open is http_sink.open_http_sink and spec.description


def test_importing_the_module_does_not_load_httpx() -> None:
    code = "import sys, etl.connectors.http_sink; print('httpx' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"


def test_documents_arrive_as_sent(store, open_sink, monkeypatch: pytest.MonkeyPatch) -> None:
    server, documents = store
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    sink = open_sink(server.url + "/", header="Authorization: Bearer ${ETL_TEST_TOKEN}\nX-Tenant: t1")
    keys = ["ACME", "Dupont & Fils", "a/b c?d#e", "Éléonore Café", "x@y.fr", ".."]
    customers = [customer(key, phone=None, size=3) for key in keys]
    contacts = [contact("jo+1@acme.fr", "ACME"), contact("Zoé Ä@b.c", "..")]

    assert sink.write_batch(customers) == [CREATED] * len(keys)
    assert sink.write_batch(contacts) == [CREATED, CREATED]
    assert sink.write_batch([customer("ACME", size=4)]) == [UPDATED]

    expected = {path_of("customers", key) for key in keys if key != ".."}
    expected |= {"/customers/%2E%2E", path_of("contacts", "jo+1@acme.fr"), path_of("contacts", "Zoé Ä@b.c")}
    assert set(documents.documents) == expected
    assert unquote(path_of("customers", "a/b c?d#e")) == "/customers/a/b c?d#e"
    assert documents.documents[path_of("customers", "Éléonore Café")] == {"name": "Éléonore Café", "size": 3}
    assert documents.documents[path_of("customers", "ACME")] == {"name": "ACME", "size": 4}
    assert documents.documents[path_of("contacts", "jo+1@acme.fr")] == {"email": "jo+1@acme.fr", "customer": "ACME"}
    for request in server.requests:
        assert request.method == "PUT"
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["x-tenant"] == "t1"
        assert request.headers["content-type"] == "application/json"


def test_method_paths_and_other_kinds(open_sink) -> None:
    with LocalHttpServer(lambda request: Reply(204)) as server:
        sink = open_sink(server.url + "/api", method="patch", **{"path.customers": "/v2/clients/{key}"})
        outcomes = sink.write_batch([customer("A 1"), Document("invoices", "F/1", {"total": 2}, (2,))])
    assert outcomes == [UPDATED, UPDATED]
    assert {(r.method, r.path) for r in server.requests} == {
        ("PATCH", "/api/v2/clients/A%201"),
        ("PATCH", "/api/invoices/F%2F1"),
    }


class Flaky:
    """Fails the first attempt at about 30% of the paths, in turn with 500, 503 (Retry-After: 0),
    429 (Retry-After: 0) and a dropped connection; then acts as ``store``."""

    FAILURES = (
        Reply(500, "boom"),
        Reply(503, {"error": "busy"}, {"Retry-After": "0"}),
        Reply(429, None, {"Retry-After": "0"}),
        Reply(drop=True),
    )

    def __init__(self, store: JsonStore) -> None:
        self.store = store
        self.seen: set[str] = set()
        self.lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        with self.lock:
            first = request.path not in self.seen
            self.seen.add(request.path)
        digest = zlib.crc32(request.path.encode())
        if first and digest % 10 < 3:
            return self.FAILURES[digest // 10 % len(self.FAILURES)]
        return self.store(request)


def test_a_flaky_server_gets_every_document_exactly_once(open_sink) -> None:
    store = JsonStore()
    customers = [customer(f"customer {i}", rank=i) for i in range(150)]
    contacts = [contact(f"c{i}@x.fr", f"customer {i}") for i in range(150)]
    with LocalHttpServer(Flaky(store)) as server:
        sink = open_sink(server.url, **FAST)
        outcomes = sink.write_batch(customers) + sink.write_batch(contacts)

    assert outcomes == [CREATED] * 300
    sent = {path_of(d.kind, d.key): d.data for d in customers + contacts}
    assert store.documents == sent
    assert set(store.writes.values()) == {1}
    failed = len(server.requests) - 300
    assert 50 < failed < 130  # about 30% of the first attempts failed and were retried


def test_the_server_message_rejects_a_document(open_sink) -> None:
    replies = {
        "json": Reply(422, {"message": "email is not valid"}),
        "detail": Reply(400, {"detail": [{"loc": "name"}]}),
        "text": Reply(409, "conflict:\n   already   exists\n"),
        "empty": Reply(404),
        "long": Reply(400, "x" * 500),
    }

    def respond(request: Request) -> Reply:
        return replies.get(request.path.rsplit("/", 1)[1], Reply(201))

    with LocalHttpServer(respond) as server:
        sink = open_sink(server.url, **FAST)
        outcomes = sink.write_batch([customer(key) for key in ["ok", *replies, "fine"]])

    assert outcomes[0] == outcomes[-1] == CREATED
    assert outcomes[1:5] == [
        Rejected("rejected by the server (422): email is not valid"),
        Rejected('rejected by the server (400): [{"loc": "name"}]'),
        Rejected("rejected by the server (409): conflict: already exists"),
        Rejected("rejected by the server (404): Not Found"),
    ]
    assert outcomes[5].message == "rejected by the server (400): " + "x" * 199 + "…"
    assert len(server.requests) == 7  # a rejection is not retried


def test_retries_are_limited_and_the_document_is_rejected(open_sink) -> None:
    with LocalHttpServer(lambda request: Reply(503, {"error": "maintenance"}, {"Retry-After": "0"})) as server:
        sink = open_sink(server.url, retries="2", backoff="0.01")
        outcomes = sink.write_batch([customer("a"), customer("b")])
    assert outcomes == [Rejected("not delivered after 3 attempts: server answered 503: maintenance")] * 2
    assert len(server.requests) == 6


def test_a_server_that_is_down_stops_the_run(open_sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    url = f"http://user:{PASSWORD}@127.0.0.1:{free_port()}"
    sink = open_sink(url, header="X-Api-Key: ${ETL_TEST_TOKEN}", retries="2", backoff="0.01")
    with pytest.raises(SinkError) as raised:
        sink.write_batch([customer(f"c{i}") for i in range(30)])
    message = str(raised.value)
    assert message.startswith("cannot reach http://user:***@127.0.0.1:") and "ConnectError" in message
    assert PASSWORD not in message and TOKEN not in message and "\n" not in message


def test_a_server_that_never_answers_rejects_the_documents(open_sink) -> None:
    with SilentServer() as server:
        sink = open_sink(server.url, timeout="0.5", retries="1", backoff="0.01")
        outcomes = sink.write_batch([customer("a"), customer("b"), customer("c")])
    assert len(outcomes) == 3
    for outcome in outcomes:
        assert isinstance(outcome, Rejected)
        assert outcome.message == "not delivered after 2 attempts: no complete answer within 0.5 s"


def test_a_dry_run_sends_nothing(store, open_sink) -> None:
    server, _ = store
    sink = open_sink(server.url, dry_run=True)
    assert sink.write_batch([customer("a"), contact("b@c.d", "a")]) == [CREATED, CREATED]
    assert server.requests == []


def test_a_write_only_target(store, open_sink) -> None:
    server, _ = store
    sink = open_sink(server.url)
    assert list(sink.existing("customers")) == []
    sink.commit()
    assert server.requests == []


def test_secrets_never_show(open_sink, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)

    def echo(request: Request) -> Reply:  # a careless server quoting the credentials
        return Reply(422, {"message": f"refused {request.headers['authorization']}"})

    with LocalHttpServer(echo) as server:
        by_header = open_sink(server.url, header="Authorization: Bearer ${ETL_TEST_TOKEN}")
        by_url = open_sink(server.url.replace("http://", f"http://user:{PASSWORD}@"))
        outcomes = by_header.write_batch([customer("a")]) + by_url.write_batch([customer("b")])
    assert [request.headers["authorization"] for request in server.requests] == [
        f"Bearer {TOKEN}",
        "Basic " + base64.b64encode(f"user:{PASSWORD}".encode()).decode(),
    ]
    assert outcomes == [
        Rejected("rejected by the server (422): refused ***"),
        Rejected("rejected by the server (422): refused Basic ***"),
    ]
    assert TOKEN not in repr(by_header) and PASSWORD not in repr(by_url) and "user:***@" in repr(by_url)


def test_credentials_in_the_url_and_a_header_are_refused() -> None:
    with pytest.raises(UsageError, match="not both"):
        open_http_sink(f"http://user:{PASSWORD}@127.0.0.1:9", {"header": "Authorization: x"}, False)


def test_a_bad_header_is_not_quoted(open_sink) -> None:
    with pytest.raises(UsageError) as raised:
        open_sink("http://127.0.0.1:9", header=f"Bearer {TOKEN}")
    assert TOKEN not in str(raised.value)


def test_mask_secrets() -> None:
    assert mask_secrets("GET https://me:pw@host/x failed") == "GET https://me:***@host/x failed"
    assert mask_secrets("http://host:8080/a@b and http://me@host") == "http://host:8080/a@b and http://me@host"
    assert mask_secrets("token abc and abcdef", ["abc", "abcdef"]) == "token *** and ***"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"colour": "red"}, "unknown http sink option 'colour' (valid: header, timeout, concurrency, rate,"),
        ({"timeout": "0"}, "http sink option timeout='0': Must be greater than 0."),
        ({"concurrency": "two"}, "http sink option concurrency='two': Not a valid integer."),
        ({"retries": "-1"}, "http sink option retries='-1': Must be greater than or equal to 0."),
        ({"rate": "nan"}, "http sink option rate='nan': Special numeric values (nan or infinity) are not permitted."),
        ({"method": "DELETE"}, "http sink option method='DELETE': Must be one of PUT, POST, PATCH."),
        ({"path.contacts": "people"}, "http sink option path.contacts='people': Must contain {key}."),
        ({"path": "{kind}"}, "http sink option path='{kind}': Must contain {key}."),
        ({"header": "X-Key: ${ETL_TEST_UNSET}"},
         "http sink option header: X-Key: environment variable ETL_TEST_UNSET is not set."),
        ({"header": "X-Key: é"}, "http sink option header: X-Key: the value must be printable ASCII."),
    ],
)
def test_bad_options(options: dict[str, str], expected: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ETL_TEST_UNSET", raising=False)
    with pytest.raises(UsageError) as raised:
        open_http_sink("http://127.0.0.1:9", options, False)
    assert expected in str(raised.value)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "the http sink needs --target URL"),
        ("", "the http sink needs --target URL"),
        ("ftp://host/x", "must be an http:// or https:// URL, got 'ftp://host/x'"),
        ("localhost:8080", "must be an http:// or https:// URL"),
        ("http://", "must be an http:// or https:// URL"),
        ("http://host:port", "bad --target URL"),
        ("https://me:secret@host/x?a=1", "no query or fragment, got 'https://me:***@host/x?a=1'"),
    ],
)
def test_bad_targets(target: str | None, expected: str) -> None:
    with pytest.raises(UsageError) as raised:
        open_http_sink(target, {}, False)
    assert expected in str(raised.value)


def test_the_rate_limiter_spaces_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    class Clock:
        now = 100.0
        sleeps: list[float] = []

        @classmethod
        def monotonic(cls) -> float:
            return cls.now

        @classmethod
        def sleep(cls, seconds: float) -> None:
            cls.sleeps.append(seconds)
            cls.now += seconds

    monkeypatch.setattr(http_sink, "time", Clock)
    limiter = http_sink._RateLimiter(4)
    for _ in range(3):
        limiter.wait()
    assert Clock.sleeps == [0.25, 0.25]


def test_a_cleared_field_is_sent_as_null(open_sink) -> None:
    """CLEAR (a field erased on purpose) goes as JSON null; a field not given (None) is left out."""
    with LocalHttpServer(lambda request: Reply(200)) as server:
        sink = open_sink(server.url)
        document = Document("customers", "C1", {"name": "Acme", "city": CLEAR, "phone": None}, (2,))
        assert sink.write_batch([document]) == [UPDATED]
    assert [request.json() for request in server.requests] == [{"name": "Acme", "city": None}]
