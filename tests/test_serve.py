"""etl serve, safe by default: each guard tested against a real server on 127.0.0.1 with a request it must refuse."""
from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

for module in ("starlette", "uvicorn", "jinja2", "python_multipart"):
    pytest.importorskip(module, reason="etl serve needs its extra: pip install 'etl[serve]'")

import httpx  # noqa: E402
from conftest import HEADER, read_store, write_csv  # noqa: E402
from serve_server import csrf_of, start  # noqa: E402

from etl.serve.i18n import language  # noqa: E402
from etl.serve.uploads import safe_name  # noqa: E402

GOOD = {"Customer ID": "C1", "Customer name": "Acme", "Contact email": "ana@acme.fr"}
BAD = {"Customer ID": "C2", "Customer name": "Beta", "Contact email": "not an email"}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("serve")
    server = start(tmp, "--target", str(tmp / "store.json"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(served):
    signed_in = served.client()
    yield signed_in
    signed_in.close()


def upload(client: httpx.Client, path: Path, name: str | None = None) -> httpx.Response:
    csrf = csrf_of(client.get("/").text)
    return client.post("/uploads", files={"csrf": (None, csrf), "file": (name or path.name, path.read_bytes())})


def finished(client: httpx.Client, job: str) -> dict:
    for _ in range(600):
        state = client.get(f"{job}/state").json()
        if state["state"] in ("done", "failed"):
            return state
        time.sleep(0.05)
    raise AssertionError(f"{job} did not finish")


def checked(client: httpx.Client, path: Path) -> str:
    """Upload ``path`` and check it with the proposed mapping; the job's URL."""
    location = upload(client, path).headers["location"]
    answer = client.post(f"{location}/check", data={"csrf": csrf_of(client.get(location).text)})
    assert answer.status_code == 303, answer.text
    finished(client, answer.headers["location"])
    return answer.headers["location"]


def test_etl_help_imports_none_of_the_web_stack():
    code = ("import sys\nsys.argv = ['etl', '--help']\nfrom etl.cli import main\ntry:\n    main()\nexcept SystemExit:\n"
            "    pass\nprint(sorted({m.split('.')[0] for m in sys.modules} & {'starlette', 'uvicorn', 'jinja2', "
            "'python_multipart', 'multipart', 'anyio'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "serve" in result.stdout
    assert result.stdout.strip().endswith("[]"), result.stdout


def test_without_the_extra_etl_serve_says_how_to_install_it():
    code = ("import sys\nsys.modules['uvicorn'] = None\nsys.argv = ['etl', 'serve']\nfrom etl.cli import main\n"
            "main()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "pip install 'etl[serve]'" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_upload_limit_is_one_clear_message(etl):
    result = etl("serve", "--max-upload", "lots")
    assert result.code == 2 and "--max-upload: 'lots' is no size" in result.err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.com"])
def test_it_listens_on_loopback_only(etl, host):
    result = etl("serve", "--host", host, "--port", "1")
    assert result.code == 2 and "loopback only" in result.err and "Traceback" not in result.err


def test_a_request_for_another_host_is_refused_even_signed_in(served, client):
    assert client.get("/").status_code == 200
    port = served.base.rsplit(":", 1)[1]
    for host in (f"evil.example:{port}", "127.0.0.1", f"127.0.0.1.evil.example:{port}", f"localhost:{int(port) + 1}"):
        answer = client.get("/", headers={"Host": host})
        assert answer.status_code == 421, host
        assert "Unknown host" in answer.text
    assert client.get("/", headers={"Host": f"localhost:{port}"}).status_code == 200


def test_nothing_is_served_without_the_session_cookie(served):
    anonymous = httpx.Client(base_url=served.base, trust_env=False)
    for path in ("/", "/history", "/static/app.js", "/imports/1/report.json", "/jobs/x/state"):
        answer = anonymous.get(path)
        assert answer.status_code == 403 and "Not signed in" in answer.text, path
    anonymous.cookies.set(f"etl_session_{served.base.rsplit(':', 1)[1]}", "guess")
    assert anonymous.get("/").status_code == 403
    assert anonymous.post("/uploads", files={"file": ("a.csv", b"x;y\n")}).status_code == 403


def test_the_printed_token_signs_in_once(tmp_path):
    server = start(tmp_path)
    try:
        browser = httpx.Client(base_url=server.base, trust_env=False)
        assert browser.get("/login?token=wrong").status_code == 403
        answer = browser.get(server.login_url)
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = answer.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and server.token not in cookie
        assert browser.get("/").status_code == 200
        assert browser.get(server.login_url).headers["location"] == "/"  # signed in already: on to the page
        other = httpx.Client(base_url=server.base, trust_env=False)
        again = other.get(server.login_url)
        assert again.status_code == 403 and "already used" in again.text
        assert other.get("/").status_code == 403
    finally:
        server.stop()


def test_every_post_needs_the_csrf_token_and_the_same_origin(served, client, tmp_path):
    path = write_csv(tmp_path / "in.csv", [GOOD])
    uploads = served.private_folders()[0] / "uploads"
    before = set(uploads.iterdir()) if uploads.exists() else set()
    refused = client.post("/uploads", files={"file": ("in.csv", path.read_bytes())})
    assert refused.status_code == 403 and "security token" in refused.text
    refused = client.post("/uploads", files={"csrf": (None, "wrong"), "file": ("in.csv", path.read_bytes())})
    assert refused.status_code == 403
    assert (set(uploads.iterdir()) if uploads.exists() else set()) == before  # nothing of the file kept
    location = upload(client, path).headers["location"]
    csrf = csrf_of(client.get(location).text)
    assert client.post(f"{location}/check", data={}).status_code == 403
    assert client.post(f"{location}/check", data={"csrf": csrf + "x"}).status_code == 403
    assert client.post(f"{location}/missing", json={"fields": []}).status_code == 403
    assert client.post(f"{location}/check", data={"csrf": csrf},
                       headers={"Origin": "http://evil.example"}).status_code == 403
    assert client.post(f"{location}/check", data={"csrf": csrf},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    missing = client.post(f"{location}/missing", json={"fields": ["contact_email"]}, headers={"X-CSRF-Token": csrf})
    assert missing.status_code == 200 and missing.json()["missing"]
    job = client.post(f"{location}/check", data={"csrf": csrf}, headers={"Origin": served.base})
    assert job.status_code == 303
    finished(client, job.headers["location"])
    assert client.post(job.headers["location"] + "/import", data={}).status_code == 403


def test_uploads_are_capped_in_size_and_parts(tmp_path):
    server = start(tmp_path, "--max-upload", "2K")
    try:
        client = server.client()
        csrf = csrf_of(client.get("/").text)
        big = b"Customer ID;Customer name\n" + b"C1;Acme\n" * 500
        answer = client.post("/uploads", files={"csrf": (None, csrf), "file": ("big.csv", big)})
        assert answer.status_code == 413 and "too large" in answer.text

        def chunks():  # no Content-Length: counted as it comes
            yield b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + csrf.encode() + b"\r\n"
            yield b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n"
            for _ in range(10):
                yield b"x" * 1000

        answer = client.post("/uploads", content=chunks(), headers={"Content-Type": "multipart/form-data; boundary=b"})
        assert answer.status_code == 413
        fields = {f"f{n}": (None, "x") for n in range(6)}
        answer = client.post("/uploads", files={"csrf": (None, csrf), **fields})
        assert answer.status_code == 400 and "too many parts" in answer.text
        two = [("csrf", (None, csrf)), ("file", ("a.csv", b"a;b\n1;2\n")), ("file", ("b.csv", b"a;b\n1;2\n"))]
        answer = client.post("/uploads", files=two)
        assert answer.status_code == 400 and "one file" in answer.text
        assert not any((server.private_folders()[0] / "uploads").iterdir())
    finally:
        server.stop()


def test_cells_and_titles_are_escaped_never_run(client, tmp_path):
    script = "<script>alert(1)</script>"
    header = [*HEADER[:3], f"<b>{script}</b>"]
    path = write_csv(tmp_path / "in.csv", [["C1", script, "x", "\x1b[31mred"], ["C2", "B", "y", "z"]], header=header)
    location = upload(client, path).headers["location"]
    page = client.get(location).text
    assert script not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;" in page and "\x1b" not in page and "\\x1b[31mred" in page


def test_downloads_are_found_by_id_never_by_a_path(client, tmp_path):
    job = checked(client, write_csv(tmp_path / "in.csv", [GOOD, BAD]))
    assert "not an email" in client.get(f"{job}/rejects").text
    imported = client.post(f"{job}/import", data={"csrf": csrf_of(client.get("/").text)}).headers["location"]
    finished(client, imported)
    ref = client.get("/history").text.split('data-import="', 1)[1].split('"', 1)[0]
    assert "not an email" in client.get(f"/imports/{ref}/rejects.csv").text
    assert client.get(f"/imports/{ref}/rejects.xlsx").content.startswith(b"PK")
    assert client.get(f"/imports/{ref}/report.json").json()["rows"]["rejected"] == 1
    for path in (f"{job}/..%2F..%2F..%2Fetc%2Fpasswd", f"{job}/%2Fetc%2Fpasswd", f"{job}/report.json",
                 "/imports/..%2F..%2Fetc%2Fpasswd/report.json", "/imports/abc/report.json",
                 f"/imports/{ref}/rejects.exe", f"/imports/{ref}/rejects.%2Fetc%2Fpasswd",
                 f"/imports/{ref}/..%2F..%2Fsetup.cfg", "/imports/99999/report.json", "/jobs/nope/rejects",
                 "/static/..%2F..%2F..%2Fsetup.cfg", "/static/%2Fetc%2Fpasswd", "/download?path=/etc/passwd"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert "root:" not in answer.text


def test_uploads_stay_in_a_private_folder_removed_after_use(tmp_path):
    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    try:
        client = server.client()
        (private,) = server.private_folders()
        assert stat.S_IMODE(private.stat().st_mode) == 0o700
        job = checked(client, write_csv(tmp_path / "in.csv", [GOOD]))
        (kept,) = (private / "uploads").iterdir()
        assert stat.S_IMODE(kept.stat().st_mode) == 0o700
        assert stat.S_IMODE(next(kept.iterdir()).stat().st_mode) == 0o600
        imported = client.post(f"{job}/import", data={"csrf": csrf_of(client.get("/").text)})
        assert finished(client, imported.headers["location"])["state"] == "done"
        assert not kept.exists()  # imported: gone
        assert client.get(job.replace("/jobs/", "/uploads/")).status_code == 404
        checked(client, write_csv(tmp_path / "other.csv", [GOOD]))  # checked, never imported
    finally:
        server.stop()
    assert server.private_folders() == []  # everything goes with the server


def test_secrets_are_never_rendered(tmp_path):
    secret = "s3cr3t-folder"
    (tmp_path / secret).mkdir()
    config = tmp_path / "jobs.toml"
    config.write_text('[defaults]\ntarget = "${STORE_DIR}/store.json"\n[[jobs]]\nname = "web"\ninput = "in.csv"\n')
    value = str(tmp_path / secret)  # the variable's value, also in a cell and in an error's value (the rejects
    # file alone keeps the lines as they were read, as etl run writes it)
    path = write_csv(tmp_path / "in.csv", [{**GOOD, "Customer name": value}, {**BAD, "Contact email": value}])
    env_server = start(tmp_path, "--config", str(config), env={"STORE_DIR": value})
    try:
        client = env_server.client()
        location = upload(client, path).headers["location"]
        mapping = client.get(location)
        job = client.post(f"{location}/check", data={"csrf": csrf_of(mapping.text)}).headers["location"]
        finished(client, job)
        imported = client.post(f"{job}/import", data={"csrf": csrf_of(client.get("/").text)})
        finished(client, imported.headers["location"])
        pages = [mapping, *(client.get(p) for p in ("/", job, imported.headers["location"], "/history",
                                                     "/imports/1/report.json", f"{imported.headers['location']}/report",
                                                     "/nowhere"))]
        assert (tmp_path / secret / "store.json").exists()
        for page in pages:
            assert secret not in page.text, page.url
        assert "***" in pages[0].text and "***" in pages[1].text and "***" in pages[3].text
    finally:
        env_server.stop()


def test_a_port_in_use_is_said_at_once(etl):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        result = etl("serve", "--port", str(taken.getsockname()[1]))
    assert result.code == 2 and "cannot listen on 127.0.0.1 port" in result.err and "open http" not in result.out


def test_a_broken_store_gives_one_clear_message(tmp_path):
    (tmp_path / "store.json").write_text("{not json")
    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    try:
        answer = server.client().get("/history")
        assert answer.status_code == 400 and "store.json" in answer.text and "Traceback" not in answer.text
    finally:
        assert "Traceback" not in server.stop()


def test_a_checked_file_is_imported_once(client, tmp_path):
    job = checked(client, write_csv(tmp_path / "in.csv", [GOOD]))
    csrf = csrf_of(client.get("/").text)
    first = client.post(f"{job}/import", data={"csrf": csrf})
    second = client.post(f"{job}/import", data={"csrf": csrf})
    assert first.status_code == 303 and second.status_code == 404 and "imported already" in second.text
    assert finished(client, first.headers["location"])["state"] == "done"


def test_the_page_speaks_the_browsers_language(client):
    assert "Choose the file" in client.get("/").text
    assert "Choisir le fichier" in client.get("/", headers={"Accept-Language": "fr-FR,fr;q=0.9,en;q=0.8"}).text
    assert "Choisir le fichier" in client.get("/", headers={"Accept-Language": "de-DE, fr;q=0.5"}).text
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "de, fr;q=0"}).text


def test_bad_files_give_one_clear_message(client, tmp_path):
    pdf = tmp_path / "scan.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    answer = upload(client, pdf)
    assert answer.status_code == 400 and "not a CSV or Excel file" in answer.text
    binary = tmp_path / "data.xlsx"
    binary.write_bytes(b"PK\x03\x04 not really a workbook")
    answer = upload(client, binary)
    assert answer.status_code == 400 and "Traceback" not in answer.text and "data.xlsx: " in answer.text
    assert "etl-serve-" not in answer.text  # the file by its name, not its private path
    answer = upload(client, pdf, name="../../\x1bevil.csv")
    assert answer.status_code in (303, 400) and "\x1b" not in answer.text


def test_language_and_file_names():
    assert language("") == "en" and language("fr") == "fr" and language("en-GB,fr;q=0.8") == "en"
    assert language("fr;q=abc, en;q=0.1") == "en"
    assert safe_name("../../etc/passwd") == "passwd" and safe_name("C:\\Users\\a\\b.csv") == "b.csv"
    assert safe_name("\x1b[31m.csv") == "_[31m.csv" and safe_name("..") == "upload"
    assert len(safe_name("a" * 500 + ".xlsx")) == 100


def test_the_server_keeps_the_last_uploads_only(tmp_path, monkeypatch):
    from etl.serve import uploads

    monkeypatch.setattr(uploads, "UPLOADS_KEPT", 2)
    area = uploads.PrivateFolder()
    try:
        kept = []
        for _ in range(3):
            ident, folder = area.new_folder("uploads")
            kept.append(uploads.Upload(ident, folder, folder / "in.csv"))
            area.keep(kept[-1])
        assert list(area.uploads) == [upload.id for upload in kept[1:]] and not kept[0].folder.exists()
    finally:
        area.remove()


def test_the_server_keeps_the_last_jobs_only(tmp_path, monkeypatch):
    from etl.batch_config import BatchConfig, BatchJob
    from etl.serve import jobs
    from etl.serve.uploads import PrivateFolder, Upload

    monkeypatch.setattr(jobs, "JOBS_KEPT", 2)
    area = PrivateFolder()
    try:
        runner = jobs.Runner(jobs.Settings.of(BatchConfig(tmp_path, []), BatchJob("t", [], {})), area)
        _, folder = area.new_folder("uploads")
        source = write_csv(folder / "in.csv", [GOOD])
        started = []
        for _ in range(4):
            started.append(runner.start(Upload("u", folder, source), {}, dry_run=True))
            while not started[-1].finished:
                time.sleep(0.01)
        assert list(runner.jobs) == [job.id for job in started[-2:]]
        assert not started[0].folder.exists() and started[-1].report["status"] == "success"
    finally:
        area.remove()


def import_kept_waiting(server, tmp_path: Path, lock) -> tuple[httpx.Client, str]:
    """A client, and the URL of an import of ``tmp_path/in.csv`` that runs, waiting for its store: ``lock``,
    taken here, holds it."""
    client = server.client()
    job = checked(client, write_csv(tmp_path / "in.csv", [GOOD]))
    lock.acquire()
    imported = client.post(f"{job}/import", data={"csrf": csrf_of(client.get("/").text)}).headers["location"]
    while client.get(f"{imported}/state").json()["state"] != "running":
        time.sleep(0.02)
    return client, imported


def test_ctrl_c_stops_the_server_and_its_running_import_at_once(tmp_path):
    from etl.connectors.storefile import StoreLock

    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    lock = StoreLock(tmp_path / "store.json", "the store", 30)
    try:
        client, imported = import_kept_waiting(server, tmp_path, lock)  # running when the user stops the server
        started = time.monotonic()
        out = server.stop()
        assert time.monotonic() - started < 20 and "stopped while importing in.csv" in out
        assert "Traceback" not in out
    finally:
        lock.release()
        server.stop()
    assert not (tmp_path / "store.json").exists() and server.private_folders() == []


def test_an_import_whose_process_dies_fails_alone_and_the_server_goes_on(tmp_path):
    from etl.connectors.storefile import StoreLock

    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    lock = StoreLock(tmp_path / "store.json", "the store", 30)
    try:
        client, imported = import_kept_waiting(server, tmp_path, lock)  # in the process started for it
        children = [pid for task in Path(f"/proc/{server.process.pid}/task").glob("*/children")
                    for pid in task.read_text().split()
                    if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]  # not multiprocessing's tracker
        assert len(children) == 1, children
        os.kill(int(children[0]), signal.SIGKILL)  # as the kernel's out-of-memory killer would
        assert finished(client, imported)["state"] == "failed"
        assert "the import stopped unexpectedly (exit code -9)" in client.get(imported).text
        lock.release()
        again = imported_file(client, tmp_path / "in.csv")
        assert 'data-status="success"' in client.get(again).text and read_store(tmp_path / "store.json")["customers"]
    finally:
        lock.release()
        out = server.stop()
    assert "Traceback" not in out

def imported_file(client: httpx.Client, path: Path) -> str:
    """Upload, check and import ``path``; the import's URL, once it finished."""
    job = client.post(f"{checked(client, path)}/import", data={"csrf": csrf_of(client.get("/").text)})
    finished(client, job.headers["location"])
    return job.headers["location"]


def test_the_check_shows_each_record_a_reimport_changes_grouped_by_kind_and_escaped(client, tmp_path):
    imported_file(client, write_csv(tmp_path / "first.csv", [{**GOOD, "Customer ID": "D1", "Customer name": "Delta"}]))
    again = write_csv(tmp_path / "again.csv", [{**GOOD, "Customer ID": "D1", "Customer name": "<b>Delta & Co</b>"},
                                               {**GOOD, "Customer ID": "D2", "Customer name": "Dune"}])
    job = checked(client, again)
    page = client.get(job).text
    changes = page[page.index('<section class="changes"'):]
    assert "customers</strong>:\n      1 seraient modifiés" in client.get(job, headers={"accept-language": "fr"}).text
    assert "What the import would change" in changes
    assert 'data-kind="customers" data-outcome="updated"' in changes
    assert 'data-kind="customers" data-outcome="created"' in changes
    assert changes.index('data-outcome="updated"') < changes.index('data-outcome="created"')
    assert "<del>Delta</del>" in changes and "<ins>&lt;b&gt;Delta &amp; Co&lt;/b&gt;</ins>" in changes
    assert "<b>Delta" not in page and "<code>D2</code>" in changes


def test_a_long_diff_is_capped_and_says_how_many_more():
    from etl.serve.diff import SHOWN_PER_GROUP, grouped_changes

    changes = [{"kind": "customers", "key": f"C{n}", "lines": [n + 2], "outcome": "created"} for n in range(1000)]
    changes.append({"kind": "customers", "key": "X", "lines": [5], "outcome": "updated",
                    "fields": {"name": [None, "x" * 1000]}})
    updated, created = grouped_changes(changes)
    assert (updated.outcome, updated.total, updated.more) == ("updated", 1, 0)
    assert len(updated.shown[0]["fields"][0][2]) == 200 and updated.shown[0]["fields"][0][1] == ""
    assert (created.total, len(created.shown), created.more) == (1000, SHOWN_PER_GROUP, 1000 - SHOWN_PER_GROUP)


def test_an_import_offers_its_success_file_in_the_inputs_format_by_job_and_in_the_history(client, tmp_path):
    source = write_csv(tmp_path / "ok.csv", [{**GOOD, "Customer ID": "S1", "Contact email": "s1@sun.fr"},
                                              {**BAD, "Customer ID": "S2"}])
    check = checked(client, source)
    assert client.get(f"{check}/success").status_code == 404  # a dry run writes none
    job = imported_file(client, source)
    page = client.get(job).text
    assert f'href="{job}/success"' in page and "Download the imported lines" in page
    answer = client.get(f"{job}/success")
    assert answer.status_code == 200 and 'filename="ok-imported.csv"' in answer.headers["content-disposition"]
    assert answer.text.splitlines()[1].endswith(";created;customers;S1") and "S2" not in answer.text, answer.text
    assert f'href="{job}/success"' in client.get("/history").text
    assert client.get("/jobs/nope/success").status_code == 404


def newest_import(client: httpx.Client, path: Path) -> str:
    """Upload, check and import ``path``; the id of its history entry, the newest."""
    imported_file(client, path)
    return client.get("/history").text.split('data-import="', 1)[1].split('"', 1)[0]


def undo_form(history: str, ref: str) -> bool:
    return f'action="/imports/{ref}/undo"' in history


def test_an_import_is_undone_by_its_id_and_the_history_says_so(tmp_path):
    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    try:
        client = server.client()
        first = newest_import(client, write_csv(tmp_path / "first.csv", [GOOD]))
        second = newest_import(client, write_csv(tmp_path / "second.csv", [{**GOOD, "Customer name": "Acme <SA>"}]))
        history = client.get("/history").text
        assert undo_form(history, first) and undo_form(history, second)
        csrf = csrf_of(history)
        answer = client.post(f"/imports/{second}/undo", data={"csrf": csrf})
        assert answer.status_code == 303 and answer.headers["location"].startswith("/history"), answer.text
        assert [c["name"] for c in read_store(tmp_path / "store.json")["customers"]] == ["Acme"]
        history = client.get("/history").text
        undo_row = history.split('data-import="', 1)[1]
        assert "undo of import #" + second in undo_row.split("</tr>", 1)[0]
        undone_row = history.split(f'data-import="{second}"', 1)[1].split("</tr>", 1)[0]
        assert "undone by #" in undone_row and not undo_form(history, second) and undo_form(history, first)
        again = client.post(f"/imports/{second}/undo", data={"csrf": csrf})  # a stale page: the core refuses
        assert again.status_code == 409 and "was already undone" in again.text and "undo-anyway" not in again.text
    finally:
        server.stop()


def test_an_undo_refused_is_said_escaped_and_can_be_forced(tmp_path):
    server = start(tmp_path, "--target", str(tmp_path / "store.json"))
    try:
        client = server.client()
        first = newest_import(client, write_csv(tmp_path / "first.csv", [GOOD]))
        newest_import(client, write_csv(tmp_path / "second.csv", [{**GOOD, "Customer name": "<b>Acme</b>"}]))
        csrf = csrf_of(client.get("/history").text)
        refused = client.post(f"/imports/{first}/undo", data={"csrf": csrf})
        assert refused.status_code == 409
        message = refused.text.split('role="alert">', 1)[1].split("</p>", 1)[0]  # the core's line, escaped
        assert message.startswith(f"import {first} cannot be undone: 2 records changed since: customers &#39;C1&#39;")
        assert "Traceback" not in refused.text
        assert "<b>Acme</b>" not in refused.text
        assert 'name="force" value="1"' in refused.text and 'id="undo-anyway"' in refused.text
        assert len(read_store(tmp_path / "store.json")["customers"]) == 1  # nothing changed
        forced = client.post(f"/imports/{first}/undo", data={"csrf": csrf, "force": "1"})
        assert forced.status_code == 303, forced.text
        assert read_store(tmp_path / "store.json").get("customers", []) == []
    finally:
        server.stop()


def test_an_undo_needs_the_csrf_token_and_a_known_import(client, tmp_path):
    ref = newest_import(client, write_csv(tmp_path / "undo-guard.csv", [GOOD]))
    assert client.post(f"/imports/{ref}/undo", data={}).status_code == 403
    assert client.post(f"/imports/{ref}/undo", data={"csrf": "wrong"}).status_code == 403
    csrf = csrf_of(client.get("/").text)
    unknown = client.post("/imports/999999/undo", data={"csrf": csrf})
    assert unknown.status_code == 404 and "no such import" in unknown.text
    assert undo_form(client.get("/history").text, ref)


def test_a_sink_without_history_offers_no_undo_and_refuses_one(tmp_path):
    server = start(tmp_path, "--sink", "jsonl", "--target", str(tmp_path / "store.jsonl"))
    try:
        client = server.client()
        history = client.get("/history").text
        assert "keeps no history" in history and "/undo" not in history
        answer = client.post("/imports/1/undo", data={"csrf": csrf_of(client.get("/").text)})
        assert answer.status_code == 400 and "cannot undo" in answer.text
    finally:
        server.stop()


def test_an_undo_runs_in_the_worker_thread_after_the_jobs_queued_before_it(tmp_path):
    from etl.batch_config import BatchConfig, BatchJob
    from etl.serve import jobs
    from etl.serve.uploads import PrivateFolder, Upload

    area = PrivateFolder()
    try:
        runner = jobs.Runner(jobs.Settings.of(BatchConfig(tmp_path, []), BatchJob("t", [], {})), area)
        _, folder = area.new_folder("uploads")
        job = runner.start(Upload("u", folder, write_csv(folder / "in.csv", [GOOD])), {}, dry_run=True)
        seen = runner.call(lambda: (threading.current_thread().name, job.finished)).result(timeout=60)
        assert seen == ("etl-import", True)
        failing = runner.call(lambda: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            failing.result(timeout=60)
        assert runner.call(lambda: "still working").result(timeout=60) == "still working"
    finally:
        area.remove()
