"""The README and the repository agree: CI runs the README's test command, its screenshots are committed."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_readmes_test_command_is_what_ci_runs():
    ci_command = (ROOT / ".ci" / "run").read_text().strip().splitlines()[-1]
    readme_commands = [line.split("   #", 1)[0].strip() for line in (ROOT / "README.md").read_text().splitlines()
                       if line.endswith("# runs the tests")]
    assert readme_commands == [ci_command]
    assert "serve" in ci_command and "playwright" in ci_command
    assert "apt-get install -y -qq chromium" in (ROOT / ".ci" / "run").read_text()


def test_the_readmes_screenshots_are_committed():
    import re

    shots = re.findall(r"\]\((docs/screenshots/[\w.-]+\.png)\)", (ROOT / "README.md").read_text())
    assert len(shots) >= 7
    for shot in shots:
        assert (ROOT / shot).stat().st_size < 200_000, shot
