"""The plugin guide keeps up with the hooks: each one documented, in the README and in code, and tested."""
from __future__ import annotations

import inspect
from pathlib import Path

from etl import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = [name for name, fn in inspect.getmembers(hookspecs, inspect.isfunction) if hasattr(fn, "etl_spec")]


def test_there_are_hooks():
    assert {"register_readers", "register_sinks", "register_rules", "job_started"} <= set(HOOKS)


def test_every_hook_has_a_docstring_and_is_in_the_readme_guide():
    guide = (ROOT / "README.md").read_text().split("## Writing a plugin", 1)[1]
    for name in HOOKS:
        assert (getattr(hookspecs, name).__doc__ or "").strip(), name
        assert f"`{name}(" in guide, name


def test_every_hook_is_implemented_in_a_test_plugin():
    tests = "".join(p.read_text() for p in (ROOT / "tests").glob("test_*.py") if p.name != "test_docs.py")
    for name in HOOKS:
        assert f"def {name}(" in tests, name


def test_the_readme_plugin_examples_work_as_written(tmp_path):
    import json
    import os
    import re
    import sys

    from conftest import etl_process
    from test_plugins import install_fake_distribution

    guide = (ROOT / "README.md").read_text().split("## Writing a plugin", 1)[1]
    blocks = re.findall(r"\(`(my_\w+)\.py`\).*?```python\n(.*?)```", guide, re.S)
    assert [name for name, _ in blocks] == ["my_sink", "my_reader", "my_rules"]
    site = tmp_path / "site"
    site.mkdir()
    for name, code in blocks:
        install_fake_distribution(site, name.replace("_", "-"), name, code)
    (tmp_path / "counts.jsonl").write_text('{"Tag": "red", "n": 2}\n{"Tag": "red", "n": 3}\n{"Tag": "x", "n": "?"}\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    result = etl_process("run", "counts.jsonl", "--rules", "tags", "--sink", "lines", "--target", "tags.jsonl",
                         cwd=tmp_path, env=env)
    assert result.code == 1, result.err
    assert [json.loads(line) for line in (tmp_path / "tags.jsonl").read_text().splitlines()] == [
        {"kind": "tags", "tag": "red", "total": 5}]
    assert "line 3 column 'n': count must be a whole number" in result.err


def test_the_readme_testing_example_runs_the_kit_on_the_readme_sink(tmp_path):
    import re
    import subprocess
    import sys

    guide = (ROOT / "README.md").read_text().split("## Writing a plugin", 1)[1]
    (tmp_path / "my_sink.py").write_text(re.search(r"\(`my_sink\.py`\).*?```python\n(.*?)```", guide, re.S)[1])
    (tmp_path / "test_my_sink.py").write_text(
        re.search(r"`tests/test_my_sink\.py`.*?```python\n(.*?)```", guide, re.S)[1])
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_my_sink.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout, result.stdout
