"""The options of a run, defined once: the keywords of ``etl.run``, the options of ``etl run`` and the
keys of a job of ``etl batch`` are all made from ``RUN_OPTIONS``, and :func:`job_of` makes the Job."""
from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .job import Job

KINDS = {
    "name": "str | None",
    "path": "str | Path | None",
    "flag": "bool",
    "table": "Mapping[str, Any] | str | Path | None",
    "options": "Mapping[str, str] | None",
    "settings": "Mapping[str, Any] | None",
    "limits": "Mapping[str, str | int] | None",
}
"""What each kind of option takes in the Python API (the annotation of its keyword)."""


@dataclass(frozen=True)
class RunOption:
    """One option of a run."""

    name: str
    """The keyword of ``etl.run`` and the key of a batch job."""
    kind: str
    """One of ``KINDS``: a name, an output path, a flag, a file or table, ``K=V`` options, settings, limits."""
    help: str
    flag: str = ""
    """The option of ``etl run`` (default: ``--NAME``, with '-' for '_')."""
    metavar: str = "K=V"

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def default(self) -> Any:
        return False if self.kind == "flag" else None


RUN_OPTIONS: tuple[RunOption, ...] = (
    RunOption("reader", "name", "Input format (default: from the file extension)."),
    RunOption("sink", "name", "Where to load the documents (default: the default sink, see `etl plugins`)."),
    RunOption("target", "name", "The sink's target: a file path or a URL."),
    RunOption("rules", "name", "The import rules to apply (default: the default rules, see `etl plugins`)."),
    RunOption("mapping", "table", "Mapping file (TOML or JSON): column -> field."),
    RunOption("settings", "table", "Rule settings file (TOML)."),
    RunOption("rule_options", "settings", "A rule setting (repeatable).", "--rule-option"),
    RunOption("reader_options", "options", "A reader option (repeatable).", "--reader-option"),
    RunOption("sink_options", "options", "A sink option (repeatable).", "--sink-option"),
    RunOption("report", "path", "Write the JSON report here."),
    RunOption("rejects", "path", "Write the rejected lines here, with the reason."),
    RunOption("success", "path", "Write the imported lines here, with the outcome, kind and key of their records."),
    RunOption("raw_rejects", "flag", "Write rejected (and imported) cells as read, even those starting with "
                                     "= + - @ (formulas in a spreadsheet)."),
    RunOption("dry_run", "flag", "Check and report everything, write nothing to the sink."),
    RunOption("diff", "flag", "Show each record created or updated, field by field (old -> new)."),
    RunOption("limits", "limits", "Raise a limit: file_size (bytes, 4 GiB), columns (1000), rows (10,000,000), "
                                  "value_length (characters in a cell, 10,000), errors (rejected lines when most "
                                  "are, 100,000).", "--limit", "NAME=N"),
)
BY_NAME = {option.name: option for option in RUN_OPTIONS}


def job_of(input: str | Path, options: Mapping[str, Any], secrets: Iterable[str] = ()) -> Job:
    """The Job of a run of ``input`` with these options (files of mappings and settings read)."""
    from .limits import Limits
    from .mapping import load_mapping_file
    from .settings import split_settings
    from .table_files import read_table_file

    unknown = sorted(set(options) - set(BY_NAME))
    if unknown:
        raise TypeError(f"run() got an unexpected keyword argument {unknown[0]!r}")
    values = {option.name: options.get(option.name, option.default) for option in RUN_OPTIONS}
    mapping, settings = values["mapping"], values["settings"]
    if isinstance(mapping, (str, Path)):
        mapping = load_mapping_file(mapping)
    if isinstance(settings, (str, Path)):
        settings = read_table_file(settings)
    rule_settings, plugin_settings = split_settings(settings or {})
    rule_settings.update(values["rule_options"] or {})

    def path(name: str) -> Path | None:
        return Path(values[name]) if values[name] else None

    return Job(
        input=Path(input), reader=values["reader"], sink=values["sink"],
        target=str(values["target"]) if values["target"] is not None else None, rules=values["rules"],
        mapping=dict(mapping or {}), reader_options=dict(values["reader_options"] or {}),
        sink_options=dict(values["sink_options"] or {}), settings=rule_settings, plugin_settings=plugin_settings,
        report_path=path("report"), rejects_path=path("rejects"), success_path=path("success"),
        dry_run=bool(values["dry_run"]), diff=bool(values["diff"]), raw_rejects=bool(values["raw_rejects"]),
        limits=Limits.parse(values["limits"] or {}), secrets=tuple(secrets),
    )


def api_signature(function: Callable[..., Any]) -> inspect.Signature:
    """``function(input, *, <every run option>, progress=None, secrets=())``: the signature ``etl.run`` shows."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    return inspect.Signature([
        inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation="str | Path"),
        *(inspect.Parameter(option.name, keyword, default=option.default, annotation=KINDS[option.kind])
          for option in RUN_OPTIONS),
        inspect.Parameter("progress", keyword, default=None, annotation="Progress | None"),
        inspect.Parameter("secrets", keyword, default=(), annotation="Iterable[str]"),
    ], return_annotation="Report")


def click_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``command`` with an option of ``etl run`` for each run option (``K=V`` ones repeatable)."""
    import click

    for option in reversed(RUN_OPTIONS):
        if option.kind == "flag":
            decorator = click.option(option.cli_flag, option.name, is_flag=True, help=option.help)
        elif option.kind in ("options", "settings", "limits"):
            decorator = click.option(option.cli_flag, option.name, multiple=True, metavar=option.metavar,
                                     help=option.help)
        elif option.kind in ("path", "table"):
            decorator = click.option(option.cli_flag, option.name, type=click.Path(path_type=Path), help=option.help)
        else:
            decorator = click.option(option.cli_flag, option.name, help=option.help)
        command = decorator(command)
    return command


def from_command_line(values: Mapping[str, Any]) -> dict[str, Any]:
    """The run options given on the command line, ``K=V`` pairs made dicts."""
    from .options import parse_options

    return {option.name: parse_options(values[option.name], option.cli_flag)
            if option.kind in ("options", "settings", "limits") else values[option.name] for option in RUN_OPTIONS}

