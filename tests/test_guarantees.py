"""Promises of the README's Guarantees section that are not tested elsewhere: limits, full or
read-only disks, file permissions, secrets."""
from __future__ import annotations

import errno
import json
import os
import stat

import pytest

from conftest import read_store, write_csv

ROWS = [{"Customer ID": f"C{i}", "Customer name": f"Name {i}"} for i in range(5)]


@pytest.mark.parametrize("limit, message", [
    ("rows=3", "line 5: more than 3 data rows in one run (raise the limit with --limit rows=N)"),
    ("columns=10", "the header has 21 columns, more than the limit of 10"),
    ("file_size=100", "more than the limit of 100 (raise it with --limit file_size=N)"),
    ("value_length=5", "line 2 column 'Customer name': a value of 6 characters, more than the limit of 5"),
])
def test_limits_give_a_clear_error_and_can_be_raised(etl, tmp_path, limit, message):
    write_csv(tmp_path / "in.csv", ROWS)
    result = etl("run", "in.csv", "--limit", limit)
    assert result.code == 2 and message in result.err and "in.csv" in result.err
    store = tmp_path / "etl-db.json"
    assert not store.exists() or "customers" not in read_store(store)
    assert etl("run", "in.csv", "--limit", limit.split("=")[0] + "=100000").code == 0


def test_a_bad_limit_is_a_usage_error(etl, tmp_path):
    write_csv(tmp_path / "in.csv", ROWS)
    assert "unknown limit 'speed'" in etl("run", "in.csv", "--limit", "speed=3").err
    assert "must be a whole number > 0" in etl("run", "in.csv", "--limit", "rows=-1").err


def test_ten_thousand_columns_stop_at_the_column_limit(etl, tmp_path):
    (tmp_path / "wide.csv").write_text(";".join(f"c{i}" for i in range(10_000)) + "\n" + ";" * 9_999 + "\n")
    result = etl("run", "wide.csv")
    assert result.code == 2 and "10,000 columns" in result.err


@pytest.mark.parametrize("error", [errno.ENOSPC, errno.EROFS])
def test_a_full_or_read_only_disk_leaves_the_store_intact_and_no_temporary_file(etl, tmp_path, monkeypatch, error):
    from etl.connectors import storefile

    write_csv(tmp_path / "a.csv", ROWS[:2])
    assert etl("run", "a.csv").code == 0
    before = (tmp_path / "etl-db.json").read_bytes()
    real_fsync = os.fsync

    def failing_fsync(fd):
        if os.fstat(fd).st_size > 0 and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(error, os.strerror(error))
        return real_fsync(fd)

    monkeypatch.setattr(storefile.os, "fsync", failing_fsync)
    write_csv(tmp_path / "b.csv", ROWS)
    result = etl("run", "b.csv")
    assert result.code == 2 and os.strerror(error) in result.err and "etl-db.json" in result.err
    assert (tmp_path / "etl-db.json").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_target_folder_that_cannot_be_written(etl, tmp_path):
    write_csv(tmp_path / "a.csv", ROWS)
    result = etl("run", "a.csv", "--target", "/proc/etl-db.json")
    assert result.code == 2 and "/proc/etl-db.json" in result.err and "Traceback" not in result.err


def test_store_and_report_are_created_within_the_umask(etl, tmp_path):
    old = os.umask(0o077)
    try:
        write_csv(tmp_path / "a.csv", ROWS)
        assert etl("run", "a.csv", "--report", "r.json", "--rejects", "rej.csv").code == 0
    finally:
        os.umask(old)
    assert not (tmp_path / "etl-db.json.lock").exists()
    for name in ("etl-db.json", "r.json", "rej.csv"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) & 0o077 == 0, name


def test_secrets_never_appear_in_output_reports_history_or_rejects(etl, tmp_path, monkeypatch):
    from http_server import JsonStore, LocalHttpServer

    monkeypatch.setenv("API_TOKEN", "s3cr3t-t0ken")
    write_csv(tmp_path / "a.csv", [{"Customer ID": "C1", "Customer name": "Acme", "Contact email": "bad"}])
    with LocalHttpServer(JsonStore()) as server:
        url = server.url.replace("http://", "http://user:hunter2@")
        result = etl("run", "a.csv", "--sink", "http", "--target", url, "--sink-option",
                     "header=X-Api-Key: ${API_TOKEN}", "--report", "r.json", "--rejects", "rej.csv", "--verbose")
    write_csv(tmp_path / "b.csv", [{"Customer ID": "C2", "Customer name": "Beta"}])
    etl("run", "b.csv", "--sink-option", "header=Authorization: Bearer s3cr3t-t0ken")  # refused: tinydb has no header
    etl("run", "b.csv")
    history = json.dumps(read_store(tmp_path / "etl-db.json"))
    for text in (result.out, result.err, (tmp_path / "r.json").read_text(), (tmp_path / "rej.csv").read_text(),
                 history):
        assert "s3cr3t-t0ken" not in text and "hunter2" not in text


def test_rejects_neutralise_formulas_and_import_again_unchanged(etl, tmp_path):
    import csv

    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "=HYPERLINK(\"x\")",
                                     "Contact email": "@bad", "Contact phone": "+33 1 23",
                                     "Default payment period": "-5"}])
    assert etl("run", "in.csv", "--rejects", "rej.csv").code == 2
    with open(tmp_path / "rej.csv", newline="") as handle:
        row = list(csv.reader(handle, delimiter=";"))[1]
    assert row[1] == "'=HYPERLINK(\"x\")" and row[14] == "'@bad" and row[17] == "'+33 1 23" and row[11] == "'-5"
    fixed = (tmp_path / "rej.csv").read_text().replace("'@bad", "ok@x.example").replace("'-5", "30")
    (tmp_path / "fixed.csv").write_text(fixed)
    assert etl("run", "fixed.csv").code == 0
    store = read_store(tmp_path / "etl-db.json")
    assert store["customers"][0]["name"] == "=HYPERLINK(\"x\")" and store["contacts"][0]["phone"] == "+33 1 23"
    assert etl("run", "in.csv", "--rejects", "raw.csv", "--raw-rejects").code == 2
    assert "\n" in (tmp_path / "raw.csv").read_text() and ";@bad;" in (tmp_path / "raw.csv").read_text()


def test_a_file_mostly_rejected_stops_at_the_errors_limit(etl, tmp_path):
    write_csv(tmp_path / "bad.csv", [{"Customer ID": f"C{i}", "Customer name": "A", "Contact email": "nope"}
                                     for i in range(6000)])
    result = etl("run", "bad.csv", "--limit", "errors=100")
    assert result.code == 2 and "lines read are rejected, more than the limit of 100" in result.err
    assert "bad.csv: line 5001:" in result.err  # checked after each batch of 5,000 lines
    assert etl("run", "bad.csv", "--limit", "errors=10000", "--sink", "json").code == 2  # every line rejected
