"""What etl's start-up imports: the columnar engine's polars only inside a run."""
from __future__ import annotations

import subprocess
import sys


def test_help_and_registration_never_import_polars(tmp_path):
    code = """
import sys
from etl.cli import main
sys.argv = ["etl", "--help"]
try:
    main()
except SystemExit:
    pass
from etl.registry import get_registry
rules = get_registry().rule_set("customers").create()
assert rules.fields
print("polars" in sys.modules)
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "False"
