"""etl serve in a real headless Chromium (Debian's, driven by Playwright): the whole flow on a CSV and on an
xlsx, from the upload to the history, and a large import followed live. ``ETL_SCREENSHOTS=DIR`` saves a
screenshot of each step (of the xlsx walk), as the README shows them."""
from __future__ import annotations

import base64
import csv
import json
import os
from pathlib import Path

import pytest

for module in ("starlette", "uvicorn", "jinja2", "python_multipart"):
    pytest.importorskip(module, reason="etl serve needs its extra: pip install 'etl[serve]'")
pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright: pip install playwright")
CHROMIUM = Path("/usr/bin/chromium")
if not CHROMIUM.exists():
    pytest.skip(f"the browser tests need Debian's chromium at {CHROMIUM}: apt-get install chromium",
                allow_module_level=True)

from openpyxl import Workbook, load_workbook  # noqa: E402
from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402
from conftest import read_store  # noqa: E402
from etl.connectors.storefile import StoreLock  # noqa: E402
from serve_server import start  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
HEADER = ["Customer ID", "Customer name", "Contact email", "Ref compta"]
ROWS = [["C1", "Acme", "ana@acme.fr", "411ACME"], ["C2", "Beta", "not an email", "411BETA"],
        ["C3", "Gamma", "gus@gamma.fr", "411GAMMA"]]
SHOTS = os.environ.get("ETL_SCREENSHOTS")


@pytest.fixture
def page(tmp_path):
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), args=ARGS, headless=True,
            accept_downloads=True, locale="en-GB", viewport={"width": 1200, "height": 800})
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


def shot(page: Page, name: str) -> None:
    """With ETL_SCREENSHOTS, a screenshot of the page, for the README."""
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"{name}.png"), full_page=True)


def write_input(tmp_path: Path, kind: str) -> Path:
    if kind == "csv":
        path = tmp_path / "customers.csv"
        with open(path, "w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, delimiter=";").writerows([HEADER, *ROWS])
        return path
    path = tmp_path / "customers.xlsx"
    book = Workbook()
    summary = book.active
    summary.title = "Summary"
    summary.append(["Total", "Count"])
    summary.append(["all", 3])
    sheet = book.create_sheet("Customers")
    for row in [HEADER, *ROWS]:
        sheet.append(row)
    book.save(path)
    return path


def drop_file(page: Page, path: Path) -> None:
    """Drop ``path`` on the drop zone, as a user drags it from their files."""
    data = base64.b64encode(path.read_bytes()).decode()
    transfer = page.evaluate_handle(
        """([name, data]) => { const dt = new DataTransfer();
           const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
           dt.items.add(new File([bytes], name)); return dt; }""", [path.name, data])
    page.dispatch_event(".drop", "drop", {"dataTransfer": transfer})


def fixed_rejects(download_path: Path, kind: str, tmp_path: Path) -> Path:
    """The downloaded rejects file, its bad email fixed, as the user saves it."""
    if kind == "csv":
        text = download_path.read_text(encoding="utf-8")
        assert "not an email" in text and "Error" in text.splitlines()[0]
        fixed = tmp_path / "fixed.csv"
        fixed.write_text(text.replace("not an email", "bea@beta.fr"), encoding="utf-8")
        return fixed
    book = load_workbook(download_path)
    rows = [[cell.value for cell in row] for row in book.active.iter_rows()]
    assert rows[0][-1] == "Error" and rows[1][2] == "not an email", rows
    book.active.cell(row=2, column=3, value="bea@beta.fr")
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    return fixed


def records(store: Path) -> dict[str, list[dict]]:
    """The customers and contacts of the store, in a stable order (its history aside)."""
    tables = read_store(store)
    return {kind: sorted(tables.get(kind, []), key=lambda record: json.dumps(record, sort_keys=True))
            for kind in ("customers", "contacts")}


def wait_for_result(page: Page) -> str:
    page.wait_for_selector(".result, .message", timeout=60_000)
    assert page.locator(".result").count() == 1, page.inner_text("main")
    return page.get_attribute(".result", "data-status") or ""


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_the_whole_import_in_a_browser(page, tmp_path, kind):
    served = start(tmp_path, "--target", "store.json")  # in tmp_path, the server's folder
    try:
        walk(page, served, tmp_path, kind)
    finally:
        served.stop()
    assert served.private_folders() == []


def walk(page: Page, served, tmp_path: Path, kind: str) -> None:
    source = write_input(tmp_path, kind)

    def snap(name: str) -> None:  # the README shows the xlsx walk
        if kind == "xlsx":
            shot(page, name)

    page.goto(served.login_url)
    expect(page.locator("h1")).to_have_text("1. Choose the file")
    # 1. upload: the CSV picked, the workbook dropped
    if kind == "csv":
        page.set_input_files("#file-new", str(source))
    else:
        drop_file(page, source)
    expect(page.locator(".chosen")).to_have_text(source.name)
    snap("1-upload")
    page.focus("form.upload button")
    page.keyboard.press("Enter")
    page.wait_for_url("**/uploads/*")
    if kind == "xlsx":  # the first sheet with data is a summary: nothing maps, required fields are flagged
        expect(page.locator(".missing")).to_be_visible()
        expect(page.locator("#check")).to_be_disabled()
        page.select_option("#sheet", "Customers")
        page.click("form.sheet button")
        page.wait_for_url("**/uploads/*?sheet=Customers")
    # 2. the mapping: samples, proposals, one changed; missing fields flagged as they go
    expect(page.locator("select#column-1")).to_have_value("customer_name")
    expect(page.locator("tr", has=page.locator("#column-2")).locator(".samples")).to_contain_text("ana@acme.fr")
    expect(page.locator("select#column-3")).to_have_value("")
    page.select_option("#column-3", "accounting_code")
    expect(page.locator("td.how").nth(3)).to_have_text("your choice")
    page.select_option("#column-0", "")
    page.select_option("#column-1", "")
    expect(page.locator(".missing")).to_be_visible()
    expect(page.locator("#check")).to_be_disabled()
    page.select_option("#column-0", "customer_id")
    page.select_option("#column-1", "customer_name")
    expect(page.locator(".missing")).to_be_hidden()
    expect(page.locator("#check")).to_be_enabled()
    expect(page.locator("td.how").nth(0)).to_have_text("exact title")  # as proposed again
    snap("2-mapping")
    # 3. the check: counts and the error, nothing written
    with page.expect_navigation():
        page.click("#check")
    assert wait_for_result(page) == "partial"
    expect(page.locator("tr[data-kind=customers] td").first).to_have_text("3")
    expect(page.locator("table.errors")).to_contain_text("not an email")
    assert not (tmp_path / "store.json").exists()
    snap("3-check")
    # 4. the import, by keyboard
    page.focus("#import")
    with page.expect_navigation():  # away from the check's result, to the import's page
        page.keyboard.press("Enter")
    assert wait_for_result(page) == "partial"
    expect(page.locator(".status .icon.partial")).to_be_visible()
    after_first = records(tmp_path / "store.json")
    # 5. the errors: line, column, value, reason; the rejects downloaded, fixed and imported from here
    row = page.locator("table.errors tbody tr").first
    expect(row.locator("td").nth(0)).to_have_text("3")  # the file's line, the sheet's row
    expect(row.locator("td").nth(1)).to_have_text("Contact email")
    expect(row.locator("td").nth(2)).to_have_text("not an email")
    snap("5-errors")
    with page.expect_download() as download:
        page.click("text=Download the rejects")
    saved = tmp_path / f"rejects-download.{kind}"
    download.value.save_as(saved)
    fixed = fixed_rejects(saved, kind, tmp_path)
    page.set_input_files("#file-fixed", str(fixed))
    page.click(".reimport button")
    page.wait_for_url("**/uploads/*")
    expect(page.locator("select#column-3")).to_have_value("accounting_code")  # remembered from the import
    expect(page.locator("td.how").nth(3)).to_contain_text("remembered")
    with page.expect_navigation():
        page.click("#check")
    assert wait_for_result(page) == "success"
    with page.expect_navigation():
        page.click("#import")
    assert wait_for_result(page) == "success"
    expect(page.locator(".status")).to_contain_text("Import successful")
    with page.expect_download() as success:
        page.click("text=Download the imported lines")
    assert success.value.suggested_filename == f"fixed-imported.{kind}"
    snap("5-success")
    # a known customer renamed: the check shows the diff, record by record
    renamed = tmp_path / "renamed.csv"
    renamed.write_text(";".join(HEADER) + "\nC1;Acme <SA>;ana@acme.fr;411ACME\n", encoding="utf-8")
    page.click("nav >> text=Import a file")
    page.set_input_files("#file-new", str(renamed))
    page.click("form.upload button")
    page.wait_for_url("**/uploads/*")
    with page.expect_navigation():
        page.click("#check")
    assert wait_for_result(page) == "success"
    updated = page.locator("details.change-group[data-kind=customers][data-outcome=updated]")
    expect(updated.locator("summary")).to_have_text("customers: 1 would be updated")
    expect(updated.locator("tbody tr")).to_have_count(1)
    expect(updated.locator("tbody tr th")).to_have_text("C1")
    expect(updated.locator("del")).to_have_text("Acme")
    expect(updated.locator("ins")).to_have_text("Acme <SA>")  # shown as text, escaped
    snap("3-diff")
    with page.expect_navigation():
        page.click("#import")
    assert wait_for_result(page) == "success"
    with page.expect_download() as success:
        page.click("text=Download the imported lines")
    lines = Path(success.value.path()).read_text(encoding="utf-8").splitlines()
    assert lines[0].endswith("Outcome;Kind;Key") and lines[1].endswith(";updated;customers;C1"), lines
    # 6. the history: the three imports, newest first, with their icons and downloads
    page.click("nav >> text=History")
    rows = page.locator("table.history tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator(".icon.success")).to_be_visible()
    expect(rows.nth(0).locator("td.changes")).to_contain_text("customers: 0 created, 1 updated, 0 unchanged")
    expect(rows.nth(2).locator(".icon.partial")).to_be_visible()
    expect(rows.nth(2)).to_contain_text(source.name)
    expect(rows.nth(2).locator("td.changes")).to_contain_text("customers: 3 created, 0 updated, 0 unchanged")
    expect(rows.nth(2).locator("a", has_text="rejects .xlsx")).to_be_visible()
    with page.expect_download() as report:
        rows.nth(2).locator("a", has_text="report").click()
    assert b'"partial"' in Path(report.value.path()).read_bytes()
    with page.expect_download() as success:
        rows.nth(2).locator("a", has_text="imported lines").click()
    assert success.value.suggested_filename == f"customers-imported.{kind}"
    customers = read_store(tmp_path / "store.json")["customers"]
    assert sorted(c["accounting_code"] for c in customers) == ["411ACME", "411BETA", "411GAMMA"]
    assert {c["external_id"]: c["name"] for c in customers}["C1"] == "Acme <SA>"
    assert len(read_store(tmp_path / "store.json")["contacts"]) == 3  # the fixed one among them
    # 6. undo, by keyboard: the fixed file's import, then the rename; the store is back as after the first
    for ref in ("2", "3"):
        page.focus(f"tr[data-import='{ref}'] td.undo button")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        expect(rows.first).to_contain_text(f"undo of import #{ref}")
        expect(page.locator(f"tr[data-import='{ref}'] .undone-by")).to_be_visible()
        expect(page.locator(f"tr[data-import='{ref}'] td.undo button")).to_have_count(0)
    expect(rows).to_have_count(5)
    expect(rows.first.locator("td.changes")).to_contain_text("customers: 0 deleted, 1 restored")
    expect(page.locator("tr[data-import='1'] td.undo button")).to_be_visible()
    snap("6-history")
    assert records(tmp_path / "store.json") == after_first


def test_the_import_page_shows_a_large_import_running_then_its_result(page, tmp_path):
    from test_serve_large import LINES, write_large

    source = write_large(tmp_path / "large.csv")
    served = start(tmp_path, "--target", "store.json")
    try:
        page.goto(served.login_url)
        page.set_input_files("#file-new", str(source))
        with page.expect_navigation():
            page.click("form.upload button")
        with page.expect_navigation():
            page.click("#check")
        assert wait_for_result(page) == "success"
        lock = StoreLock(tmp_path / "store.json", "the store", 30)
        lock.acquire()  # the import waits for the store, running: the page shows it so, whatever the machine's speed
        try:
            with page.expect_navigation():
                page.click("#import")
            expect(page.locator(".status .icon.running")).to_be_visible()
            expect(page.locator(".status")).to_contain_text("Running")
        finally:
            lock.release()
        if SHOTS:  # the README's step 4, lines read: when this machine is not too fast to see them
            page.wait_for_function("() => !document.querySelector('[data-read]') || "
                                   "Number(document.querySelector('[data-read]').textContent.replace(/\\D/g, '')) > 0")
            shot(page, "4-import")
        assert wait_for_result(page) == "success"  # the page turned to the result by itself
        expect(page.locator(".rows")).to_contain_text(f"Lines read: {LINES}")
    finally:
        served.stop()
