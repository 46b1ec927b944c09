"""`etl history`: the imports recorded in a TinyDB store, newest first, and their rejected lines."""
from __future__ import annotations

from pathlib import Path

import click

from etl import hookimpl
from etl.errors import UsageError
from etl.terminal import echo

from .tinydb_sink import DEFAULT_TARGET, HISTORY_TABLE, AtomicJSONStorage, open_tinydb_sink

MARKS = {"success": "OK     ", "partial": "PARTIAL", "failed": "FAILED "}
TARGET = click.option("--target", default=DEFAULT_TARGET, show_default=True, type=click.Path(path_type=Path),
                      help="The TinyDB store.")


def _imports(target: Path) -> dict[str, dict]:
    _must_exist(target)
    return (AtomicJSONStorage(target).read() or {}).get(HISTORY_TABLE, {})


def _must_exist(target: Path) -> None:
    if not target.exists():
        raise UsageError(f"{target}: no such store")


@click.group(invoke_without_command=True)
@TARGET
@click.pass_context
def history(ctx: click.Context, target: Path) -> None:
    """List the imports recorded in a TinyDB store, newest first."""
    ctx.obj = target
    if ctx.invoked_subcommand is not None:
        return
    entries = _imports(target)
    if not entries:
        echo("no import recorded yet")
    for entry_id in sorted(entries, key=int, reverse=True):
        entry, rows = entries[entry_id], entries[entry_id]["rows"]
        echo(f"{entry_id:>4}  {MARKS.get(entry['status'], entry['status'])}  {entry['time']}  "
                   f"{rows['read']} read, {rows['imported']} imported, {rows['rejected']} rejected  "
                   f"{Path(entry['input']).name}")


@history.command()
@click.argument("entry_id", metavar="ID")
@TARGET
@click.option("--rejects", type=click.Path(path_type=Path), help="Write that import's rejected lines again.")
@click.pass_context
def show(ctx: click.Context, entry_id: str, target: Path, rejects: Path | None) -> None:
    """Show one import and its errors; --rejects FILE writes its rejected lines again."""
    if ctx.get_parameter_source("target") == click.core.ParameterSource.DEFAULT:
        target = ctx.obj
    entry = _imports(target).get(entry_id)
    if entry is None:
        raise UsageError(f"{target}: no import {entry_id!r} (see etl history)")
    rows = entry["rows"]
    echo(f"import {entry_id}: {entry['status']} at {entry['time']}")
    echo(f"input: {entry['input']} ({entry['checksum']}), reader {entry['reader']}, sink {entry['sink']}")
    echo(f"lines: {rows['read']} read, {rows['imported']} imported, {rows['rejected']} rejected")
    if isinstance(entry.get("error"), str):
        echo(f"error: {entry['error']}")
    for kind, counts in entry["counts"].items():
        echo(f"{kind}: " + ", ".join(f"{n} {outcome}" for outcome, n in counts.items()))
    for error in entry["errors"]:
        column = f" column {error['column']!r}" if error["column"] else ""
        echo(f"line {error['line']}{column}: {error['message']}")
    if rejects is not None:
        _write_rejects(entry, rejects)
        echo(f"{len(entry['rejects']['rows'])} rejected lines written to {rejects}", err=True)


@history.command()
@TARGET
@click.pass_context
def forget(ctx: click.Context, target: Path) -> None:
    """Forget the column choices remembered from past imports: the next import maps its columns afresh."""
    if ctx.get_parameter_source("target") == click.core.ParameterSource.DEFAULT:
        target = ctx.obj
    _must_exist(target)  # forgetting never creates a store
    sink = open_tinydb_sink(str(target), {}, dry_run=False)  # its lock, checks and atomic write
    try:
        entries = sink.tables.get(HISTORY_TABLE, {}).values()
        forgotten = sum(bool(entry.pop("chosen", None)) for entry in entries)
        if forgotten:
            sink.commit()
    finally:
        sink.close()
    echo(f"column choices of {forgotten} {'import' if forgotten == 1 else 'imports'} forgotten", err=True)


def _write_rejects(entry: dict, path: Path) -> None:
    from etl.rejects import write_table
    from etl.registry import get_registry

    registry = get_registry()
    spec = registry.writer_for(path.suffix)
    if spec is None or spec.write is None:
        raise UsageError(f"{path}: cannot write rejects in this format")
    saved = entry["rejects"]
    options = saved["format_options"] if spec.name == saved["reader"] else {}
    write_table(spec, path, saved["header"][:-1], saved["rows"], options)


@hookimpl
def register_commands(cli: click.Group) -> None:
    cli.add_command(history)
