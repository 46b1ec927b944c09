"""Third-party plugins from the `etl` entry-point group: listed, used, and isolated when broken."""
from __future__ import annotations

import json
import os
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import EXAMPLE, etl_process

SINK_PLUGIN = '''
import json
import etl
from etl.components import CREATED, SinkSpec


class MemoSink:
    def __init__(self, target):
        self.target, self.docs = target, []

    def existing(self, kind):
        return []

    def write_batch(self, documents):
        self.docs += [[d.kind, d.data] for d in documents]
        return [CREATED] * len(documents)

    def commit(self):
        with open(self.target, "w") as handle:
            json.dump(self.docs, handle)

    def close(self):
        pass


@etl.hookimpl
def register_sinks():
    return [SinkSpec("memo", lambda target, options, dry_run: MemoSink(target), "test sink")]
'''


def install_fake_distribution(site: Path, dist: str, module: str, source: str, version: str = "1.2.3") -> None:
    """Make ``module`` an installed distribution with an `etl` entry point, as pip would."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[etl]\n{dist} = {module}\n")


@pytest.fixture
def site(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    return site


def env_with(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}


def test_entry_point_sink_is_listed_and_receives_the_documents(site, tmp_path):
    install_fake_distribution(site, "etl-sink-memo", "etl_sink_memo", SINK_PLUGIN)
    listing = etl_process("plugins", "--json", env=env_with(site))
    assert listing.code == 0, listing.err
    plugins = {p["name"]: p for p in json.loads(listing.out)["plugins"]}
    assert plugins["etl-sink-memo"]["sink"] == ["memo"]
    assert plugins["etl-sink-memo"]["version"] == "1.2.3"
    assert plugins["etl.connectors.tinydb_sink"]["sink"] == ["tinydb"]
    assert plugins["etl.plugins"]["rules"] == ["customers"]
    result = etl_process("run", EXAMPLE, "--sink", "memo", "--target", tmp_path / "memo.json", env=env_with(site))
    assert result.code == 0, result.err
    docs = json.loads((tmp_path / "memo.json").read_text())
    assert sum(kind == "customers" for kind, _ in docs) == 17
    assert "etl-sink-memo" in etl_process("plugins", env=env_with(site)).out


def test_a_broken_plugin_is_named_and_breaks_nothing(site, tmp_path):
    install_fake_distribution(site, "etl-broken", "etl_broken", "raise ImportError('needs frobnicate')")
    help_ = etl_process("--help", env=env_with(site))
    assert help_.code == 0 and "run" in help_.out
    assert "etl-broken" in help_.err and "needs frobnicate" in help_.err
    listing = etl_process("plugins", env=env_with(site))
    assert listing.code == 0 and "FAILED etl-broken: ImportError: needs frobnicate" in listing.out
    result = etl_process("run", EXAMPLE, "--sink", "json", "--target", tmp_path / "o.json", env=env_with(site))
    assert result.code == 0, result.err


def test_two_components_with_one_name_are_refused_naming_both_plugins(site, tmp_path):
    clash = SINK_PLUGIN.replace('SinkSpec("memo"', 'SinkSpec("json"')
    install_fake_distribution(site, "etl-clash", "etl_clash", clash)
    result = etl_process("run", EXAMPLE, "--sink", "json", env=env_with(site))
    assert result.code == 2
    assert "sink 'json' is registered by both plugin 'etl.connectors.json_sink' and plugin 'etl-clash'" in result.err
    assert "CONFLICT" in etl_process("plugins", env=env_with(site)).out


def test_import_etl_works_and_core_is_not_a_package(tmp_path):
    probe = "import importlib.util, etl; print(importlib.util.find_spec('core') is None, etl.__version__)"
    out = etl_process("--version", cwd=tmp_path)
    assert out.code == 0 and "etl, version" in out.out
    import subprocess

    proc = subprocess.run([sys.executable, "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert proc.stdout.startswith("True ")


LIFECYCLE_PLUGIN = '''
import json
import click
import etl
from etl.components import ValidatorSpec
from etl.errors import RowError

LOG = []


def no_gmail(batch, settings):
    emails = batch.columns.get("contact_email", [])
    return [RowError(line, "private addresses are refused", "contact_email", email)
            for line, email in zip(batch.lines, emails) if email.strip().endswith("@gmail.com")]


@etl.hookimpl
def register_validators():
    return [ValidatorSpec("no-gmail", no_gmail, "refuses private addresses")]


@etl.hookimpl
def plugin_settings_schema():
    from marshmallow import Schema, fields

    class AuditSettings(Schema):
        log = fields.String(required=True)
        keep = fields.Integer(load_default=3)

    return AuditSettings


@etl.hookimpl
def job_started(job):
    LOG.append({"config": job.plugin_config("etl-audit"), "input": job.input.name})


@etl.hookimpl
def job_finished(job, report):
    LOG.append({"status": report.status, "rejected": report.rejected})
    with open(job.plugin_config("etl-audit")["log"], "w") as handle:
        json.dump(LOG, handle)


@etl.hookimpl
def register_commands(cli):
    @cli.command()
    def hello():
        """Say hello."""
        click.echo("hello from etl-audit")
'''


def test_lifecycle_validator_command_and_plugin_settings_section(site, tmp_path):
    install_fake_distribution(site, "etl-audit", "etl_audit", LIFECYCLE_PLUGIN)
    (tmp_path / "settings.toml").write_text(
        f'default_payment_period = 30\n[plugins.etl-audit]\nlog = "{tmp_path / "audit.json"}"\n')
    (tmp_path / "in.csv").write_text("Customer ID;Customer name;Contact email\nC1;Acme;a@acme.example\n"
                                     "C2;Beta;b@gmail.com\n")
    result = etl_process("run", "in.csv", "--settings", "settings.toml", "--report", "r.json",
                         cwd=tmp_path, env=env_with(site))
    assert result.code == 1, result.err
    started, finished = json.loads((tmp_path / "audit.json").read_text())
    assert started == {"config": {"log": str(tmp_path / "audit.json"), "keep": 3}, "input": "in.csv"}
    assert finished == {"status": "partial", "rejected": 1}
    [error] = json.loads((tmp_path / "r.json").read_text())["errors"]
    assert (error["line"], error["column"], error["message"]) == (3, "Contact email", "private addresses are refused")
    hello = etl_process("hello", env=env_with(site))
    assert hello.code == 0 and hello.out == "hello from etl-audit\n"
    assert "hello" in etl_process("--help", env=env_with(site)).out


READER_AND_RULES_PLUGIN = '''
import json
import etl
from etl.components import CREATED, Document, Field, ReaderSpec, RulesOutcome, RulesSpec
from etl.errors import RowError


class JsonLinesTable:
    """One JSON object per line (line numbers from 1); the keys of the first object are the header."""

    format_options = {}

    def __init__(self, path):
        self.path = path
        self.checksum, self.warnings, self.estimated_rows = None, [], None
        with open(path, encoding="utf-8") as handle:
            self.header = list(json.loads(handle.readline()))

    def rows(self):
        with open(self.path, encoding="utf-8") as handle:
            for number, text in enumerate(handle, start=1):
                if text.strip():
                    record = json.loads(text)
                    yield number, [str(record.get(key, "")) for key in self.header]

    def close(self):
        pass


class TagRules:
    kinds = ("tags",)
    fields = [Field("tag", {"en": "Tag"}), Field("count", {"en": "Count"}, ("n",))]

    def missing_fields(self, mapped):
        return [] if "tag" in mapped else ["no Tag column"]

    def start(self, settings, existing):
        self.totals, self.lines, self.errors = {}, {}, []
        self.factor = int(settings.get("factor", 1))

    def add_batch(self, batch):
        for line, tag, count in zip(batch.lines, batch.columns["tag"], batch.columns["count"]):
            if not count.isdigit():
                self.errors.append(RowError(line, "count must be a number", "count", count))
                continue
            self.totals[tag] = self.totals.get(tag, 0) + int(count) * self.factor
            self.lines.setdefault(tag, []).append(line)
        return []

    def finish(self):
        docs = [Document("tags", tag, {"tag": tag, "total": total}, tuple(self.lines[tag]))
                for tag, total in self.totals.items()]
        return RulesOutcome(documents=[docs], errors=self.errors)


@etl.hookimpl
def register_readers():
    return [ReaderSpec("jsonl", (".jsonl",), lambda path, options: JsonLinesTable(path))]


@etl.hookimpl
def register_rules():
    return [RulesSpec("tags", TagRules, "sums counts per tag")]
'''


def test_a_third_party_reader_and_rules_run_through_the_same_pipeline(site, tmp_path):
    install_fake_distribution(site, "etl-tags", "etl_tags", READER_AND_RULES_PLUGIN)
    (tmp_path / "in.jsonl").write_text('{"Tag": "red", "n": 2}\n{"Tag": "blue", "n": 1}\n'
                                       '{"Tag": "red", "n": 5}\n{"Tag": "red", "n": "x"}\n')
    result = etl_process("run", "in.jsonl", "--rules", "tags", "--sink", "json", "--target", "o.json",
                         "--rule-option", "factor=10", "--report", "r.json", cwd=tmp_path, env=env_with(site))
    assert result.code == 1, result.err
    assert json.loads((tmp_path / "o.json").read_text()) == {"tags": [{"tag": "red", "total": 70},
                                                                      {"tag": "blue", "total": 10}]}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["tags"]["created"] == 2
    assert report["errors"] == [{"line": 4, "column": "n", "value": "x", "message": "count must be a number"}]


def test_a_failed_run_ends_its_lifecycle_writes_its_report_and_its_history(site, tmp_path):
    install_fake_distribution(site, "etl-audit", "etl_audit", LIFECYCLE_PLUGIN)
    (tmp_path / "settings.toml").write_text(f'[plugins.etl-audit]\nlog = "{tmp_path / "audit.json"}"\n')
    (tmp_path / "in.csv").write_text("Customer ID;Customer name\nC1;Acme\n")
    assert etl_process("run", "in.csv", "--settings", "settings.toml", cwd=tmp_path, env=env_with(site)).code == 0
    (tmp_path / "bad.csv").write_text("Customer ID;Customer name\nC2;Beta\nC3;Gamma\n")
    result = etl_process("run", "bad.csv", "--settings", "settings.toml", "--report", "r.json", "--limit", "rows=1",
                         cwd=tmp_path, env=env_with(site))
    assert result.code == 2 and "rows" in result.err, result.err
    started, finished = json.loads((tmp_path / "audit.json").read_text())
    assert started["input"] == "bad.csv" and finished == {"status": "failed", "rejected": 0}
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["status"] == "failed" and report["error"] in result.err
    listing = etl_process("history", cwd=tmp_path, env=env_with(site)).out.splitlines()
    assert listing[0].split()[1] == "FAILED" and listing[0].endswith("bad.csv") and listing[1].split()[1] == "OK"
    shown = etl_process("history", "show", listing[0].split()[0], cwd=tmp_path, env=env_with(site)).out
    assert f"error: {report['error']}" in shown
    store = json.loads((tmp_path / "etl-db.json").read_text())
    assert [c["external_id"] for c in store["customers"].values()] == ["C1"]  # nothing else was written


def test_a_plugin_section_is_checked_by_the_plugin_s_own_schema(site, tmp_path):
    install_fake_distribution(site, "etl-audit", "etl_audit", LIFECYCLE_PLUGIN)
    (tmp_path / "in.csv").write_text("Customer ID;Customer name\nC1;Acme\n")
    for section, message in [
        ('[plugins.etl-audit]\nlgo = "x"\n', "invalid settings (plugin 'etl-audit'): lgo: unknown setting"),
        ('[plugins.etl-audit]\nlog = "a.json"\nkeep = "many"\n', "keep: Not a valid integer."),
        ('[plugins.etl-audti]\nlog = "a.json"\n', "[plugins.etl-audti]: no plugin is named 'etl-audti' "
                                                    "(did you mean 'etl-audit'?"),
    ]:
        (tmp_path / "settings.toml").write_text(section)
        result = etl_process("run", "in.csv", "--settings", "settings.toml", cwd=tmp_path, env=env_with(site))
        assert result.code == 2 and message in result.err, result.err
        assert len(result.err.strip().splitlines()) == 1 and not (tmp_path / "etl-db.json").exists()
