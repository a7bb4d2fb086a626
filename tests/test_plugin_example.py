"""The worked plugin of ``examples/plugins/mendoza-shout``, used for real: its entry points made visible the way
pip would (a ``.dist-info`` folder on ``sys.path``), then a suite that names them loaded, run into a SQLite
file, reported, and listed by the CLI."""

from __future__ import annotations

import importlib.metadata
import random
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from mendoza.api import load_suite, open_store, run_suite
from mendoza.cli import cli
from mendoza.errors import ConfigError
from mendoza.registry import grader_names, provider_class, provider_names, reload_plugins
from mendoza.report import build_report

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "plugins" / "mendoza-shout"

WHISPER = 0.25
REPEATS = 4
TEXTS = ["hello there", "Refund my order, please", "where is my parcel?", "Ünïcödé letters too", "42 is not a word"]


def _entry_points_txt(pyproject: Path) -> str:
    """The ``entry_points.txt`` pip writes for a project: one section per group of its pyproject.toml."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    lines: list[str] = []
    for group, entries in project["entry-points"].items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
        lines.append("")
    return "\n".join(lines)


@pytest.fixture
def shout_installed(tmp_path: Path) -> Iterator[Path]:
    """The example plugin, visible to mendoza as if pip had installed it; forgotten again afterwards."""
    site = tmp_path / "site-packages"
    dist_info = site / "mendoza_shout-0.1.dist-info"
    dist_info.mkdir(parents=True)
    dist_info.joinpath("METADATA").write_text(
        "Metadata-Version: 2.1\nName: mendoza-shout\nVersion: 0.1\n", encoding="utf-8"
    )
    dist_info.joinpath("entry_points.txt").write_text(_entry_points_txt(EXAMPLE / "pyproject.toml"), encoding="utf-8")
    added = [str(site), str(EXAMPLE)]  # the metadata, and the module it points at
    sys.path[:0] = added
    reload_plugins()
    try:
        yield tmp_path
    finally:
        for entry in added:
            sys.path.remove(entry)
        sys.modules.pop("mendoza_shout", None)
        reload_plugins()


def _suite(tmp_path: Path, **changes: Any) -> Path:
    data: dict[str, Any] = {
        "suite": "shouty",
        "cases": [{"id": f"c{index}", "text": text} for index, text in enumerate(TEXTS)],
        "variants": [
            {"id": "loud", "model": "shout", "prompt": "{{ text }}"},
            {"id": "moody", "model": "shout", "prompt": "{{ text }}", "params": {"whisper": WHISPER}},
        ],
        "graders": [{"all-caps": 0.9}],  # the grader's shorthand: min_share 0.9
        "repeats": REPEATS,
    }
    data.update(changes)
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def test_the_plugin_registers_under_its_entry_point_names(shout_installed: Path) -> None:
    assert "shout" in provider_names() and "all-caps" in grader_names()
    # Built-in names come first, plugins after them.
    assert provider_names().index("shout") > provider_names().index("mock")
    assert provider_class("shout").__module__ == "mendoza_shout"


def test_a_suite_using_the_plugin_runs_into_the_store_with_the_verdicts_it_should_have(
    shout_installed: Path,
) -> None:
    suite = load_suite(_suite(shout_installed))
    assert [spec.params for spec in suite.graders] == [{"min_share": 0.9}]
    db = shout_installed / "evals.db"
    run = run_suite(suite, db=db)
    assert run.status == "complete" and run.done_samples == 2 * len(TEXTS) * REPEATS

    with open_store(db, readonly=True) as store:
        samples = list(store.samples.iterate(run.id))
        report = build_report(store, run.id)
    assert len(samples) == 2 * len(TEXTS) * REPEATS
    whispered = 0
    for sample in samples:
        text = TEXTS[int(sample.case_id[1:])]
        assert sample.prompt == text and sample.error is None
        whispers = sample.variant_id == "moody" and random.Random(sample.seed).random() < WHISPER
        whispered += whispers
        if whispers:
            assert sample.output == text.lower()
            assert sample.passed is False
        else:
            assert sample.output == text.upper()
            assert sample.passed is True
        (grade,) = sample.grades
        assert grade.grader == "all-caps" and grade.grader_hash
        if text == "42 is not a word":  # the grader counts letters only
            assert "of 10 letters are upper case" in grade.explanation
    assert 0 < whispered < len(TEXTS) * REPEATS  # the seeds gave the moody variant some of each

    # The stored rows are what the report counts.
    assert report.variant("loud").passed == len(TEXTS) * REPEATS
    assert report.variant("moody").passed == len(TEXTS) * REPEATS - whispered
    assert report.variant("moody").graded == len(TEXTS) * REPEATS


def test_a_bad_provider_param_is_one_line_at_load_time(shout_installed: Path) -> None:
    variants = [{"id": "loud", "model": "shout", "prompt": "{{ text }}", "params": {"whisper": 2}}]
    with pytest.raises(ConfigError, match=r"suite\.yaml:\d+: shout: params\.whisper must be a number from 0 to 1"):
        load_suite(_suite(shout_installed, variants=variants))


def test_a_bad_grader_param_is_one_line_at_load_time(shout_installed: Path) -> None:
    with pytest.raises(ConfigError, match=r"suite\.yaml:\d+: grader 'all-caps': unknown parameter 'min_shar'"):
        load_suite(_suite(shout_installed, graders=[{"all-caps": {"min_shar": 0.5}}]))


def test_the_cli_lists_and_runs_the_plugin(shout_installed: Path) -> None:
    runner = CliRunner(env={"COLUMNS": "400"})  # rich reads the width from COLUMNS, not from a tty
    providers = runner.invoke(cli, ["providers"], terminal_width=240)
    assert providers.exit_code == 0, providers.output
    assert "shout" in providers.output and "shouts the rendered prompt back" in providers.output
    graders = runner.invoke(cli, ["graders"], terminal_width=240)
    assert graders.exit_code == 0, graders.output
    assert "all-caps" in graders.output and "min_share, min_letters" in graders.output

    db = shout_installed / "cli.db"
    gated = _suite(shout_installed, thresholds={"min_pass_rate": 0.5, "variants": ["loud"]})
    result = runner.invoke(cli, ["run", str(gated), "--db", str(db), "--quiet"], terminal_width=240)
    assert result.exit_code == 0, result.output
    assert "shouty" in result.output and "20/20" in result.output  # loud: every sample passed


def test_without_the_plugin_its_names_are_unknown(tmp_path: Path) -> None:
    try:
        importlib.metadata.distribution("mendoza-shout")
    except importlib.metadata.PackageNotFoundError:
        pass
    else:
        pytest.skip("mendoza-shout is installed in this environment")
    reload_plugins()
    assert "shout" not in provider_names() and "all-caps" not in grader_names()
    with pytest.raises(ConfigError, match="unknown provider 'shout'"):
        load_suite(_suite(tmp_path))
