"""Reader and sink options: declared by a marshmallow schema on the spec, checked by core before ``open`` with one
error style, whether they come from the command line, the Python API or a batch config; ``open`` gets them typed."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import etl_process, write_csv
from test_plugins import env_with, install_fake_distribution

ROW = {"Customer ID": "C1", "Customer name": "Acme"}


@pytest.fixture
def site(tmp_path):
    (tmp_path / "site").mkdir()
    return tmp_path / "site"


@pytest.mark.parametrize("args, message", [
    (("--reader-option", "delimitr=;"),
     "unknown csv reader option 'delimitr' (did you mean 'delimiter'? valid: delimiter, encoding, max_field_size)"),
    (("--reader-option", "sheet=2"), "unknown csv reader option 'sheet' (valid: delimiter, encoding, max_field_size)"),
    (("--sink", "sqlite", "--sink-option", "locktimeout=5"),
     "unknown sqlite sink option 'locktimeout' (did you mean 'lock_timeout'? valid: lock_timeout)"),
    (("--sink", "http", "--target", "http://127.0.0.1:9", "--sink-option", "heder=X-Key: 1"),
     "unknown http sink option 'heder' (did you mean 'header'? valid: header, timeout, concurrency, rate, retries, "
     "backoff, give_up_after, method, path, path.KIND)"),
])
def test_an_unknown_option_on_the_command_line_names_the_closest(etl, tmp_path, args, message):
    write_csv(tmp_path / "in.csv", [ROW])
    result = etl("run", "in.csv", *args)
    assert (result.code, result.err) == (2, f"etl: error: {message}\n")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize("value, in_toml, message", [
    ("-1", "-1", "tinydb sink option lock_timeout='-1': Must be greater than or equal to 0."),
    ("abc", '"abc"', "tinydb sink option lock_timeout='abc': Not a valid number."),
])
def test_a_bad_value_is_refused_alike_from_the_cli_the_api_and_a_batch(etl, tmp_path, value, in_toml, message):
    import etl as api
    from etl import UsageError

    write_csv(tmp_path / "in.csv", [ROW])
    cli = etl("run", "in.csv", "--sink-option", f"lock_timeout={value}")
    assert (cli.code, cli.err) == (2, f"etl: error: {message}\n")
    with pytest.raises(UsageError) as raised:
        api.run(tmp_path / "in.csv", sink_options={"lock_timeout": value})
    assert str(raised.value) == message
    (tmp_path / "jobs.toml").write_text(f'[[jobs]]\nname = "j"\ninput = "in.csv"\n'
                                        f'sink_options = {{ lock_timeout = {in_toml} }}\n')
    batch = etl("batch", "jobs.toml")
    assert batch.code == 2 and message in batch.err and "Traceback" not in batch.err
    assert not (tmp_path / "etl-db.json").exists()


TYPED_SINK = '''
import json
import etl
from etl import CREATED, SinkSpec


def options_schema():
    from marshmallow import Schema, fields, validate

    class Options(Schema):
        indent = fields.Integer(load_default=0, validate=validate.Range(min=0, max=8))
        sort_keys = fields.Boolean(load_default=False, data_key="sort")

    return Options


class TypedSink:
    def __init__(self, target, options):
        self.target, self.options, self.docs = target, options, []

    def existing(self, kind):
        return []

    def write_batch(self, documents):
        self.docs += [d.data for d in documents]
        return [CREATED] * len(documents)

    def commit(self):
        with open(self.target, "w") as handle:
            got = {name: [type(value).__name__, value] for name, value in self.options.items()}
            json.dump({"options": got, "docs": self.docs}, handle, **self.options)

    def close(self):
        pass


@etl.hookimpl
def register_sinks():
    return [SinkSpec("typed", lambda target, options, dry_run: TypedSink(target, options),
                     options_schema=options_schema())]
'''


def test_a_plugin_sink_declaring_its_options_schema_gets_typed_values(site, tmp_path):
    install_fake_distribution(site, "etl-sink-typed", "etl_sink_typed", TYPED_SINK)
    write_csv(tmp_path / "in.csv", [ROW])

    def run(*options: str):
        return etl_process("run", "in.csv", "--sink", "typed", "--target", "out.json", *options, cwd=tmp_path,
                           env=env_with(site))

    result = run("--sink-option", "indent=2", "--sink-option", "sort=yes")
    assert result.code == 0, result.err
    written = (tmp_path / "out.json").read_text()
    assert json.loads(written)["options"] == {"indent": ["int", 2], "sort_keys": ["bool", True]}
    assert written.startswith('{\n  "docs"')  # indented, keys sorted
    assert run().code == 0 and json.loads((tmp_path / "out.json").read_text())["options"] == {
        "indent": ["int", 0], "sort_keys": ["bool", False]}
    for option, message in [("indent=9", "typed sink option indent='9': Must be greater than or equal to 0 and less "
                                         "than or equal to 8."),
                            ("indnt=2", "unknown typed sink option 'indnt' (did you mean 'indent'? valid: indent, "
                                        "sort)")]:
        refused = run("--sink-option", option)
        assert (refused.code, refused.err) == (2, f"etl: error: {message}\n")



def test_etl_help_imports_no_marshmallow():
    """The schemas are made when the registry is built, not when the connectors are imported."""
    code = ("import sys\nsys.argv = ['etl', '--help']\nfrom etl.cli import main\ntry:\n    main()\nexcept SystemExit:\n"
            "    pass\nprint([m for m in sys.modules if m.split('.')[0] == 'marshmallow'])")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "run" in result.stdout and result.stdout.strip().endswith("[]"), result.stdout + result.stderr
