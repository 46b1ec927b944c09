"""The ``etl`` command line: a thin layer over :func:`etl.run` and the registry."""
from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import click

from . import __version__
from .errors import EtlError, Terminated
from .history_cli import history
from .run_options import click_options
from .template import template
from .terminal import echo, printable

DEBUG_ENV = "ETL_DEBUG"
LISTING = {"reader": "readers", "sink": "sinks", "rules": "rules", "validator": "validators",
           "executor": "executors"}


class PluginGroup(click.Group):
    """A click group that adds the plugins' commands the first time it lists or looks them up."""

    _plugins_loaded = False

    def _load_plugin_commands(self) -> None:
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        from .plugin_manager import get_plugin_manager, load_failures

        pm = get_plugin_manager()
        for impl in pm.hook.register_commands.get_hookimpls():
            try:
                impl.function(cli=self)
            except Exception as exc:  # a broken plugin must not break the CLI
                echo(f"etl: plugin {impl.plugin_name!r} failed to add its commands: {exc}", err=True)
        for failure in load_failures():
            echo(f"etl: warning: {failure}", err=True)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is None:
            self._load_plugin_commands()
            command = super().get_command(ctx, name)
        return command


@click.group(cls=PluginGroup)
@click.version_option(__version__, prog_name="etl")
def cli() -> None:
    """Import customer and contact lists from CSV and Excel files into a store."""


@cli.command()
@click.argument("input", type=click.Path(path_type=Path))
@click_options
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but fatal errors.")
@click.option("--verbose", "-v", is_flag=True, help="Also print the column mapping and the time taken.")
def run(input: Path, quiet: bool, verbose: bool, **options: Any) -> None:
    """Import INPUT (CSV or Excel) into the sink."""
    from .api import run as run_import
    from .progress import Progress
    from .report import counted
    from .run_options import from_command_line

    progress = Progress(sys.stderr) if sys.stderr.isatty() and not quiet else None
    started = time.monotonic()
    try:
        result = run_import(input, progress=progress, **from_command_line(options))
    finally:
        if progress is not None:
            progress.close()
    if quiet:
        sys.exit(result.exit_code)
    if verbose and result.mapping is not None:
        from .mapping_cli import describe

        for line in describe(result.mapping):
            echo(line, err=True)
    for line in result.mapping_summary():
        echo(line, err=True)
    for warning in sorted(result.warnings, key=lambda w: w.line)[:20]:
        column = f" column {warning.column!r}" if warning.column else ""
        echo(f"{input}: line {warning.line}{column}: warning: {warning.message}", err=True)
    for error in result.sorted_errors()[:20]:
        column = f" column {error.column!r}" if error.column else ""
        echo(f"{input}: line {error.line}{column}: {error.message}", err=True)
    if len(result.errors) > 20:
        echo(f"... and {counted(len(result.errors) - 20, 'more error')} (see --report or --rejects)", err=True)
    if result.changes is not None:
        show_changes(result.changes)
    for line in result.summary().split("\n"):  # its lines hold only counts and kinds
        echo(line, err=True)
    if verbose:
        echo(f"done in {time.monotonic() - started:.2f} s", err=True)
    sys.exit(result.exit_code)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def plugins(as_json: bool) -> None:
    """List the plugins and the readers, sinks and rules each one adds."""
    from .plugin_manager import get_plugin_manager, plugin_version
    from .registry import get_registry

    pm = get_plugin_manager()
    registry = get_registry()
    listing = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        provides = {
            group.kind: sorted(n for n, owner in group.owners.items() if owner == name)
            for group in (registry.readers, registry.sinks, registry.rules, registry.validators, registry.executors)
        }
        listing.append({"name": name, "version": plugin_version(name), **provides})
    failures = [{"name": f.name, "error": f.error} for f in registry.failures]
    defaults = {}
    for group in (registry.sinks, registry.rules):
        with suppress(EtlError):
            defaults[group.kind] = group.default(registry.failures).name
    if as_json:
        click.echo(json.dumps({"plugins": listing, "defaults": defaults, "failed": failures,
                               "conflicts": registry.conflicts()}, indent=2))
        return
    for entry in listing:
        parts = [f"{LISTING[kind]}: {', '.join(names)}" for kind, names in entry.items()
                 if isinstance(names, list) and names]
        echo(f"{entry['name']} {entry['version']}" + (f"  ({'; '.join(parts)})" if parts else ""))
    for kind, name in defaults.items():
        echo(f"default {kind}: {name}")
    for failure in failures:
        echo(f"FAILED {failure['name']}: {failure['error']}")
    for conflict in registry.conflicts():
        echo(f"CONFLICT {conflict}")


@cli.command()
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--job", "names", multiple=True, metavar="NAME", help="Run only this job (repeatable).")
@click.option("--keep-going", is_flag=True, help="Go on after a job that imported nothing.")
@click.option("--dry-run", is_flag=True, help="Validate the config and preview every job; write nothing.")
@click.option("--executor", help="How to run the jobs: local (default), processes, dask...")
@click.option("--workers", type=click.IntRange(min=1), help="Jobs run at once (default: the number of cores).")
@click.option("--scheduler", metavar="tcp://HOST:PORT", help="The Dask scheduler (--executor dask).")
def batch(config: Path, names: tuple[str, ...], keep_going: bool, dry_run: bool, executor: str | None,
          workers: int | None, scheduler: str | None) -> None:
    """Run the import jobs of a config file (TOML): jobs of one store in config order."""
    from .batch_config import load_config, select, summary_table
    from .scheduler import run_batch

    loaded = load_config(config)
    chosen = {**loaded.executor, **{k: v for k, v in (("name", executor), ("workers", workers),
                                                      ("scheduler", scheduler)) if v is not None}}

    def tell(result, done: int, total: int) -> None:
        echo(loaded.mask(f"[{done}/{total}] {result.job}: {Path(result.input).name}: {result.line}"), err=True)

    results, interrupted = run_batch(loaded, select(loaded, names), chosen, keep_going, dry_run, tell)
    for line in summary_table(results):
        echo(loaded.mask(line))
    if interrupted:
        echo("etl: interrupted", err=True)
        sys.exit(130)
    sys.exit(max(r.exit_code for r in results))


@cli.command("map")
@click.argument("input", type=click.Path(path_type=Path))
@click.option("--reader", help="Input format (default: from the file extension).")
@click.option("--reader-option", multiple=True, metavar="K=V", help="A reader option (repeatable).")
@click.option("--rules", help="The import rules to map to (default: the default rules).")
@click.option("--mapping", type=click.Path(path_type=Path), help="Start from this mapping file.")
@click.option("--interactive", is_flag=True, help="Confirm or change each doubtful pair.")
@click.option("--save", type=click.Path(path_type=Path), help="Write the mapping file that --mapping reads.")
def map_command(input: Path, reader: str | None, reader_option: tuple[str, ...], rules: str | None,
                mapping: Path | None, interactive: bool, save: Path | None) -> None:
    """Show how the columns of INPUT link to the rules' fields."""
    from .errors import UsageError
    from .mapping import load_mapping_file
    from .mapping_cli import confirm_doubtful, describe, save_mapping
    from .proposal import propose_for_file
    from .options import parse_options

    found = propose_for_file(input, reader=reader, reader_options=parse_options(reader_option, "--reader-option"),
                             rules=rules, mapping=load_mapping_file(mapping) if mapping else {})
    proposal = found.mapping
    if interactive:
        confirm_doubtful(proposal, found.fields)
    for line in describe(proposal):
        echo(line)
    if save:
        save_mapping(proposal, save)
        echo(f"mapping saved to {save}; use it with --mapping {save}", err=True)
    if missing := found.missing():
        raise UsageError(f"{input}: " + "; ".join(missing))


@cli.command()
@click.option("--rules", help="Whose fields to list (default: the default rules).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def fields(rules: str | None, as_json: bool) -> None:
    """List the fields a mapping can name, with their titles and the other titles they accept."""
    from .registry import get_registry

    listing = [{"field": f.name, "also_named": list(f.aliases), "titles": dict(f.labels), "accepted": list(f.synonyms),
                "description": f.description} for f in get_registry().rule_set(rules).create().fields]
    if as_json:
        click.echo(json.dumps(listing, indent=2, ensure_ascii=False))
        return
    for entry in listing:
        aliases = f" (or {', '.join(entry['also_named'])})" if entry["also_named"] else ""
        click.echo(f"{entry['field']}{aliases}: {' / '.join(entry['titles'].values())}"
                   + (f"  - {entry['description']}" if entry["description"] else ""))
        if entry["accepted"]:
            click.echo(f"    also: {', '.join(entry['accepted'])}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535), help="Port to listen on.")
@click.option("--sink", help="Where the page imports to (default: the default sink).")
@click.option("--target", help="The sink's target: a file path or a URL.")
@click.option("--config", type=click.Path(path_type=Path),
              help="Import with the options of a job of this batch config.")
@click.option("--job", "job_name", metavar="NAME", help="That job of --config (default: its first).")
@click.option("--max-upload", default="1G", show_default=True, help="Largest file the page accepts (K, M, G).")
def serve(host: str, port: int, sink: str | None, target: str | None, config: Path | None, job_name: str | None,
          max_upload: str) -> None:
    """Start the import page on this computer and print its address (needs: pip install 'etl[serve]')."""
    try:
        from .serve.server import load_settings, parse_size, serve as serve_page
    except ImportError as exc:
        raise click.ClickException(f"etl serve needs its extra: pip install 'etl[serve]' ({exc})") from None
    serve_page(host, port, load_settings(config, job_name, sink, target), parse_size(max_upload))


cli.add_command(template)
cli.add_command(history)


def show_changes(changes: list[dict]) -> None:
    """The records a run creates or updates, on stdout; through the pager when longer than the terminal."""
    from .changes import describe_changes

    lines = describe_changes(changes)
    if sys.stdout.isatty() and len(lines) > shutil.get_terminal_size().lines - 2:
        click.echo_via_pager("\n".join(lines) + "\n")
    else:
        for line in lines:
            echo(line)


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main() -> None:
    """Entry point: one clear line and a non-zero exit code for every failure."""
    try:
        signal.signal(signal.SIGTERM, _terminate)
        cli.main(prog_name="etl", standalone_mode=False)
    except click.exceptions.Abort:
        echo("etl: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.message = printable(exc.message)
        exc.show()
        sys.exit(2)
    except EtlError as exc:
        echo(f"etl: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        echo("etl: interrupted", err=True)
        sys.exit(130)
    except Terminated:
        echo("etl: terminated", err=True)
        sys.exit(143)
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        echo(f"etl: unexpected error: {type(exc).__name__}: {exc} (set {DEBUG_ENV}=1 for details)", err=True)
        sys.exit(2)
