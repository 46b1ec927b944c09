"""What a run keeps of the documents it created, for ``etl history undo``: small (refs as runs, keys and
fingerprints as texts), read back exactly, and an edited record refused with what is wrong, never a traceback."""
from __future__ import annotations

import base64
import zlib

import orjson
import pytest
from hypothesis import given, settings, strategies as st

from etl.components import CLEAR, CREATED, UNCHANGED, UPDATED, Document
from etl.history import KEY_KEPT, Written, created_documents, data_digest

REFS = st.one_of(
    st.builds(lambda start, n: list(range(start, start + n)), st.integers(0, 10**12), st.integers(1, 30)),
    st.builds(lambda start, n: [str(k) for k in range(start, start + n)], st.integers(0, 10**6), st.integers(1, 30)),
    st.lists(st.one_of(st.integers(-5, 50), st.text(max_size=4), st.just("007"), st.just("²")),
             min_size=1, max_size=30, unique_by=repr),
)


def _numbered(start: int, sizes: list[int], text: bool) -> list[list]:
    """Batches of refs as a sink numbers its new documents: each follows the one before."""
    ends = [start + sum(sizes[:n]) for n in range(len(sizes) + 1)]
    return [[str(k) if text else k for k in range(ends[n], ends[n + 1])] for n in range(len(sizes))]


NUMBERED = st.builds(_numbered, st.integers(0, 10**6), st.lists(st.integers(1, 9), min_size=1, max_size=4),
                     st.booleans())
DATA = st.dictionaries(st.sampled_from(["name", "city", "email", "is_main", "days"]),
                       st.one_of(st.none(), st.just(CLEAR), st.text(max_size=5), st.booleans(),
                                 st.integers(-2**63, 2**63 - 1)))


def kept(text: str | bytes) -> str:
    """Keys as kept, a line each."""
    return base64.b64encode(zlib.compress(text.encode() if isinstance(text, str) else text)).decode()


def created(kind: str, key: str, data: dict, ref) -> Document:
    return Document(kind, key, data, (), ref)


@settings(max_examples=200, deadline=None)
@given(batches=st.one_of(NUMBERED, st.lists(REFS, min_size=1, max_size=4)),
       keys=st.lists(st.text(max_size=6), min_size=1, max_size=7), data=st.lists(DATA, min_size=1, max_size=5))
def test_the_documents_created_are_read_back_exactly(batches, keys, data):
    written, expected, n = Written(), [], 0
    for refs in batches:
        if {repr(r) for r in refs} & {repr(ref) for ref, _, _ in expected}:
            continue  # a store never gives two documents one ref
        docs = [created("contacts", keys[(n + i) % len(keys)], data[(n + i) % len(data)], ref)
                for i, ref in enumerate(refs)]
        written.note(docs, [{}] * len(docs), [CREATED] * len(docs))
        expected += [(doc.ref, doc.key.replace("\n", " "),
                      data_digest({k: None if v is CLEAR else v for k, v in doc.data.items()})) for doc in docs]
        n += len(refs)
    record = orjson.loads(orjson.dumps(written.as_dict()))  # as a store keeps it
    assert created_documents(record["created"].get("contacts", []), "x") == expected


def test_numbered_refs_are_kept_as_runs_across_batches_and_updates_apart():
    written = Written()
    for start in (1, 4):
        docs = [created("customers", f"C{k}", {"name": f"N{k}"}, str(k)) for k in range(start, start + 3)]
        written.note(docs, [{}] * 3, [CREATED] * 3)
    old = created("customers", "C0", {"name": "Zero"}, "9")
    written.note([old, created("customers", "C9", {}, "99")], [{"name": ["Old", "Zero"]}, {}], [UPDATED, UNCHANGED])
    record = written.as_dict()
    assert record["created"]["customers"]["refs"] == [["1", 6]]
    assert [zlib.decompress(base64.b64decode(text)) for text in record["created"]["customers"]["keys"]] == \
        [b"C1\nC2\nC3", b"C4\nC5\nC6"]
    assert record["updated"] == {"customers": [["9", "C0", {"name": ["Old", "Zero"]}]]}


def test_the_list_an_older_etl_kept_is_read_too():
    assert created_documents([["1", "C1", "00ff00ff00ff00ff"]], "x") == [("1", "C1", "00ff00ff00ff00ff")]


GOOD = {"refs": [["1", 2]], "keys": [kept("C1\nC2")], "digests": [base64.b64encode(bytes(16)).decode()]}


@pytest.mark.parametrize("record, problem", [
    ("C1", "w is text, not an object"),
    ({**GOOD, "refs": [["1", 10**12]]}, "w names 1000000000000 refs, 2 keys and 2 fingerprints"),
    ({**GOOD, "refs": [["1", 0], ["1", 2]]}, "w.refs is not a list of [first, count]"),
    ({**GOOD, "refs": [["x", 2]]}, "w.refs has a run of refs that are not numbers"),
    ({**GOOD, "keys": [kept("C1")]}, "w names 2 refs, 1 keys and 2 fingerprints"),
    ({**GOOD, "keys": ["C1\nC2"]}, "w.keys is not texts compressed by etl"),
    ({**GOOD, "keys": [kept("C1\nC2")[:-8]]}, "w.keys is not texts compressed by etl"),
    ({**GOOD, "keys": [kept(b"\xff\nC2")]}, "w.keys is not texts compressed by etl"),
    ({**GOOD, "keys": [kept(b"\n" * (65 << 20))]}, "w.keys is not texts compressed by etl"),  # a bomb
    ({**GOOD, "digests": ["!!"]}, "w.digests is not base64"),
    ({**GOOD, "digests": "AAAA"}, "w.digests is text, not a list"),
    ([["1", "C1"]], "w is not a list of [ref, key, fingerprint]"),
])
def test_an_edited_record_says_what_is_wrong(record, problem):
    with pytest.raises(ValueError) as raised:
        created_documents(record, "w")
    assert str(raised.value) == problem


def _nested(inner: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["refs", "keys", "digests"]), inner))


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=3)), _nested,
                    max_leaves=12))
def test_any_record_is_read_or_refused_with_a_reason(record):
    try:
        created_documents(record, "w")
    except ValueError as exc:
        assert str(exc).startswith("w")


def test_long_keys_are_kept_shortened_when_a_batch_of_them_would_be_long():
    """Keys are only shown: a batch whose keys average more than KEY_KEPT characters keeps that many of each."""
    long, short = "É" * 10_000, [f"C{k}" for k in range(100)]
    for keys, expected in (([long], [long[:KEY_KEPT]]), ([long, *short], [long, *short])):
        written = Written()
        docs = [created("customers", key, {"name": key}, n + 1) for n, key in enumerate(keys)]
        written.note(docs, [{}] * len(docs), [CREATED] * len(docs))
        record = orjson.loads(orjson.dumps(written.as_dict()))["created"]["customers"]
        assert [key for _, key, _ in created_documents(record, "x")] == expected
