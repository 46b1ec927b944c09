"""`etl history`: the imports recorded in a store whose sink keeps history, newest first, their errors
and rejected lines; forgetting the column choices they remember; and undoing one of them.

Any sink that declares ``keeps_history`` on its :class:`etl.components.SinkSpec` gets these commands:
they read its documents of the kind ``HISTORY_KIND`` through the sink itself (a dry-run open for
reading: nothing is created or changed) and write them back through it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .errors import SinkError, UsageError
from .terminal import echo

if TYPE_CHECKING:
    from .components import SinkSpec

MARKS = {"success": "OK     ", "partial": "PARTIAL", "failed": "FAILED "}
SINK = click.option("--sink", help="The store's sink, one that keeps history (default: the default sink).")
TARGET = click.option("--target", help="The store (default: the sink's own).")


class Store:
    """The store named on the command line: the group's --sink and --target unless the subcommand gives its own."""

    def __init__(self, sink: str | None, target: str | None) -> None:
        from .registry import get_registry

        self.spec: SinkSpec = get_registry().sink(sink)
        if not self.spec.keeps_history:
            raise UsageError(f"the {self.spec.name} sink keeps no history of imports: nothing to list, show or undo")
        self.given_target = target
        target = target or self.spec.default_target
        if target is None:
            raise UsageError(f"the {self.spec.name} sink has no default target: give --target")
        self.target = target

    def must_exist(self) -> None:
        """Refuse a store that is not there: reading or forgetting never creates one."""
        if "://" not in self.target and not Path(self.target).exists():
            raise UsageError(f"{self.target}: no such store")

    def imports(self) -> dict[str, dict]:
        """The recorded imports by id, oldest first, each checked to be what the commands read."""
        from .history import HISTORY_KIND, shape_problem

        self.must_exist()
        sink = self.spec.open(self.target, self.spec.load_options({}), True)
        try:
            entries = {str(ref): entry for ref, entry in sink.existing(HISTORY_KIND)}
        finally:
            sink.close()
        for entry_id, entry in entries.items():
            problem = shape_problem(entry, f"import {entry_id}")
            if problem is not None:
                raise SinkError(f"{self.target}: not an etl store: {problem}")
        return entries


def _store(ctx: click.Context, sink: str | None, target: str | None) -> Store:
    """The subcommand's store: the group's, but for the options the subcommand gives itself."""
    group: Store = ctx.obj
    default = click.core.ParameterSource.DEFAULT
    own_sink, own_target = (ctx.get_parameter_source(name) != default for name in ("sink", "target"))
    if not own_sink and not own_target:
        return group
    return Store(sink if own_sink else group.spec.name, target if own_target else group.given_target)


@click.group(invoke_without_command=True)
@SINK
@TARGET
@click.pass_context
def history(ctx: click.Context, sink: str | None, target: str | None) -> None:
    """List the imports recorded in a store, newest first."""
    ctx.obj = Store(sink, target)
    if ctx.invoked_subcommand is not None:
        return
    entries = ctx.obj.imports()
    if not entries:
        echo("no import recorded yet")
    ids = sorted(entries, key=int) if all(i.isascii() and i.isdigit() for i in entries) else list(entries)
    for entry_id in reversed(ids):
        entry, rows = entries[entry_id], entries[entry_id]["rows"]
        if "undoes" in entry:
            counts = "; ".join(f"{kind}: {n.get('deleted', 0)} deleted, {n.get('restored', 0)} restored"
                               for kind, n in entry["counts"].items())
            echo(f"{entry_id:>4}  UNDO     {entry['time']}  {counts or 'nothing changed'}  "
                 f"undo of import {entry['undoes']}")
            continue
        echo(f"{entry_id:>4}  {MARKS.get(entry['status'], entry['status'])}  {entry['time']}  "
             f"{rows['read']} read, {rows['imported']} imported, {rows['rejected']} rejected  "
             f"{Path(entry['input']).name}")


@history.command()
@click.argument("entry_id", metavar="ID")
@SINK
@TARGET
@click.option("--rejects", type=click.Path(path_type=Path), help="Write that import's rejected lines again.")
@click.pass_context
def show(ctx: click.Context, entry_id: str, sink: str | None, target: str | None, rejects: Path | None) -> None:
    """Show one import and its errors; --rejects FILE writes its rejected lines again."""
    store = _store(ctx, sink, target)
    entry = store.imports().get(entry_id)
    if entry is None:
        raise UsageError(f"{store.target}: no import {entry_id!r} (see etl history)")
    rows = entry["rows"]
    echo(f"import {entry_id}: {entry['status']} at {entry['time']}")
    if "undoes" in entry:
        echo(f"undo of import {entry['undoes']}, sink {entry['sink']}")
    else:
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
@SINK
@TARGET
@click.pass_context
def forget(ctx: click.Context, sink: str | None, target: str | None) -> None:
    """Forget the column choices remembered from past imports: the next import maps its columns afresh."""
    from .components import Document
    from .history import HISTORY_KIND

    store = _store(ctx, sink, target)
    store.must_exist()  # forgetting never creates a store
    opened = store.spec.open(store.target, store.spec.load_options({}), False)  # its lock, checks, atomic write
    try:
        choosing = [Document(HISTORY_KIND, str(ref), {"chosen": []}, (), ref, keys={})
                    for ref, entry in opened.existing(HISTORY_KIND) if isinstance(entry, dict) and entry.get("chosen")]
        if choosing:
            opened.write_batch(choosing)
            opened.commit()
    finally:
        opened.close()
    echo(f"column choices of {len(choosing)} {'import' if len(choosing) == 1 else 'imports'} forgotten", err=True)


@history.command(name="undo")
@click.argument("entry_id", metavar="ID")
@click.option("--force", is_flag=True, help="Undo it even where records were changed since.")
@SINK
@TARGET
@click.pass_context
def undo_import(ctx: click.Context, entry_id: str, force: bool, sink: str, target: str | None) -> None:
    """Undo an import: delete what it created, restore what it updated, field by field, in one write.
    Records changed since are refused, named, unless --force."""
    from .undo import undo

    store = _store(ctx, sink, target)
    store.must_exist()  # undoing never creates a store
    echo(undo(store.spec, store.target, entry_id, force).summary(), err=True)


def _write_rejects(entry: dict, path: Path) -> None:
    from .registry import get_registry
    from .rejects import write_table

    spec = get_registry().writer_for(path.suffix)
    if spec is None or spec.write is None:
        raise UsageError(f"{path}: cannot write rejects in this format")
    saved = entry["rejects"]
    options = saved["format_options"] if spec.name == saved["reader"] else {}
    write_table(spec, path, saved["header"][:-1], saved["rows"], options)
