"""Choosing an executor: the default runs in process and never imports Ray; a wrong choice, Ray options without
Ray, a missing Ray or an unreachable cluster are one line each, before a run is recorded. (The Ray executor at
work: ``test_ray_executor.py``.)"""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mendoza.api import load_suite, run_suite
from mendoza.cli import cli, main
from mendoza.errors import ConfigError
from mendoza.runner import LocalExecutor, RunOptions, plan_run
from mendoza.store import Store

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_default_executor_is_the_local_one_and_a_run_never_imports_ray(write_suite: Any, tmp_path: Path) -> None:
    suite = write_suite()
    assert isinstance(plan_run(load_suite(suite), RunOptions()).executor, LocalExecutor)
    code = (
        "import sys; from mendoza.api import run_suite; "
        f"run = run_suite({str(suite)!r}, db={str(tmp_path / 'm.db')!r}); "
        "print(run.status, run.done_samples, 'ray' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(SRC)}
    )
    assert result.stdout.split() == ["complete", "12", "False"], result.stderr


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"executor": "dask"}, "executor must be one of local, ray, not 'dask'"),
        ({"ray_address": "10.0.0.1:6379"}, "ray_address and ray_workers work only with executor='ray'"),
        ({"ray_workers": 2}, "ray_address and ray_workers work only with executor='ray'"),
    ],
)
def test_a_wrong_executor_choice_is_one_error_and_no_run(
    write_suite: Any, store: Store, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        run_suite(load_suite(write_suite()), db=store, **options)
    assert store.runs.count() == 0


def test_the_ray_executor_without_ray_installed_says_how_to_install_it(
    write_suite: Any, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError, as where it is not installed
    with pytest.raises(ConfigError, match=r"needs Ray, which is not installed; .* pip install 'mendoza\[ray\]'"):
        run_suite(load_suite(write_suite()), db=store, executor="ray")
    assert store.runs.count() == 0


def test_ray_options_on_the_command_line_need_the_ray_executor(write_suite: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    db = str(tmp_path / "m.db")
    refused = runner.invoke(cli, ["run", str(write_suite()), "--db", db, "--ray-address", "10.0.0.1:6379"])
    assert refused.exit_code == 2 and "--ray-address and --ray-workers work only with --executor ray" in refused.output
    unknown = runner.invoke(cli, ["run", str(write_suite()), "--db", db, "--executor", "dask"])
    assert unknown.exit_code == 2 and "'dask' is not one of 'local', 'ray'" in unknown.output


def test_an_unreachable_ray_cluster_is_one_line_at_once(
    write_suite: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("ray", reason="the Ray executor's tests need Ray: pip install 'mendoza[ray]'")
    with socket.socket() as listener:  # a port nothing listens on: bound, closed
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
    db = tmp_path / "m.db"
    args = ["run", str(write_suite()), "--db", str(db), "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"]
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip() == (
        f"error: cannot reach the Ray cluster at 127.0.0.1:{port}: Connection refused "
        "(is `ray start --head` running there?)"
    )
    with Store(db) as store:
        assert store.runs.count() == 0
