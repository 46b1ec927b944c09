"""The hooks a plugin may implement, each with ``@etl.hookimpl``.

Registration hooks return lists of component specs (see :mod:`etl.components`) and are
called once when the plugin manager is built. Lifecycle hooks are called once per run.
No hook is ever called once per row: data moves in batches inside the components.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import hookspec

if TYPE_CHECKING:
    import click

    from .components import ExecutorSpec, ReaderSpec, RulesSpec, SinkSpec, ValidatorSpec
    from .job import Job
    from .report import Report


@hookspec
def register_readers() -> list[ReaderSpec]:
    """Return the file formats this plugin can read (and write, for rejects files).

    Called once when the registry is built. Each :class:`ReaderSpec` has a unique
    ``name`` (``--reader NAME``) and the file ``extensions`` it is chosen for; its ``options_schema``
    declares the ``--reader-option`` values its ``open`` gets, checked by core (none without one).
    """


@hookspec
def register_sinks() -> list[SinkSpec]:
    """Return the target stores this plugin can write to (``--sink NAME``).

    Called once when the registry is built. ``SinkSpec.open(target, options, dry_run)``
    is called once per run and returns a :class:`etl.components.Sink`. The spec declares what
    the sink can do beyond the protocol (``keeps_history``, ``transactional``, ``finds_by_key``) and the
    options ``open`` gets (``options_schema``, by which core checks them): core relies on the declaration,
    never on probing the sink's methods.
    """


@hookspec
def register_rules() -> list[RulesSpec]:
    """Return the import rules this plugin provides: fields, column mapping, documents.

    Called once when the registry is built. A run uses one set of rules
    (``--rules NAME``; without it, the one whose spec says ``default=True``).
    """


@hookspec
def register_validators() -> list[ValidatorSpec]:
    """Return extra checks to run on every mapped batch before the rules.

    Called once when the registry is built. ``validate(batch, settings)`` receives a
    column-wise :class:`etl.components.Batch` and the run's rule settings, and returns a
    list of :class:`etl.errors.RowError`.
    """


@hookspec
def register_executors() -> list[ExecutorSpec]:
    """Return the ways this plugin can run the jobs of ``etl batch`` (``--executor NAME``).

    Called once when the registry is built. ``ExecutorSpec.open(workers, options)`` is called
    once per batch and gives a :class:`concurrent.futures.Executor`; each job travels to it as
    plain data (:class:`etl.batch_jobs.JobSpec`) and comes back as a small summary.
    """


@hookspec
def plugin_settings_schema() -> Any:
    """Return a marshmallow schema class for this plugin's own ``[plugins.NAME]`` section of the settings
    (NAME being the plugin's name: its entry point's).

    Called when a run starts, before ``job_started``, for a run whose settings have that section: the
    section is validated by it (a problem stops the run in one line, like the rules' settings) and
    ``job.plugin_config(NAME)`` gives what it loaded. A plugin without this hook gets its section as written.
    """


@hookspec
def register_commands(cli: click.Group) -> None:
    """Add subcommands to the ``etl`` command-line group ``cli`` (``@cli.command()``).

    Called once when the CLI lists or looks up its commands.
    """


@hookspec
def job_started(job: Job) -> None:
    """Called when a run starts, after its options are checked and before any row is read.

    ``job`` describes the run (input, reader, sink, target, settings);
    ``job.plugin_config(name)`` gives a plugin its own section of the settings.
    """


@hookspec
def job_finished(job: Job, report: Report) -> None:
    """Called when a run ends, successfully or not, with its final :class:`etl.report.Report`.

    Called after every ``job_started``: a run stopped by a fatal error has the status ``failed``
    and the error in ``report.error``. Neither hook is called for a job whose options are refused.
    """
