"""Every line accounted for: read == imported + rejected, on every sink, and every imported line
really is in the store; rejects files parse again with the same mapping (property-based)."""
from __future__ import annotations

import csv
import json
import random
import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import read_store, write_csv
from http_server import JsonStore, LocalHttpServer

import etl
from etl.errors import EtlError
from etl.connectors.csv_format import open_csv, register_readers
from etl.mapping import propose
from etl.plugins.fields import FIELDS


def generated_rows(n_customers: int, seed: int, bad_share: float = 0.04) -> list[dict[str, str]]:
    """Customers with 1-3 contacts each; a few lines carry a bad value."""
    rng = random.Random(seed)
    rows = []
    for c in range(n_customers):
        for k in range(rng.randint(1, 3)):
            row = {"Customer ID": f"C{c}", "Contact email": f"p{c}.{k}@example.com",
                   "Contact Position": rng.choice(["SALES", "payer", "Buyer", ""])}
            if k == 0:
                row.update({"Customer name": f"Société {c}", "Town": rng.choice(["Paris", "Lyon", "Zürich"]),
                            "Default payment period": str(rng.choice([0, 30, 45]))})
            if rng.random() < bad_share:
                row[rng.choice(["Contact email", "Contact Position", "Default payment period"])] = "??"
            rows.append(row)
    return rows


def imported_keys(rows: list[dict[str, str]], rejected_lines: set[int]) -> tuple[set[str], set[str]]:
    """Customer IDs and contact emails of the lines that were not rejected (line = index + 2)."""
    kept = [r for i, r in enumerate(rows) if i + 2 not in rejected_lines]
    return {r["Customer ID"] for r in kept}, {r["Contact email"] for r in kept}


def check_accounting(report, rows, rejects_path, stored_ids, stored_emails):
    counts = report.as_dict()["rows"]
    assert counts["read"] == len(rows) == counts["imported"] + counts["rejected"]
    assert 0 < counts["rejected"] < len(rows) * 0.3
    with open(rejects_path, newline="") as handle:
        assert len(list(csv.reader(handle, delimiter=";"))) - 1 == counts["rejected"]
    ids, emails = imported_keys(rows, report.rejected_lines)
    assert ids <= stored_ids and emails <= stored_emails
    assert not ({r["Contact email"] for i, r in enumerate(rows) if i + 2 in report.rejected_lines
                 and r["Contact email"] != "??"} - {r["Contact email"] for i, r in enumerate(rows)
                                                  if i + 2 not in report.rejected_lines}) & stored_emails


@pytest.fixture(scope="module")
def rows():
    return generated_rows(600, seed=11)


def test_tinydb(rows, tmp_path):
    write_csv(tmp_path / "in.csv", rows)
    report = etl.run(tmp_path / "in.csv", target=tmp_path / "db.json", rejects=tmp_path / "rej.csv")
    store = read_store(tmp_path / "db.json")
    check_accounting(report, rows, tmp_path / "rej.csv", {c["external_id"] for c in store["customers"]},
                     {c["email"] for c in store["contacts"]})


def test_json(rows, tmp_path):
    write_csv(tmp_path / "in.csv", rows)
    report = etl.run(tmp_path / "in.csv", sink="json", target=tmp_path / "o.json", rejects=tmp_path / "rej.csv")
    out = json.loads((tmp_path / "o.json").read_text())
    check_accounting(report, rows, tmp_path / "rej.csv", {c["external_id"] for c in out["customers"]},
                     {c["email"] for c in out["contacts"]})


def test_http(rows, tmp_path):
    write_csv(tmp_path / "in.csv", rows)
    store = JsonStore()
    with LocalHttpServer(store) as server:
        report = etl.run(tmp_path / "in.csv", sink="http", target=server.url, rejects=tmp_path / "rej.csv")
    docs = list(store.documents.values())
    check_accounting(report, rows, tmp_path / "rej.csv", {d["external_id"] for d in docs if "external_id" in d
                                                          and "email" not in d},
                     {d["email"] for d in docs if "email" in d})


def test_sqlite(rows, tmp_path):
    write_csv(tmp_path / "in.csv", rows)
    report = etl.run(tmp_path / "in.csv", sink="sqlite", target=str(tmp_path / "crm.db"),
                     rejects=tmp_path / "rej.csv")
    with sqlite3.connect(tmp_path / "crm.db") as db:
        query = "select json_extract(data, ?) from documents where kind = ?"
        ids = {r[0] for r in db.execute(query, ("$.external_id", "customers"))}
        emails = {r[0] for r in db.execute(query, ("$.email", "contacts"))}
    check_accounting(report, rows, tmp_path / "rej.csv", ids, emails)


CELL = st.one_of(st.sampled_from(["", "C1", "C2", "Acme", "a@x.example", "bad", "SALES", "CEO", "30", "-5", "1",
                                  "=1+1", "+33 1", "@x", " ", "é;|,\"\n"]),
                 st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(CELL, min_size=6, max_size=6), min_size=1, max_size=8), st.sampled_from([";", ",", "|"]))
def test_any_rejects_file_parses_again_with_the_same_mapping(tmp_path_factory, rows, delimiter):
    folder = tmp_path_factory.mktemp("rej")
    header = ["Customer ID", "Customer name", "Contact email", "Contact Position", "Default payment period",
              "Main contact"]
    write_csv(folder / "in.csv", rows, header=header, delimiter=delimiter)
    try:
        report = etl.run(folder / "in.csv", sink="json", target=folder / "o.json", rejects=folder / "rej.csv")
    except EtlError:
        return  # e.g. nothing but blank lines: refused as a whole, no rejects file
    if not report.errors:
        return
    table = open_csv(folder / "rej.csv", register_readers()[0].load_options({"delimiter": delimiter}))
    assert table.header == [*header, "Error"]
    back = [values[:-1] for _, values in table.rows()]
    assert len(back) == report.rejected and all(len(values) == len(header) for values in back)
    fields = [m.field for m in propose(table.header[:-1], FIELDS).columns]
    assert fields == [m.field for m in propose(header, FIELDS).columns]


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_end_in_a_clear_error_or_a_report(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "in.csv"
    path.write_bytes(data)
    try:
        etl.run(path, sink="json", target=path.with_suffix(".json"), dry_run=True)
    except EtlError as exc:
        assert str(exc) and "\n" not in str(exc)
