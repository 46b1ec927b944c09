"""What an outside attacker's files, names and values can make etl print or write, and what it
must hold against it: secrets from the environment never shown, control characters never
reaching the terminal raw, rejects files that no spreadsheet runs, workbooks that must not
kill the process."""
from __future__ import annotations

import json
import random
import socket

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import read_report, read_store, write_csv

SECRET_URL_PART = "pathS3cretX9"
SECRET_TOKEN = "tokS3cretQ7"
SECRET_WORKFLOW = "WorkflowS3cretK2"
SECRETS = (SECRET_URL_PART, SECRET_TOKEN, SECRET_WORKFLOW)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


@pytest.fixture
def secret_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRM_URL", f"http://127.0.0.1:{free_port()}/{SECRET_URL_PART}")
    monkeypatch.setenv("CRM_TOKEN", SECRET_TOKEN)
    monkeypatch.setenv("WORKFLOW", SECRET_WORKFLOW)


# ${VAR} values of a batch config


def test_a_var_target_never_shows_in_a_cannot_reach_message(etl, tmp_path, secret_environment) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    (tmp_path / "jobs.toml").write_text(
        '[[jobs]]\nname = "crm"\ninput = "in.csv"\nsink = "http"\ntarget = "${CRM_URL}"\n'
        'sink_options = { header = "Authorization: Bearer ${CRM_TOKEN}", retries = 0 }\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "cannot reach ***: ConnectError" in result.err
    assert_no_secret(result.out, result.err)


def test_a_var_rule_option_never_shows_in_report_rejects_or_history(etl, tmp_path, secret_environment) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A", "Workflow's name": "Other"},
                                    {"Customer ID": "C2", "Customer name": "B", "Workflow's name": SECRET_WORKFLOW}])
    (tmp_path / "jobs.toml").write_text(
        '[[jobs]]\nname = "wf"\ninput = "in.csv"\ntarget = "store.json"\nreport = "r.json"\n'
        'rejects = "rej.csv"\nrule_options = { known_workflows = ["${WORKFLOW}"] }\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 1
    report = read_report(tmp_path / "r.json")
    assert report["errors"][0]["line"] == 2 and "***" in report["errors"][0]["message"]
    history = json.dumps(read_store(tmp_path / "store.json")["imports"])
    assert "***" in history
    assert_no_secret(result.out, result.err, json.dumps(report), (tmp_path / "rej.csv").read_text(), history)
    history_output = etl("history", "--target", "store.json")
    shown = etl("history", "show", "1", "--target", "store.json", "--rejects", "again.csv")
    assert_no_secret(history_output.out, shown.out, shown.err, (tmp_path / "again.csv").read_text())
    assert read_store(tmp_path / "store.json")["customers"][0]["workflow"] == SECRET_WORKFLOW  # the data is kept


def test_a_var_in_a_bad_config_never_shows(etl, tmp_path, secret_environment) -> None:
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "x"\ninput = "${CRM_TOKEN}/*.csv"\n'
                                        '[[jobs]]\nname = "y"\ninput = "in.csv"\nmapping = "${WORKFLOW}.toml"\n')
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "no file matches" in result.err
    assert_no_secret(result.out, result.err)
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "y"\ninput = "in.csv"\nmapping = "${WORKFLOW}.toml"\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 2 and "***" in result.err
    assert_no_secret(result.out, result.err)


def test_short_var_values_are_not_masked(etl, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("DAYS", "30")
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "d"\ninput = "in.csv"\nreport = "r.json"\n'
                                        'settings = { default_payment_period = "${DAYS}" }\n')
    assert etl("batch", "jobs.toml").code == 0


# URL passwords given to file sinks


@pytest.mark.parametrize("target", [
    "https://user:pw5ecret@host/x.json",
    "user:pw5ecret@host/x.json",
    "ftp://user:pw5ecret@host/x",
    "https://user:pw%35ecret@host/x.json",
])
@pytest.mark.parametrize("sink", ["json", "tinydb"])
def test_a_url_password_given_to_a_file_sink_never_shows(etl, tmp_path, target: str, sink: str) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    result = etl("run", "in.csv", "--sink", sink, "--target", target, "--report", "r.json")
    assert result.code == 2 and "user:***@host" in result.err  # no folder user:...@host here
    assert "pw5ecret" not in result.err + result.out and "pw%35ecret" not in result.err + result.out


def test_a_file_named_like_a_url_with_a_password_is_masked_in_the_history(etl, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    assert etl("run", "in.csv", "--target", "user:pw5ecret@host").code == 0
    assert read_store(tmp_path / "user:pw5ecret@host")["imports"][0]["target"] == "user:***@host"


# Control characters never reach the terminal raw


FORGERIES = {
    "newline": "a\netl: all good\n",
    "carriage return": "a\retl: all good",
    "escape": "a\x1b[2J\x1b]0;title\x07",
    "C1 controls": "a\x85etl: all good\x9b31m",
    "delete": "a\x7fb",
    "line separator": "a\u2028etl: all good\u2029",
    "bidi override": "a\u202egnp.exe\u202c\u2066\u200f",
}
RAW = ("\n", "\r", "\x1b", "\x07", "\x85", "\x9b", "\x7f", "\u2028", "\u2029", "\u202e", "\u2066", "\u200f")


def assert_escaped(text: str) -> None:
    """Nothing raw but the newlines ending etl's own lines, and no forged line."""
    for line in text.split("\n"):
        assert not any(char in line for char in RAW), repr(line)
        assert line.strip() != "etl: all good"


def test_printable_escapes_every_control() -> None:
    from etl.terminal import printable

    assert printable("a\nb\tc\rd\x1b\x00\x7f\x85\x9f\u2028\u2029\u202e\u2066\u200e\u061c é € 日本") == (
        "a\\nb\\tc\\rd\\x1b\\x00\\x7f\\x85\\x9f\\u2028\\u2029\\u202e\\u2066\\u200e\\u061c é € 日本")


@given(st.text())
def test_printable_leaves_no_control_and_keeps_the_rest(text: str) -> None:
    from etl.terminal import CONTROLS, printable

    shown = printable(text)
    assert not CONTROLS.search(shown) and printable(shown) == shown
    assert shown == text or CONTROLS.search(text)


EVERY_CONTROL = [chr(c) for c in [*range(0x20), *range(0x7f, 0xa0), 0x61c, 0x200e, 0x200f, 0x2028, 0x2029,
                                  *range(0x202a, 0x202f), *range(0x2066, 0x206a)] if c not in (0, 0x2f)]


@pytest.mark.slow
@pytest.mark.parametrize("char", random.Random(15).sample(EVERY_CONTROL, 24), ids=lambda c: f"U+{ord(c):04X}")
def test_a_file_name_with_any_control_is_printed_escaped(etl, tmp_path, char: str) -> None:
    name = f"in{char}etl: all good.csv"
    write_csv(tmp_path / name, [{"Customer ID": "C1", "Customer name": "A", "Contact email": f"x{char}@bad"},
                                {"Customer ID": "C2", "Customer name": "B"}])
    result = etl("run", name)
    assert result.code in (1, 2) and char not in result.err


@pytest.mark.parametrize("text", FORGERIES.values(), ids=FORGERIES.keys())
def test_a_file_name_with_controls_is_printed_escaped(etl, tmp_path, text: str) -> None:
    name = f"in{text}.csv"
    write_csv(tmp_path / name, [{"Customer ID": "C1", "Customer name": "A", "Contact email": "bad"},
                                {"Customer ID": "C2", "Customer name": "B"}])
    result = etl("run", name)
    assert result.code == 1 and "in" in result.err
    assert_escaped(result.err)
    missing = etl("run", f"no{text}.csv")
    assert missing.code == 2 and "no such file" in missing.err
    assert_escaped(missing.err)


@pytest.mark.parametrize("text", FORGERIES.values(), ids=FORGERIES.keys())
def test_cells_and_titles_with_controls_are_printed_escaped(etl, tmp_path, text: str) -> None:
    header = ["Customer ID", "Customer name", "Contact email", f"Note{text}"]
    filler = [[f"F{i}", f"Filler customer {i}", f"filler{i}@example.com", "n"] for i in range(50)]  # not binary
    write_csv(tmp_path / "in.csv", [["C1", "A", f"x{text}@bad", "n"], ["C2", f"B{text}", "ok@example.com", "n"],
                                    *filler], header)
    result = etl("run", "in.csv", "--verbose", "--rule-option", f"known_workflows=W{text}")
    assert result.code == 1 and ": not a valid email address" in result.err
    assert_escaped(result.err)
    mapped = etl("map", "in.csv")
    assert mapped.code == 0 and "Note" in mapped.out
    assert_escaped(mapped.out + mapped.err)
    history = etl("history")
    shown = etl("history", "show", "1")
    assert_escaped(history.out + history.err + shown.out + shown.err)


@pytest.mark.parametrize("text", [FORGERIES["newline"], FORGERIES["escape"], FORGERIES["bidi override"]])
def test_a_batch_prints_file_names_escaped(etl, tmp_path, text: str) -> None:
    write_csv(tmp_path / f"a{text}.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    (tmp_path / "jobs.toml").write_text('[[jobs]]\nname = "j"\ninput = "a*.csv"\n')
    result = etl("batch", "jobs.toml")
    assert result.code == 0 and len(result.out.splitlines()) == 2
    assert_escaped(result.out + result.err)


def test_usage_errors_are_printed_escaped(etl) -> None:
    result = etl("run", "a.csv", "--no-such\x1b[2J\netl: all good")
    assert result.code == 2 and "No such option" in result.err
    assert_escaped(result.err)
    result = etl("run", "a.csv", "--limit", "rows\x1b=1")
    assert result.code == 2
    assert_escaped(result.err)


def test_a_server_message_with_controls_is_printed_escaped(etl, tmp_path, monkeypatch) -> None:
    from http_server import LocalHttpServer, Reply

    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    write_csv(tmp_path / "in.csv", [{"Customer ID": "C1", "Customer name": "A"}])
    with LocalHttpServer(lambda request: Reply(422, {"message": "no\x1b[31m\u2028etl: all good\x07"})) as server:
        result = etl("run", "in.csv", "--sink", "http", "--target", server.url)
    assert result.code == 2 and "rejected by the server (422)" in result.err
    assert_escaped(result.err)


def test_the_progress_line_is_escaped() -> None:
    import io

    from etl.progress import Progress

    stream = io.StringIO()
    progress = Progress(stream, interval=0)
    progress._draw("a\x1b[2Jb\n")
    assert stream.getvalue() == "\ra\\x1b[2Jb\\n"


# Rejects files: the header is neutralised too, and still maps when imported again


FORMULA_HEADER = ["Customer ID", "=Customer name", "-Contact email", "+Contact phone", "@Note", "=HYPERLINK(\"x\")"]


def formula_rows() -> list[list[str]]:
    return [["C1", "Acme", "bad", "+33 1 23", "n", "=1+1"], ["C2", "Beta", "b@example.com", "", "n", ""]]


def read_rejects(path) -> list[list[str]]:
    import csv

    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=";"))


@pytest.mark.parametrize("mapping", [None, {"=Customer name": "customer_name", "-Contact email": "contact_email",
                                            "+Contact phone": "contact_phone", "@Note": ""}])
def test_a_rejects_header_is_neutralised_and_imports_again_unchanged(etl, tmp_path, mapping) -> None:
    write_csv(tmp_path / "in.csv", formula_rows(), FORMULA_HEADER)
    options = []
    if mapping:
        (tmp_path / "map.json").write_text(json.dumps(mapping))
        options = ["--mapping", "map.json"]
    assert etl("run", "in.csv", "--rejects", "rej.csv", "--report", "r1.json", *options).code == 1
    header, row = read_rejects(tmp_path / "rej.csv")
    assert header == ["Customer ID", "'=Customer name", "'-Contact email", "'+Contact phone", "'@Note",
                      "'=HYPERLINK(\"x\")", "Error"]
    assert row[5] == "'=1+1"
    fixed = (tmp_path / "rej.csv").read_text(encoding="utf-8").replace(";bad;", ";a@example.com;")
    (tmp_path / "fixed.csv").write_text(fixed, encoding="utf-8")
    again = etl("run", "fixed.csv", "--report", "r2.json", "--rejects", "rej2.csv", *options)
    assert again.code == 0
    first, second = read_report(tmp_path / "r1.json"), read_report(tmp_path / "r2.json")
    links = [[(m["column"], m["field"]) for m in report["mapping"]] for report in (first, second)]
    assert links[0] == links[1]
    contacts = {c["email"]: c for c in read_store(tmp_path / "etl-db.json")["contacts"]}
    assert contacts["a@example.com"]["phone"] == "+33 1 23"


def test_the_history_writes_the_rejects_header_neutralised(etl, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", formula_rows(), FORMULA_HEADER)
    assert etl("run", "in.csv").code == 1
    assert etl("history", "show", "1", "--rejects", "again.csv").code == 0
    assert read_rejects(tmp_path / "again.csv")[0][1:3] == ["'=Customer name", "'-Contact email"]


def test_raw_rejects_keep_the_header_as_read(etl, tmp_path) -> None:
    write_csv(tmp_path / "in.csv", formula_rows(), FORMULA_HEADER)
    assert etl("run", "in.csv", "--rejects", "raw.csv", "--raw-rejects").code == 1
    assert read_rejects(tmp_path / "raw.csv")[0][:6] == FORMULA_HEADER


def test_an_xlsx_rejects_header_is_neutralised_and_imports_again(etl, tmp_path) -> None:
    from openpyxl import load_workbook

    write_csv(tmp_path / "in.csv", formula_rows(), FORMULA_HEADER)
    assert etl("run", "in.csv", "--rejects", "rej.xlsx").code == 1
    sheet = load_workbook(tmp_path / "rej.xlsx").active
    assert [cell.value for cell in sheet[1]][1:3] == ["'=Customer name", "'-Contact email"]
    sheet.cell(2, 3).value = "a@example.com"
    sheet.parent.save(tmp_path / "fixed.xlsx")
    assert etl("run", "fixed.xlsx").code == 0


# A workbook's shared strings never kill the process


LYING_STRINGS = {
    "both counts": ('count="2000000000" uniqueCount="2000000000"', "utf-8"),
    "uniqueCount alone": ('uniqueCount="2000000000"', "utf-8"),
    "single quotes and spaces": ("uniqueCount = '2000000000' count='4'", "utf-8"),
    "leading zeros": ('uniqueCount="0002000000000"', "utf-8"),
    "beyond 64 bits": ('uniqueCount="18446744073709551615"', "utf-8"),
    "just past the slack": ('uniqueCount="1000009"', "utf-8"),
    "UTF-16": ('uniqueCount="2000000000"', "utf-16"),
}


@pytest.mark.parametrize(("start_tag", "encoding"), LYING_STRINGS.values(), ids=LYING_STRINGS.keys())
def test_shared_strings_claiming_too_many_texts_end_in_one_line(tmp_path, start_tag: str, encoding: str) -> None:
    from conftest import etl_process
    from test_excel_format import shared_strings_workbook

    shared_strings_workbook(tmp_path / "in.xlsx", start_tag, encoding=encoding)
    result = etl_process("run", "in.xlsx", "--sink", "json", cwd=tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1, result.err
    assert "in.xlsx: the workbook's shared strings claim" in result.err or "not a valid Excel file" in result.err


@pytest.mark.parametrize("start_tag", ['count="2000000000" uniqueCount="4"', 'uniqueCount="1000008"', "",
                                       'uniqueCount="-5"', 'uniqueCount="4" x:uniqueCount="9999999999"'])
def test_shared_strings_within_bounds_read_as_usual(tmp_path, start_tag: str) -> None:
    from etl.connectors.excel_format import open_excel, register_readers
    from test_excel_format import shared_strings_workbook

    table = open_excel(shared_strings_workbook(tmp_path / "in.xlsx", start_tag), register_readers()[0].load_options({}))
    try:
        assert table.header == ["Customer ID", "Customer name"]
    finally:
        table.close()
