"""What an outside attacker can do to the http sink, and what the sink must hold against it:
answers trickled a byte at a time, huge or compressed answers, servers that never answer,
keys that make URLs too long, lost answers to a POST, servers echoing the credentials.

Every server is local (127.0.0.1) and every loop is bounded in count and time.
"""
from __future__ import annotations

import json
import random
import shutil
import ssl
import subprocess
import threading
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from http_server import JsonStore, LocalHttpServer, Reply, Request, SilentServer

from conftest import read_report, write_csv
from etl.components import CREATED, UPDATED, Document, Rejected
from etl.connectors.http_sink import MAX_BODY, MAX_URL_LENGTH, HttpSink, open_http_sink, register_sinks

TOKEN = "Zq7Xk4Wm2Rb8Tn5Yp3Lc"
PASSWORD = "Hv6Gd1Js9Qe"
FAST = {"backoff": "0.01", "retries": "2"}

OpenSink = Callable[..., HttpSink]


@pytest.fixture
def open_sink() -> Iterator[OpenSink]:
    sinks: list[HttpSink] = []

    def open_(url: str, **options: str) -> HttpSink:
        sink = open_http_sink(url, register_sinks()[0].load_options({**FAST, **options}), False)
        sinks.append(sink)
        return sink

    yield open_
    for sink in sinks:
        sink.close()


def customer(key: str, **data: object) -> Document:
    return Document("customers", key, {"name": key, **data}, (2,))


@contextmanager
def elapsed_at_most(seconds: float) -> Iterator[None]:
    started = time.monotonic()
    yield
    assert time.monotonic() - started < seconds


@contextmanager
def peak_memory_at_most(size: int) -> Iterator[None]:
    """Python's allocations (httpx's buffers included) stay under ``size`` bytes more than at the start."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < size


# A request is bounded as a whole


TRICKLED = {
    "a success, status line first": Reply(201, {"ok": True}, trickle=0.02),
    "an error, status line first": Reply(422, {"message": "no"}, trickle=0.02),
    "a 503, status line first": Reply(503, "busy", trickle=0.02),
    "a success's body after its headers": Reply(200, filler=1000, trickle=0.02, trickle_head=False),
    "an error's body after its headers": Reply(400, filler=1000, trickle=0.02, trickle_head=False),
    "a slower trickle, under the read timeout": Reply(200, filler=100, trickle=0.3, trickle_head=False),
}


@pytest.mark.parametrize("reply", TRICKLED.values(), ids=TRICKLED.keys())
def test_a_trickled_answer_is_cut_at_the_timeout(open_sink, reply: Reply) -> None:
    with LocalHttpServer(lambda request: reply) as server:
        sink = open_sink(server.url, timeout="0.5", retries="1")
        with elapsed_at_most(2 * 0.5 + 1.5):
            outcomes = sink.write_batch([customer("a"), customer("b")])
    assert outcomes == [Rejected("not delivered after 2 attempts: no complete answer within 0.5 s")] * 2


@pytest.mark.slow
@pytest.mark.parametrize("pause", [0.05, 0.5, 1.5])
def test_a_trickle_never_outlasts_the_timeout_whatever_its_pace(open_sink, pause: float) -> None:
    with LocalHttpServer(lambda request: Reply(200, filler=10_000, trickle=pause, trickle_head=False)) as server:
        sink = open_sink(server.url, timeout="2", retries="0")
        with elapsed_at_most(2 + 1.5):
            [outcome] = sink.write_batch([customer("a")])
    assert outcome == Rejected("not delivered after 1 attempts: no complete answer within 2 s")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
@pytest.mark.parametrize("reply", [Reply(201, trickle=0.05), Reply(200, filler=2000, trickle=0.05, trickle_head=False)],
                         ids=["status line first", "body after its headers"])
def test_a_trickled_https_answer_is_cut_at_the_timeout(open_sink, tmp_path, monkeypatch, reply: Reply) -> None:
    certificate, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key, "-out", certificate],
                   check=True, capture_output=True, timeout=60)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate))  # the client trusts it
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(certificate, key)
    with LocalHttpServer(lambda request: reply, tls=tls) as server:
        assert server.url.startswith("https://")
        sink = open_sink(server.url, timeout="0.5", retries="1")
        with elapsed_at_most(2 * 0.5 + 1.5):
            outcomes = sink.write_batch([customer("a")])
    assert outcomes == [Rejected("not delivered after 2 attempts: no complete answer within 0.5 s")]


def test_a_connection_is_used_again_after_a_request_cut_short(open_sink) -> None:
    slow = threading.Event()

    def respond(request: Request) -> Reply:
        if request.path.endswith("/slow") and not slow.is_set():
            slow.set()
            return Reply(200, filler=1000, trickle=0.05, trickle_head=False)
        return Reply(201)

    with LocalHttpServer(respond) as server:
        sink = open_sink(server.url, timeout="0.5", concurrency="1")
        assert sink.write_batch([customer("slow"), customer("fast"), customer("faster")]) == [CREATED] * 3


# Only what a message needs is read


BIG = {
    "a 200 MB error body": Reply(400, "bad: ", filler=200 << 20),
    "a 300 MB success body": Reply(201, filler=300 << 20),
    "a 200 MB 503 body, retried": Reply(503, filler=200 << 20, headers={"Retry-After": "0"}),
    "a gzip bomb": Reply(400, headers={"Content-Encoding": "gzip"}),
    "a bomb without Content-Encoding's spelling": Reply(400, headers={"Content-Encoding": " GZip "}),
    "a bogus charset": Reply(400, "bad", headers={"Content-Type": "text/plain; charset=zlib_codec"}),
}


@pytest.mark.parametrize("reply", BIG.values(), ids=BIG.keys())
def test_a_huge_answer_is_not_read_whole(open_sink, reply: Reply) -> None:
    if "Content-Encoding" in reply.headers:  # 100 MB of zeros in about 100 KB
        bomb = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(1 << 20)
        packed = b"".join(bomb.compress(zeros) for _ in range(100)) + bomb.flush()
        reply = Reply(reply.status, packed.decode("latin-1"), reply.headers)
    with LocalHttpServer(lambda request: reply) as server:
        sink = open_sink(server.url, timeout="10")
        with elapsed_at_most(10), peak_memory_at_most(16 << 20):
            [outcome] = sink.write_batch([customer("a")])
    if reply.status == 201:
        assert outcome == CREATED
    else:
        assert isinstance(outcome, Rejected) and len(outcome.message) < 300


def test_an_error_message_is_read_from_the_start_of_a_huge_body(open_sink) -> None:
    with LocalHttpServer(lambda request: Reply(409, "already there ", filler=50 << 20)) as server:
        [outcome] = open_sink(server.url).write_batch([customer("a")])
    assert outcome == Rejected("rejected by the server (409): already there " + "x" * (199 - 14) + "…")


# A server that never answers ends the run in bounded time


def test_a_silent_server_gives_up_after_consecutive_timeouts(open_sink) -> None:
    documents = [customer(f"c{i}") for i in range(400)]
    with SilentServer() as server:
        sink = open_sink(server.url, timeout="0.3", concurrency="4", give_up_after="4", retries="5")
        with elapsed_at_most(6):
            outcomes = sink.write_batch(documents) + sink.write_batch(documents[:100])
    assert len(outcomes) == 500 and all(isinstance(outcome, Rejected) for outcome in outcomes)
    gave_up = [o for o in outcomes if o.message.startswith("not delivered: the server seems down: 4 requests in a row"
                                                           " failed (the last: no complete answer within 0.3 s)")]
    assert len(gave_up) > 450


def test_a_server_answering_too_slowly_is_given_up_too(open_sink) -> None:
    with LocalHttpServer(lambda request: Reply(201, trickle=0.1)) as server:
        sink = open_sink(server.url, timeout="0.3", concurrency="2", give_up_after="3")
        with elapsed_at_most(6):
            outcomes = sink.write_batch([customer(f"c{i}") for i in range(200)])
    assert all(isinstance(outcome, Rejected) for outcome in outcomes)
    assert len(server.requests) < 20


ALWAYS_FAILING = {
    "503": Reply(503, "maintenance", {"Retry-After": "0"}),
    "429": Reply(429, headers={"Retry-After": "0"}),
    "500": Reply(500),
    "dropped": Reply(drop=True),
}


@pytest.mark.parametrize("reply", ALWAYS_FAILING.values(), ids=ALWAYS_FAILING.keys())
def test_a_server_failing_every_request_is_given_up(open_sink, reply: Reply) -> None:
    with LocalHttpServer(lambda request: reply) as server:
        sink = open_sink(server.url, concurrency="4", give_up_after="6", retries="5")
        with elapsed_at_most(5):
            outcomes = sink.write_batch([customer(f"c{i}") for i in range(1000)])
    assert all(isinstance(outcome, Rejected) for outcome in outcomes)
    assert len(server.requests) < 6 + 4


def test_an_answer_resets_the_count_of_timeouts(open_sink) -> None:
    count = iter(range(10_000))

    def respond(request: Request) -> Reply:  # every other request times out
        return Reply(201) if next(count) % 2 else Reply(201, trickle=0.2)

    with LocalHttpServer(respond) as server:
        sink = open_sink(server.url, timeout="0.3", concurrency="1", give_up_after="2", retries="3")
        outcomes = sink.write_batch([customer(f"c{i}") for i in range(6)])
    assert outcomes == [CREATED] * 6


def test_a_run_against_a_silent_server_rejects_every_line_in_bounded_time(etl, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": f"C{i}", "Customer name": f"N {i}"} for i in range(1000)])
    with SilentServer() as server, elapsed_at_most(20):
        result = etl("run", "in.csv", "--sink", "http", "--target", server.url, "--report", "r.json",
                     "--sink-option", "timeout=0.3", "--sink-option", "give_up_after=8")
    report = read_report(tmp_path / "r.json")
    assert result.code == 2 and report["rows"] == {"read": 1000, "imported": 0, "rejected": 1000}
    assert "Traceback" not in result.err and "the server seems down" in result.err


# A document whose URL cannot be built is rejected alone


BAD_KEYS = {
    "just over the URL limit": "k" * (MAX_URL_LENGTH - 20),
    "long once encoded": "é" * 2000,
    "over httpx's own limit": "k" * 70_000,
    "a lone surrogate": "a\ud800b",
}


@pytest.mark.parametrize("key", BAD_KEYS.values(), ids=BAD_KEYS.keys())
def test_a_key_that_cannot_make_a_url_rejects_its_document_only(open_sink, key: str) -> None:
    store = JsonStore()
    with LocalHttpServer(store) as server:
        outcomes = open_sink(server.url).write_batch([customer("ok1"), customer(key), customer("ok2")])
    assert outcomes[0] == outcomes[2] == CREATED
    assert isinstance(outcomes[1], Rejected) and outcomes[1].message.startswith("not sent: ")
    assert len(outcomes[1].message) < 300 and len(store.documents) == 2


@pytest.mark.parametrize("data", [{"name": "a\udcff"}, {"note": "x\ud800"}])
def test_data_that_is_not_json_rejects_its_document_only(open_sink, data: dict) -> None:
    with LocalHttpServer(JsonStore()) as server:
        outcomes = open_sink(server.url).write_batch([Document("customers", "a", data, (2,)), customer("b")])
    assert isinstance(outcomes[0], Rejected) and outcomes[0].message.startswith("not sent: ") and outcomes[1] == CREATED


def test_a_path_that_httpx_refuses_rejects_documents_not_the_run(open_sink) -> None:
    with LocalHttpServer(JsonStore()) as server:
        outcomes = open_sink(server.url, **{"path.customers": "c\x01/{key}"}).write_batch([customer("a")])
    assert isinstance(outcomes[0], Rejected) and outcomes[0].message.startswith("not sent: InvalidURL")


@pytest.mark.parametrize("key", ["K" * 9000, "€" * 1600])
def test_a_run_with_a_key_too_long_for_a_url_rejects_that_line(etl, tmp_path, key: str) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"},
                                    {"Customer ID": key, "Customer name": "B"}])
    with LocalHttpServer(JsonStore()) as server:
        result = etl("run", "in.csv", "--sink", "http", "--target", server.url, "--report", "r.json")
    report = read_report(tmp_path / "r.json")
    assert result.code == 1 and report["rows"] == {"read": 2, "imported": 1, "rejected": 1}
    assert report["errors"][0]["line"] == 3 and "not sent: its URL would be" in report["errors"][0]["message"]
    assert "unexpected error" not in result.err


# A POST is never stored twice


class StoresThen:
    """Stores each document, then answers its first request with ``reply`` (a drop, an error...)."""

    def __init__(self, reply: Reply) -> None:
        self.store, self.reply, self.seen, self.lock = JsonStore(), reply, set(), threading.Lock()

    def __call__(self, request: Request) -> Reply:
        answer = self.store(request)
        with self.lock:
            first = request.path not in self.seen
            self.seen.add(request.path)
        return self.reply if first else answer


LOST_ANSWERS = {
    "dropped": Reply(drop=True),
    "500": Reply(500, "oops"),
    "502": Reply(502),
    "504": Reply(504),
    "trickled past the timeout": Reply(201, trickle=0.2),
}


@pytest.mark.parametrize("reply", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_a_post_whose_answer_is_lost_is_not_sent_again(open_sink, reply: Reply) -> None:
    responder = StoresThen(reply)
    with LocalHttpServer(responder) as server:
        sink = open_sink(server.url, method="post", timeout="0.5")
        outcomes = sink.write_batch([customer(f"c{i}") for i in range(5)])
    assert set(responder.store.writes.values()) == {1} and len(responder.store.writes) == 5
    for outcome in outcomes:
        assert isinstance(outcome, Rejected) and "a POST is not sent again" in outcome.message


@pytest.mark.parametrize("status", [408, 429, 503])
def test_a_post_refused_unprocessed_is_sent_again(open_sink, status: int) -> None:
    store, seen = JsonStore(), set()

    def respond(request: Request) -> Reply:
        if request.path not in seen:
            seen.add(request.path)
            return Reply(status, headers={"Retry-After": "0"})
        return store(request)

    with LocalHttpServer(respond) as server:
        outcomes = open_sink(server.url, method="POST").write_batch([customer(f"c{i}") for i in range(5)])
    assert outcomes == [CREATED] * 5 and set(store.writes.values()) == {1}


def test_a_put_whose_answer_is_lost_is_sent_again(open_sink) -> None:
    responder = StoresThen(Reply(drop=True))
    with LocalHttpServer(responder) as server:
        outcomes = open_sink(server.url).write_batch([customer(f"c{i}") for i in range(5)])
    assert outcomes == [UPDATED] * 5 and set(responder.store.writes.values()) == {2}  # stored, then again


# Secrets never show, however the server quotes them


def echo_at(offset: int, status: int = 401, as_json: bool = False) -> Callable[[Request], Reply]:
    """A server quoting the credentials it got after ``offset`` characters of text."""

    def respond(request: Request) -> Reply:
        text = "x" * offset + " " + request.headers["authorization"] + " y"
        return Reply(status, {"message": text} if as_json else text, {"Retry-After": "0"})

    return respond


def assert_hidden(text: str) -> None:
    for start in range(len(TOKEN) - 3):
        assert TOKEN[start : start + 4] not in text
    for start in range(len(PASSWORD) - 3):
        assert PASSWORD[start : start + 4] not in text


@pytest.mark.parametrize("offset", range(170, 200, 2))
def test_a_token_echoed_where_the_message_is_cut_never_shows(open_sink, monkeypatch, offset: int) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    with LocalHttpServer(echo_at(offset)) as server:
        [outcome] = open_sink(server.url, header="Authorization: Bearer ${ETL_TEST_TOKEN}").write_batch([customer("a")])
    assert outcome.message.startswith("rejected by the server (401): xxx")
    assert_hidden(outcome.message)


@pytest.mark.parametrize("respond", [
    echo_at(185, as_json=True), echo_at(185, 503), echo_at(190, 503, as_json=True),
    lambda request: Reply(401, " " * (MAX_BODY - 12) + request.headers["authorization"]),
    lambda request: Reply(401, "\n" * (MAX_BODY - 9) + request.headers["authorization"]),
    lambda request: Reply(401, reason=request.headers["authorization"]),
], ids=["json", "503", "503 json", "at the end of the body read", "after newlines", "in the reason phrase"])
def test_a_token_echoed_any_other_way_never_shows(open_sink, monkeypatch, respond) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    with LocalHttpServer(respond) as server:
        [outcome] = open_sink(server.url, header="Authorization: Bearer ${ETL_TEST_TOKEN}").write_batch([customer("a")])
    assert isinstance(outcome, Rejected)
    assert_hidden(outcome.message)


@pytest.mark.parametrize("offset", [180, 186, 192, 198])
def test_a_url_password_echoed_where_the_message_is_cut_never_shows(open_sink, offset: int) -> None:
    def respond(request: Request) -> Reply:
        return Reply(401, "x" * offset + f" http://user:{PASSWORD}@host/ and {request.headers['authorization']}")

    with LocalHttpServer(respond) as server:
        [outcome] = open_sink(server.url.replace("http://", f"http://user:{PASSWORD}@")).write_batch([customer("a")])
    assert_hidden(outcome.message)


def test_a_report_never_holds_an_echoed_token(etl, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    with LocalHttpServer(echo_at(188)) as server:
        result = etl("run", "in.csv", "--sink", "http", "--target", server.url, "--report", "r.json",
                     "--rejects", "rej.csv", "--sink-option", "header=Authorization: Bearer ${ETL_TEST_TOKEN}")
    assert result.code == 2
    for text in (result.out, result.err, (tmp_path / "r.json").read_text(), (tmp_path / "rej.csv").read_text()):
        assert_hidden(text)
    assert json.loads((tmp_path / "r.json").read_text())["rows"]["rejected"] == 1


# Longer variants: a deterministic sample, bounded in count and time


SAMPLED_OFFSETS = sorted(random.Random(15).sample(range(400), 16)) + [MAX_BODY - k for k in (1, 5, 12, 25, 40)]


@pytest.mark.slow
@pytest.mark.parametrize("offset", SAMPLED_OFFSETS)
@pytest.mark.parametrize("status", [401, 503])
def test_a_token_echoed_at_any_offset_never_shows(open_sink, monkeypatch, offset: int, status: int) -> None:
    monkeypatch.setenv("ETL_TEST_TOKEN", TOKEN)
    with LocalHttpServer(echo_at(offset, status)) as server:
        sink = open_sink(server.url, header="Authorization: Bearer ${ETL_TEST_TOKEN}", retries="0")
        [outcome] = sink.write_batch([customer("a")])
    assert isinstance(outcome, Rejected)
    assert_hidden(outcome.message)


@pytest.mark.slow
def test_ten_thousand_documents_to_a_silent_server_end_in_bounded_time(open_sink) -> None:
    with SilentServer() as server:
        sink = open_sink(server.url, timeout="0.5", give_up_after="8")
        with elapsed_at_most(10):
            outcomes = [o for i in range(0, 10_000, 2000)
                        for o in sink.write_batch([customer(f"c{j}") for j in range(i, i + 2000)])]
    assert len(outcomes) == 10_000 and all(isinstance(outcome, Rejected) for outcome in outcomes)


@pytest.mark.slow
@pytest.mark.parametrize("concurrency", ["1", "3", "8"])
@pytest.mark.parametrize("reply", LOST_ANSWERS.values(), ids=LOST_ANSWERS.keys())
def test_many_posts_whose_answers_are_lost_are_each_stored_once(open_sink, concurrency: str, reply: Reply) -> None:
    responder = StoresThen(reply)
    with LocalHttpServer(responder) as server:
        sink = open_sink(server.url, method="POST", timeout="0.3", concurrency=concurrency, give_up_after="1000")
        with elapsed_at_most(30):
            outcomes = sink.write_batch([customer(f"c{i}") for i in range(60)])
    assert set(responder.store.writes.values()) == {1} and len(responder.store.writes) == 60
    assert all(isinstance(outcome, Rejected) for outcome in outcomes)
