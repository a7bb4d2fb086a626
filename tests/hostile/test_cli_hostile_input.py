"""Hostile input to the CLI: each reported input, fed as it was reported, gives one clear line or a bounded
report, never a traceback, a hang or a crash."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

import mendoza
from mendoza.cli import cli
from mendoza.cli.text import NAME_LIMIT, clip, clip_block, plain

SRC = str(Path(mendoza.__file__).resolve().parents[1])


def mendoza_cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "120", "PYTHONPATH": SRC}
    return subprocess.run(
        [sys.executable, "-m", "mendoza", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env
    )


def _one_line_exit_2(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert expected in result.stderr, result.stderr


def test_show_html_into_a_missing_folder(write_suite: Any, tmp_path: Path) -> None:
    assert mendoza_cli("run", str(write_suite()), "-q", cwd=tmp_path).returncode == 0
    result = mendoza_cli("show", "--html", "missing_dir/r.html", cwd=tmp_path)
    _one_line_exit_2(result, "missing_dir/r.html")
    assert "No such file or directory" in result.stderr


@pytest.mark.parametrize(
    ("value", "expected"), [("nan", "'nan' is not a finite number"), ("1e-300", "is not in the range")]
)
def test_plan_delta_nan_and_tiny(tmp_path: Path, value: str, expected: str) -> None:
    result = mendoza_cli("plan", "--delta", value, "--between", "0.02", "--within", "0.1", cwd=tmp_path)
    _one_line_exit_2(result, expected)
    assert "--delta" in result.stderr


def test_concurrency_of_a_hundred_million_is_refused(write_suite: Any, tmp_path: Path) -> None:
    result = mendoza_cli("run", str(write_suite()), "--concurrency", "100000000", cwd=tmp_path)
    _one_line_exit_2(result, "'--concurrency': 100000000 is not in the range 1<=x<=1024")
    suite = write_suite(variants=[{"id": "echo", "model": "echo", "prompt": "say {{ word }}",
                                   "concurrency": 100000000}])
    result = mendoza_cli("run", str(suite), cwd=tmp_path)
    _one_line_exit_2(result, "suite.yaml:19: 'variants.0.concurrency': Input should be less than or equal to 1024")
    assert not (tmp_path / ".mendoza").exists()  # refused before anything was recorded


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--retry-errors"], "--retry-errors works only with --resume"),
        (["--budget", "50"], "--budget works only with --until-decided"),
    ],
)
def test_options_that_would_be_ignored_are_refused(write_suite: Any, tmp_path: Path, extra: list[str],
                                                   expected: str) -> None:
    result = CliRunner().invoke(cli, ["run", str(write_suite()), *extra])
    assert result.exit_code == 2 and expected in result.output
    assert not (tmp_path / ".mendoza").exists()


def test_a_megabyte_suite_name_and_variant_id_print_a_bounded_report(tmp_path: Path) -> None:
    name = "S[bold]" + "x" * 1_000_000
    variant = "v[red]" + "y" * 1_000_000
    suite = {
        "suite": name,
        "cases": [{"id": "c0", "word": "hi"}],
        "variants": [{"id": variant, "model": "echo", "prompt": "say {{ word }}"}],
        "graders": [{"contains": "hi"}],
    }
    (tmp_path / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    started = time.monotonic()
    result = mendoza_cli("run", "suite.yaml", "-q", cwd=tmp_path, timeout=100)
    assert result.returncode == 0, result.stderr[-500:]
    assert time.monotonic() - started < 60
    assert len(result.stdout) < 10_000  # names are clipped, not printed a megabyte at a time
    assert "S[bold]xxx" in result.stdout and "v[red]yyy" in result.stdout  # markup shown, not applied
    assert "…" in result.stdout
    shown = mendoza_cli("runs", cwd=tmp_path, timeout=100)
    assert shown.returncode == 0 and len(shown.stdout) < 5_000


def test_clip_bounds_escapes_and_flattens() -> None:
    text = "[bold]x" + "y" * 10_000_000 + "\n\x1b[31m"
    started = time.monotonic()
    clipped = clip(text)
    assert time.monotonic() - started < 0.5
    assert clipped.startswith("\\[bold]x") and clipped.endswith("…")
    assert len(plain(text)) == NAME_LIMIT
    assert plain("a\nb\tc\x1b[31m") == "a b c?[31m"
    block = clip_block("line one\nline two [b]" + "z" * 10_000)
    assert block.startswith("line one\nline two \\[b]") and "more characters]" in block


def test_names_that_are_rich_markup_print_as_they_are(write_suite: Any, tmp_path: Path) -> None:
    suite = write_suite(suite="[/bold] closing", variants=[{"id": "[/]", "model": "echo", "prompt": "say {{ word }}"}])
    result = CliRunner().invoke(cli, ["run", str(suite), "--db", str(tmp_path / "m.db"), "-q"],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "[/bold] closing" in result.output and "[/]" in result.output


def test_a_variants_concurrency_is_bounded_in_the_python_api_too() -> None:
    from pydantic import ValidationError

    from mendoza.core import Variant

    with pytest.raises(ValidationError, match="less than or equal to 1024"):
        Variant(id="v", model="echo", concurrency=100_000_000)
    assert Variant(id="v", model="echo", concurrency=1024).concurrency == 1024
