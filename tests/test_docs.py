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
