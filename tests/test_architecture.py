"""The layering of docs/ARCHITECTURE.md holds, files stay small, and the public API is what it says."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mendoza

SRC = Path(__file__).resolve().parents[1] / "src" / "mendoza"


def test_layers_import_only_downward() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=SRC.parents[1], timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 kept, 0 broken" in result.stdout  # layers; no stats in CLI or viewer; store by its package; graders


def test_source_files_stay_under_600_lines() -> None:
    big = {
        str(path.relative_to(SRC)): n
        for path in SRC.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > 600
    }
    assert big == {}


def test_public_api_is_complete_and_importable() -> None:
    for name in mendoza.__all__:
        assert getattr(mendoza, name) is not None, name
    assert callable(mendoza.load_suite) and callable(mendoza.run_suite) and callable(mendoza.open_store)


def test_importing_mendoza_does_not_pull_in_the_heavy_parts() -> None:
    heavy = "('llama_cpp', 'openai', 'anthropic', 'scipy', 'ray')"
    code = f"import sys, mendoza; print(sorted(m for m in {heavy} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stdout + result.stderr
