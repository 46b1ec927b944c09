"""Core knows no customer and no store by name: the default rules and sink are those that declare it."""
from __future__ import annotations

import json

from conftest import EXAMPLE, etl_process
from test_plugins import env_with, install_fake_distribution

ANOTHER_DEFAULT_SINK = '''
import etl
from etl import CREATED, SinkSpec


class Quiet:
    def existing(self, kind):
        return []

    def write_batch(self, documents):
        return [CREATED] * len(documents)

    def commit(self):
        pass

    def close(self):
        pass


@etl.hookimpl
def register_sinks():
    return [SinkSpec("quiet", lambda target, options, dry_run: Quiet(), "writes nothing", default=True)]
'''


def test_the_defaults_are_declared_by_the_plugins(tmp_path):
    listing = json.loads(etl_process("plugins", "--json").out)
    assert listing["defaults"] == {"sink": "tinydb", "rules": "customers"}
    result = etl_process("run", EXAMPLE, "--report", "r.json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert (tmp_path / "etl-db.json").exists()


def test_two_default_sinks_make_a_run_name_one(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    install_fake_distribution(site, "etl-sink-quiet", "etl_sink_quiet", ANOTHER_DEFAULT_SINK)
    result = etl_process("run", EXAMPLE, cwd=tmp_path, env=env_with(site))
    assert result.code == 2
    assert "'tinydb' and 'quiet' both declare themselves the default sink: name one" in result.err
    assert etl_process("run", EXAMPLE, "--sink", "quiet", cwd=tmp_path, env=env_with(site)).code == 0
    assert not (tmp_path / "etl-db.json").exists()


def test_a_template_language_the_rules_lack_is_one_line(etl):
    result = etl("template", "--lang", "xx")
    assert result.code == 2 and "--lang xx: the rules have titles in en, fr" in result.err
