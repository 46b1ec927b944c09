"""`etl run` end to end: example file, sinks, report, rejects, dry run, exit codes."""
from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from conftest import EXAMPLE, HEADER, read_report, read_store, write_csv

UNUSED_AT_START = ("sqlite3", "tinydb", "etl.connectors.sqlite_store", "etl.connectors.tinydb_store", "multiprocessing",
                   "ctypes", "concurrent.futures", "etl.executor_backends")
"""Modules a run loads only when it uses them: the stores' libraries, the reading-ahead and batch machinery."""


def customer(cid: str, name: str = "", email: str = "", **extra: str) -> dict[str, str]:
    row = {"Customer ID": cid, "Customer name": name, "Contact email": email}
    row.update({k.replace("_", " "): v for k, v in extra.items()})
    return row


def test_example_imports_into_the_default_tinydb_store(etl, tmp_path):
    result = etl("run", EXAMPLE)
    assert result.code == 0, result.err
    store = read_store(tmp_path / "etl-db.json")
    assert len(store["customers"]) == 17
    assert len(store["contacts"]) == 27
    lyon = next(c for c in store["customers"] if c["external_id"] == "DUP-LYO")
    assert lyon["group_external_id"] == "GRP-001" and lyon["group_name"] == "Dupont Holding"
    assert lyon["payment_period_days"] == 30
    nice = next(c for c in store["customers"] if c["external_id"] == "C-1012")
    assert nice["postal_code"] == "06000"
    assert "29 lines read: 29 imported, 0 rejected." in result.err


@pytest.mark.parametrize("sink, used", [("json", set()), ("tinydb", {"tinydb", "etl.connectors.tinydb_store"}),
                                        ("sqlite", {"sqlite3", "etl.connectors.sqlite_store"})])
def test_a_small_run_loads_only_the_modules_it_uses(tmp_path, sink, used):
    code = (f"import sys\nsys.argv = ['etl', 'run', {str(EXAMPLE)!r}, '--sink', {sink!r}, '--quiet']\n"
            "from etl.cli import main\ntry:\n    main()\nexcept SystemExit as exit:\n    assert not exit.code, exit\n"
            f"print(sorted(set({UNUSED_AT_START!r}) & set(sys.modules)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.stdout.strip() == str(sorted(used)), result.stdout + result.stderr


def test_json_sink_report_and_rejects(etl, tmp_path):
    source = write_csv(tmp_path / "clients.csv", [
        customer("C1", "Acme", "a@acme.example", **{"Contact Position": "SALES"}),
        customer("C1", "", "b@acme.example", **{"Contact Position": "CEO"}),
        customer("C2", "Beta", "not-an-email"),
    ], delimiter=",", encoding="cp1252")
    result = etl("run", source, "--reader", "csv", "--sink", "json", "--target", "out.json",
                 "--report", "report.json", "--rejects", "rejects.csv")
    assert result.code == 1
    out = json.loads((tmp_path / "out.json").read_text())
    assert [c["external_id"] for c in out["customers"]] == ["C1", "C2"]
    assert [c["email"] for c in out["contacts"]] == ["a@acme.example"]
    report = read_report(tmp_path / "report.json")
    assert report["status"] == "partial"
    assert report["rows"] == {"read": 3, "imported": 1, "rejected": 2}
    assert report["customers"]["created"] == 2 and report["contacts"]["rejected"] == 2
    assert [(e["line"], e["column"], e["value"]) for e in report["errors"]] == [
        (3, "Contact Position", "CEO"), (4, "Contact email", "not-an-email")]
    with open(tmp_path / "rejects.csv", newline="", encoding="cp1252") as handle:
        rows = list(csv.reader(handle, delimiter=","))
    assert rows[0] == HEADER + ["Error"]
    assert [r[14] for r in rows[1:]] == ["b@acme.example", "not-an-email"]
    assert "Contact Position: unknown position" in rows[1][-1]


def test_rejects_file_imports_again_once_fixed(etl, tmp_path):
    source = write_csv(tmp_path / "in.csv", [customer("C1", "Acme", "a@acme.example"), customer("C2", "Beta", "bad")])
    assert etl("run", source, "--rejects", "rejects.csv").code == 1
    text = (tmp_path / "rejects.csv").read_text().replace("bad;", "ok@beta.example;")
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(text)
    assert etl("run", fixed).code == 0
    assert {c["email"] for c in read_store(tmp_path / "etl-db.json")["contacts"]} == {"a@acme.example", "ok@beta.example"}


def test_dry_run_writes_nothing_and_reports_what_would_change(etl, tmp_path):
    result = etl("run", EXAMPLE, "--dry-run", "--report", "r.json")
    assert result.code == 0
    assert not (tmp_path / "etl-db.json").exists()
    report = read_report(tmp_path / "r.json")
    assert report["dry_run"] is True and report["customers"]["created"] == 17
    assert "would be created" in result.err


def test_every_line_rejected_exits_2_and_imports_nothing(etl, tmp_path):
    source = write_csv(tmp_path / "in.csv", [customer("C1", "Acme", **{"Default payment period": "soon"}),
                                             customer("", "", "x@y.example")])
    result = etl("run", source)
    assert result.code == 2
    store = read_store(tmp_path / "etl-db.json")
    assert [e["status"] for e in store["imports"]] == ["failed"] and set(store) == {"imports"}
    etl("run", source, "--sink", "json", "--target", "out.json")
    assert not (tmp_path / "out.json").exists()


def test_ragged_line_is_rejected_with_its_counts_and_the_others_import(etl, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("Customer ID;Customer name\nC1;Acme\nC2;Beta;extra\nC3;Gamma\n")
    result = etl("run", source, "--report", "r.json")
    assert result.code == 1
    [error] = read_report(tmp_path / "r.json")["errors"]
    assert error["line"] == 3 and "3 fields but the header has 2" in error["message"]
    assert {c["name"] for c in read_store(tmp_path / "etl-db.json")["customers"]} == {"Acme", "Gamma"}


def test_line_numbers_count_physical_lines(etl, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text('Customer ID;Customer name;Address\nC1;Acme;"1 rue\nde Paris"\nC2;Beta;x;y\n')
    etl("run", source, "--report", "r.json")
    assert read_report(tmp_path / "r.json")["errors"][0]["line"] == 4


def test_bad_inputs_give_one_line_and_exit_2(etl, tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "junk.csv").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "nocolumns.csv").write_text("Foo;Bar\n1;2\n")
    for name in ("empty.csv", "junk.csv", "nocolumns.csv", "missing.csv"):
        result = etl("run", name)
        assert result.code == 2, (name, result)
        assert result.err.count("\n") == 1 and name in result.err and "Traceback" not in result.err
    assert not (tmp_path / "etl-db.json").exists()


def test_unknown_extension_and_unknown_sink_are_usage_errors(etl, tmp_path):
    (tmp_path / "in.dat").write_text("Customer name\nAcme\n")
    assert "use --reader" in etl("run", "in.dat").err
    write_csv(tmp_path / "in.csv", [customer("C1", "Acme")])
    result = etl("run", "in.csv", "--sink", "nope")
    assert result.code == 2 and "unknown sink 'nope'" in result.err


def test_python_api_returns_the_cli_report(tmp_path):
    import etl

    report = etl.run(EXAMPLE, sink="json", target=tmp_path / "out.json")
    assert report.status == "success" and report.as_dict()["rows"]["read"] == 29


def test_a_misspelt_option_or_limit_names_the_closest_one(etl, tmp_path):
    write_csv(tmp_path / "in.csv", [customer("C1", "Acme")])
    for option, message in [
        (("--reader-option", "delimter=;"),
         "unknown csv reader option 'delimter' (did you mean 'delimiter'? valid: delimiter, encoding, max_field_size)"),
        (("--sink-option", "lock_timout=5"),
         "unknown tinydb sink option 'lock_timout' (did you mean 'lock_timeout'? valid: lock_timeout)"),
        (("--limit", "row=5"),
         "unknown limit 'row' (did you mean 'rows'? valid: file_size, columns, rows, value_length, errors)"),
        (("--sink", "json", "--sink-option", "colour=red"), "unknown json sink option 'colour' (valid: none)"),
    ]:
        result = etl("run", "in.csv", *option)
        assert result.code == 2 and result.err == f"etl: error: {message}\n"
    assert not (tmp_path / "etl-db.json").exists()
