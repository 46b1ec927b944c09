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
