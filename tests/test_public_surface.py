"""One public surface: plugins, the built-in ones and the README's included, import from `etl` (and test with
`etl.testing`) and from nothing else; `import etl` alone imports nothing."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import etl

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_CODE = sorted([*ROOT.glob("connectors/*.py"), *ROOT.glob("plugins/*.py"),
                      *(p for p in ROOT.glob("examples/*/**/*.py") if not {".venv", "build"} & set(p.parts))])
ALLOWED = {"etl", "etl.testing"}


def etl_imports(source: str) -> list[str]:
    """The modules of etl that ``source`` imports (relative imports are the plugin's own)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.split(".")[0] == "etl"]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and (node.module or "").split(".")[0] == "etl":
            found.append(node.module)
    return found


@pytest.mark.parametrize("path", PLUGIN_CODE, ids=lambda p: str(p.relative_to(ROOT)))
def test_plugins_import_only_the_public_surface(path):
    assert set(etl_imports(path.read_text(encoding="utf-8"))) <= ALLOWED


def test_the_readme_plugin_guide_imports_only_the_public_surface():
    guide = (ROOT / "README.md").read_text(encoding="utf-8").split("## Writing a plugin", 1)[1]
    blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
    assert blocks
    for block in blocks:
        assert set(etl_imports(block)) <= ALLOWED, block


def test_the_check_can_fail():
    assert etl_imports("from etl.components import Document\nimport etl.pipeline\nfrom . import x\n") == \
        ["etl.components", "etl.pipeline"]


def test_every_public_name_is_there():
    for name in etl.PUBLIC:
        assert getattr(etl, name) is not None, name
    assert set(etl.__all__) == {"__version__", "hookimpl", "hookspec", *etl.PUBLIC}
    with pytest.raises(AttributeError):
        etl.pipeline_internals  # noqa: B018


def test_import_etl_alone_imports_nothing_of_etl():
    code = "import sys, etl; print(sorted(m for m in sys.modules if m.startswith('etl.') or m == 'pluggy'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_core_never_imports_connectors_or_plugins():
    for path in ROOT.glob("core/**/*.py"):
        imported = etl_imports(path.read_text(encoding="utf-8"))
        assert not [m for m in imported if m.startswith(("etl.connectors", "etl.plugins"))], path
