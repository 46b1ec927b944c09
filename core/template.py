"""`etl template`: an empty import file with every column of the rules, in a language."""
from __future__ import annotations

from pathlib import Path

import click

from .errors import EtlError, UsageError
from .terminal import echo


@click.command()
@click.option("--format", "format_", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--lang", default="en", show_default=True, help="The language of the column titles (those of the rules).")
@click.option("--rules", help="Whose columns to write (default: the default rules).")
@click.option("--out", type=click.Path(path_type=Path), help="The file to write (default: import-template.FORMAT).")
def template(format_: str, lang: str, rules: str | None, out: Path | None) -> None:
    """Write an empty import file with every column of the rules."""
    from .registry import get_registry

    registry = get_registry()
    out = out or Path(f"import-template.{format_}")
    spec = registry.writer_for(f".{format_}")
    if spec is None:
        raise UsageError(f"no installed format writes .{format_} files")
    fields = registry.rule_set(rules).create().fields
    languages = sorted({language for f in fields for language in f.labels})
    if lang not in languages:
        raise UsageError(f"--lang {lang}: the rules have titles in {', '.join(languages)}")
    try:
        if spec.write_template is not None:
            spec.write_template(out, fields, lang)
        else:
            spec.write(out, [f.labels.get(lang) or f.labels["en"] for f in fields], [], {})
    except OSError as exc:
        raise EtlError(f"{out}: cannot write the template: {exc.strerror or exc}") from None
    echo(f"template written to {out}", err=True)
