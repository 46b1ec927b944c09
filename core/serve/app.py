"""The page's routes: upload, mapping, check, import with progress, errors and rejects, history and undo."""
from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from etl.cli import DEBUG_ENV
from etl.errors import EtlError
from etl.proposal import Proposal, propose_for_file
from etl.registry import get_registry
from etl.secrets import mask_url, mask_values
from etl.terminal import echo, printable
from etl.undo import UndoRefused

from . import store
from .i18n import language, translator
from .jobs import Runner, Settings, WebJob
from .security import BodyTooLarge, Guard, Tokens
from .uploads import PrivateFolder, Upload, UploadRefused, receive_upload

MAX_ERRORS_SHOWN = 500
"""Rows of the errors table: the rejects file has them all."""
MAX_FORM_FIELDS = 2100
"""Fields of the mapping form: two per column at most, for a file of the largest width."""
REJECTS_FORMATS = (".csv", ".xlsx")
COLUMN_FIELD = re.compile(r"^column-(\d+)$")


class Page:
    """What the routes share: the settings, the tokens, the private folder, the jobs and the templates."""

    def __init__(self, settings: Settings, tokens: Tokens, area: PrivateFolder) -> None:
        self.settings = settings
        self.tokens = tokens
        self.area = area
        self.runner = Runner(settings, area)
        self.templates = Environment(loader=PackageLoader("etl.serve", "templates"),
                                     autoescape=select_autoescape(default=True, default_for_string=True),
                                     finalize=self.shown)

    def shown(self, value: Any) -> Any:
        """Every value a template shows: the secrets masked, control characters escaped, files by their name."""
        return printable(self.area.hide(self.settings.mask(value))) if isinstance(value, str) else value

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        lang = language(request.headers.get("accept-language", ""))
        target = self.settings.options.get("target") or ""
        html = self.templates.get_template(name).render(
            t=translator(lang), lang=lang, csrf=self.tokens.csrf, store=mask_url(str(target)) or "etl-db.json",
            **context)
        return HTMLResponse(html, status_code=status)

    def error(self, request: Request, message: str, status: int = 400) -> HTMLResponse:
        return self.render(request, "error.html", status, message=message)

    async def form(self, request: Request) -> dict[str, str]:
        """A POSTed form (no file), refused without the page's CSRF token."""
        try:
            form = await request.form(max_files=0, max_fields=MAX_FORM_FIELDS)
        except BodyTooLarge:
            raise
        except Exception:
            raise HTTPException(400, "unreadable form") from None
        values = {k: v for k, v in form.items() if isinstance(v, str)}
        if not self.tokens.csrf_ok(values.get("csrf")):
            raise HTTPException(403, "the form's security token is missing or wrong: reload the page")
        return values

    def upload_of(self, upload_id: str) -> Upload:
        upload = self.area.uploads.get(upload_id)
        if upload is None or upload.proposal is None:
            raise HTTPException(404, "this file is no longer here: upload it again")
        return upload

    def job_of(self, job_id: str) -> WebJob:
        job = self.runner.jobs.get(job_id)
        if job is None:
            raise HTTPException(404, "no such import")
        return job

    def propose(self, upload: Upload) -> Proposal:
        options = self.settings.options
        reader_options = {**options.get("reader_options", {}), **({"sheet": upload.sheet} if upload.sheet else {})}
        return propose_for_file(upload.path, reader=options.get("reader"), reader_options=reader_options,
                                rules=options.get("rules"), sink=get_registry().sink(options.get("sink")).name,
                                target=options.get("target"), sink_options=options.get("sink_options", {}))

    # -- the routes --------------------------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        return self.render(request, "upload.html")

    async def upload(self, request: Request) -> Response:
        try:
            upload = await receive_upload(request.headers.get("content-type", ""), request.stream(), self.area,
                                          self.tokens.csrf_ok)
        except UploadRefused as exc:
            return self.error(request, str(exc), exc.status)
        if get_registry().reader_for(upload.path.suffix) is None:
            self.area.forget(upload)
            return self.error(request, f"{upload.name}: not a CSV or Excel file (from its extension)")
        try:
            proposal = await run_in_threadpool(self.propose, upload)
            if proposal.reader == "excel":
                upload.sheets = await run_in_threadpool(sheet_names, upload.path)
                upload.sheet = proposal.format_options.get("sheet")
        except EtlError as exc:
            self.area.forget(upload)
            return self.error(request, str(exc))
        upload.proposal = proposal
        return RedirectResponse(f"/uploads/{upload.id}", status_code=303)

    async def mapping(self, request: Request) -> Response:
        upload = self.upload_of(request.path_params["upload_id"])
        sheet = request.query_params.get("sheet")
        if sheet is not None and sheet in upload.sheets and sheet != upload.sheet:
            upload.sheet = sheet
            try:
                upload.proposal = await run_in_threadpool(self.propose, upload)
            except EtlError as exc:
                return self.error(request, str(exc))
        proposal = upload.proposal
        return self.render(request, "mapping.html", upload=upload, proposal=proposal, rows=mapping_rows(proposal),
                           missing=proposal.missing())

    async def missing(self, request: Request) -> Response:
        """The required fields a mapping leaves without a column, asked by the page as the user chooses."""
        upload = self.upload_of(request.path_params["upload_id"])
        if not self.tokens.csrf_ok(request.headers.get("x-csrf-token")):
            raise HTTPException(403, "the page's security token is missing or wrong: reload the page")
        try:
            chosen = await request.json()
        except Exception:
            raise HTTPException(400, "unreadable request") from None
        fields = [str(name) for name in chosen.get("fields", [])] if isinstance(chosen, dict) else []
        return JSONResponse({"missing": upload.proposal.missing(fields)})

    async def check(self, request: Request) -> Response:
        upload = self.upload_of(request.path_params["upload_id"])
        proposal = upload.proposal
        form = await self.form(request)
        choices = chosen_fields(proposal, form)
        fields = {name for name in (choices.get(m.title, m.field) for m in proposal.mapping.columns) if name}
        if missing := proposal.missing(fields):
            return self.render(request, "mapping.html", 400, upload=upload, proposal=proposal,
                               rows=mapping_rows(proposal, choices), missing=missing)
        job = self.runner.start(upload, choices, dry_run=True)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    async def job(self, request: Request) -> Response:
        job = self.job_of(request.path_params["job_id"])
        finished = job.finished  # before the report: the worker sets the report, then the state
        report = job.report if finished else None
        errors = (report or {}).get("errors", [])
        return self.render(request, "job.html", job=job, finished=finished, report=report, success=success_of(job),
                           errors=errors[:MAX_ERRORS_SHOWN], more_errors=max(0, len(errors) - MAX_ERRORS_SHOWN))

    async def job_state(self, request: Request) -> Response:
        return JSONResponse(self.job_of(request.path_params["job_id"]).progress())

    async def start_import(self, request: Request) -> Response:
        checked = self.job_of(request.path_params["job_id"])
        await self.form(request)
        if not checked.dry_run or not checked.finished:
            raise HTTPException(400, "only a finished check can be imported")
        upload = self.area.take(checked.upload.id)
        if upload is None:
            raise HTTPException(404, "this file is no longer here (it was imported already): upload it again")
        job = self.runner.start(upload, checked.mapping, dry_run=False)
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    async def job_file(self, request: Request) -> Response:
        job = self.job_of(request.path_params["job_id"])
        what = request.path_params["what"]
        path = {"report": job.report_path, "rejects": job.rejects, "success": job.success}.get(what)
        if not job.finished or path is None or not path.is_file():
            raise HTTPException(404, "no such file")
        stem = Path(job.upload.name).stem
        name = {"report": "report.json", "rejects": f"{stem}-rejects{path.suffix}",
                "success": f"{stem}-imported{path.suffix}"}[what]
        return FileResponse(path, filename=name)

    async def history(self, request: Request) -> Response:
        entries = await run_in_threadpool(store.imports, self.settings)
        undone = store.undone(entries or [])
        rows = [(ref, entry, Path(str(entry.get("input", ""))).name, store.rejected_count(entry),
                 success_of(self.runner.import_of(entry))) for ref, entry in entries or []]
        offered = {ref for ref, entry in entries or [] if store.undoable(ref, entry, undone)}
        return self.render(request, "history.html", rows=rows, available=entries is not None, undone=undone,
                           offered=offered)

    async def undo(self, request: Request) -> Response:
        """Undo an import in the worker thread, as ``etl history undo`` does; refused, the core's message and
        a button to undo it all the same."""
        form = await self.form(request)
        if not store.keeps_history(self.settings):
            raise HTTPException(400, "this store keeps no history of its imports: it cannot undo one")
        entry = await self.entry(request)
        import_id = str(request.path_params["import_id"])
        force = form.get("force") == "1"
        try:
            await asyncio.wrap_future(self.runner.call(lambda: store.undo_import(self.settings, import_id, force)))
        except UndoRefused as exc:
            entries = await run_in_threadpool(store.imports, self.settings)
            forcible = store.undoable(import_id, entry, store.undone(entries or [])) and not force
            return self.render(request, "undo.html", 409, import_id=import_id, message=str(exc), forcible=forcible)
        return RedirectResponse(f"/history#import-{import_id}", status_code=303)

    async def import_report(self, request: Request) -> Response:
        entry = await self.entry(request)
        report = mask_values(store.report_of(entry), self.settings.config.secrets)
        name = f"import-{request.path_params['import_id']}.json"
        return JSONResponse(report, headers={"content-disposition": f'attachment; filename="{name}"'})

    async def import_rejects(self, request: Request) -> Response:
        entry = await self.entry(request)
        suffix = "." + request.path_params["format"]
        if suffix not in REJECTS_FORMATS or not store.rejected_count(entry):
            raise HTTPException(404, "no such file")
        _, folder = self.area.new_folder("downloads")
        path = folder / f"import-{request.path_params['import_id']}-rejects{suffix}"
        await run_in_threadpool(store.write_rejects, entry, path)
        return FileResponse(path, filename=path.name,
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    async def entry(self, request: Request) -> dict[str, Any]:
        entry = await run_in_threadpool(store.find, self.settings, request.path_params["import_id"])
        if entry is None:
            raise HTTPException(404, "no such import")
        return entry


def success_of(job: WebJob | None) -> tuple[str, str] | None:
    """The link and format of the success file of a finished import, if it wrote one."""
    if job is None or not job.finished or job.success is None or not job.success.is_file():
        return None
    return f"/jobs/{job.id}/success", job.success.suffix


def sheet_names(path: Path) -> list[str]:
    """The sheets of a workbook the excel reader has already opened (and so checked)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(path)
    try:
        return list(workbook.sheet_names)
    finally:
        workbook.close()


def chosen_fields(proposal: Proposal, form: dict[str, str]) -> dict[str, str]:
    """The columns whose field the user changed from the proposal: title -> field ("" to ignore)."""
    known = {f.name for f in proposal.fields}
    columns = {m.index: m for m in proposal.mapping.columns if m.group is None}
    choices = {}
    for key, value in form.items():
        match = COLUMN_FIELD.match(key)
        if match and int(match[1]) in columns and (value in known or value == ""):
            column = columns[int(match[1])]
            if value != (column.field or ""):
                choices[column.title] = value
    return choices


def mapping_rows(proposal: Proposal, choices: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """One row per column for the mapping table, with the user's ``choices`` where given."""
    rows = []
    for column, samples in zip(proposal.mapping.columns, proposal.samples):
        chosen = (choices or {}).get(column.title)
        rows.append({"index": column.index, "title": column.title, "samples": samples, "group": column.group,
                     "field": column.field if chosen is None else chosen or None,
                     "how": column.how if chosen is None else "explicit", "note": column.note,
                     "score": column.score, "proposed": column.field, "proposed_how": column.how})
    return rows


def create_app(settings: Settings, tokens: Tokens, area: PrivateFolder, max_upload: int) -> Starlette:
    """The page's application, behind its :class:`Guard`."""
    page = Page(settings, tokens, area)

    async def refused(request: Request, exc: Exception) -> Response:
        """One clear message on the page, never a traceback."""
        if isinstance(exc, HTTPException):
            return page.error(request, str(exc.detail), exc.status_code)
        if isinstance(exc, BodyTooLarge):
            return page.error(request, f"the file is too large: at most {max_upload:,} bytes", 413)
        if isinstance(exc, EtlError):
            return page.error(request, str(exc), 400)
        return page.error(request, f"unexpected error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 on the "
                                   "server for details)", 500)

    def route(path: str, endpoint: Callable, methods: tuple[str, ...] = ("GET",)) -> Route:
        return Route(path, endpoint, methods=list(methods))

    routes = [
        route("/", page.home),
        route("/uploads", page.upload, ("POST",)),
        route("/uploads/{upload_id:str}", page.mapping),
        route("/uploads/{upload_id:str}/missing", page.missing, ("POST",)),
        route("/uploads/{upload_id:str}/check", page.check, ("POST",)),
        route("/jobs/{job_id:str}", page.job),
        route("/jobs/{job_id:str}/state", page.job_state),
        route("/jobs/{job_id:str}/import", page.start_import, ("POST",)),
        route("/jobs/{job_id:str}/{what:str}", page.job_file),
        route("/history", page.history),
        route("/imports/{import_id:int}/report.json", page.import_report),
        route("/imports/{import_id:int}/undo", page.undo, ("POST",)),
        route("/imports/{import_id:int}/rejects.{format:str}", page.import_rejects),
        Mount("/static", StaticFiles(packages=[("etl.serve", "static")]), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        if (job := page.runner.running()) is not None:
            page.runner.process.stop()  # as a SIGTERM stops ``etl run``
            whole = get_registry().sink(settings.options.get("sink")).transactional
            echo(f"etl serve: stopped while importing {job.upload.name}: "
                 f"{'its store is as it was' if whole else 'its store may hold part of it'}", err=True)

    handlers = {HTTPException: refused, BodyTooLarge: refused, EtlError: refused, Exception: refused}
    app = Starlette(routes=routes, exception_handlers=handlers, lifespan=lifespan)
    return Guard(app, tokens, max_upload)
