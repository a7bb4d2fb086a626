"""Start-up: ``mendoza --help`` imports no command, and ``mendoza show`` only what a report needs; every command of
the table loads. (Which modules are imported is behaviour; how long it takes is measured by the benchmarks.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import mendoza
from mendoza.cli import cli
from mendoza.cli.main import COMMANDS

SRC = str(Path(mendoza.__file__).parents[1])

#: Heavy third-party modules no start-up should load unless its command uses them.
HEAVY = ("numpy", "scipy", "openai", "anthropic", "aiohttp", "llama_cpp", "opentelemetry", "datasketch", "starlette",
         "jinja2", "jsonschema")


def _loaded_by(*argv: str, cwd: Path | None = None) -> set[str]:
    """The modules ``mendoza ARGV`` has imported when it exits (run as ``python -m mendoza``)."""
    code = (
        "import json, runpy, sys\n"
        f"sys.argv = ['mendoza', *{list(argv)!r}]\n"
        "try:\n    runpy.run_module('mendoza', run_name='__main__')\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print(json.dumps(sorted(sys.modules)), file=sys.stderr)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=cwd, timeout=120)
    return set(json.loads(result.stderr.strip().splitlines()[-1]))


def test_help_imports_no_command_and_no_heavy_module() -> None:
    loaded = _loaded_by("--help")
    assert {name.split(".")[0] for name in loaded} & {*HEAVY, "pydantic", "rich", "yaml"} == set()
    assert sorted(name for name in loaded if name.startswith("mendoza")) == [
        "mendoza", "mendoza.cli", "mendoza.cli.lazy", "mendoza.cli.main", "mendoza.errors", "mendoza.lazy_names",
    ]


def test_show_loads_the_report_but_not_the_run_loop_nor_scipy_nor_the_templates(tmp_path: Path) -> None:
    from mendoza.api import run_suite, suite

    db = tmp_path / "m.db"
    cases = [{"id": f"c{i}", "word": f"w{i}", "expected": f"w{i}"} for i in range(3)]
    variants = [{"id": "v", "model": "echo", "prompt": "say {{ word }}"}]
    run_suite(suite("s", cases=cases, variants=variants, graders=[{"contains": "{{ expected }}"}], repeats=2), db=db)
    loaded = _loaded_by("show", "--db", str(db))
    assert "mendoza.report" in loaded and "mendoza.store" in loaded
    unwanted = {"mendoza.runner.engine", "mendoza.soft", "mendoza.cli.cases", "mendoza.calls.tracing",
                "mendoza.config", "mendoza.report.calibration", "mendoza.report.design", "mendoza.report.html",
                "mendoza.graders.code", "mendoza.graders.rubric"}
    assert loaded & unwanted == set()
    # SciPy (even scipy.special: the t quantile is computed in mendoza.stats.quantiles), the templates, YAML and
    # the event loop are what a report of a run does not need.
    assert {name.split(".")[0] for name in loaded} & {"openai", "aiohttp", "llama_cpp", "datasketch", "starlette",
                                                      "opentelemetry", "scipy", "jinja2", "yaml", "asyncio"} == set()


def test_every_command_of_the_table_loads_and_is_listed_with_its_line() -> None:
    for name, entry in COMMANDS.items():
        assert isinstance(entry.load(), click.Command), name
        assert entry.summary and "\n" not in entry.summary, name
    listing = CliRunner().invoke(cli, ["--help"], terminal_width=200).output
    for name, entry in COMMANDS.items():
        assert f"  {name}" in listing and entry.summary in listing, name


@pytest.mark.parametrize("name", ["show", "report", "cases", "run"])
def test_a_lazily_loaded_command_has_its_own_help(name: str) -> None:
    result = CliRunner().invoke(cli, [name, "--help"])
    assert result.exit_code == 0 and f"Usage: cli {name}" in result.output
