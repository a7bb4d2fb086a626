"""A disk that fills up during a run (simulated with SQLite's ``max_page_count``): one line saying so, exit
code 4, the run marked interrupted with every committed sample kept, and a resume that finishes it (issue 10,
item 3)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from mendoza.api import run_suite, run_suite_async
from mendoza.cli.main import main
from mendoza.cli.options import EXIT_INTERNAL
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.errors import DiskError
from mendoza.runner import RunOptions
from mendoza.store import Store

TEXT = "lorem ipsum " * 250  # 3,000 characters in each prompt and its echo: about two pages a sample


def _suite(n_cases: int = 40) -> Suite:
    return Suite(
        name="disk-full",
        cases=tuple(Case(id=f"c{i:03}", vars={"n": i}) for i in range(n_cases)),
        variants=(Variant(id="echo", model="echo", prompt="{{ n }} " + TEXT),),
        graders=(GraderSpec(type="contains", params={"value": "lorem"}, name="contains"),),
        repeats=2,
        cache=False,
    )


def _fill_at(store: Store, extra_pages: int) -> None:
    """Let the database grow by ``extra_pages`` pages at most: the next write past that finds the disk full."""
    pages = store._db.execute("PRAGMA page_count").fetchone()[0]
    store._db.execute(f"PRAGMA max_page_count = {pages + extra_pages}")


def test_a_full_disk_interrupts_the_run_and_a_resume_finishes_it(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    suite = _suite()
    with Store(db) as store:
        _fill_at(store, 60)
        options = RunOptions(use_cache=False, batch_size=10, flush_interval=60.0)
        with pytest.raises(DiskError) as info:
            asyncio.run(run_suite_async(suite, store, options=options))
        message = str(info.value)
        run = store.runs.get("latest")
        assert "\n" not in message and message.startswith(f"{db}: the disk is full")
        assert "cannot rollback" not in message
        assert f"{run.done_samples} of 80 samples are stored" in message
        assert f"mendoza run --resume {run.id}" in message
        assert run.status == "interrupted"
        assert 10 <= run.done_samples < 80 and run.done_samples % 10 == 0  # whole batches, nothing half written
    resumed = run_suite(resume=run.id, db=db)  # space again (a new connection has no page limit)
    assert resumed.status == "complete" and resumed.done_samples == 80
    with Store(db, readonly=True) as store:
        assert all(sample.passed for sample in store.samples.iterate(run.id))


def test_a_full_disk_from_the_cli_is_one_line_and_exit_code_4(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    suite_file = tmp_path / "suite.yaml"
    suite_file.write_text(
        yaml.safe_dump(
            {
                "suite": "disk-full",
                "cases": [{"id": f"c{i:03}", "n": i} for i in range(300)],
                "variants": [{"id": "echo", "model": "echo", "prompt": "{{ n }} " + TEXT}],
                "graders": [{"contains": "lorem"}],
                "repeats": 2,
            }
        ),
        encoding="utf-8",
    )
    db = tmp_path / "m.db"
    opened = Store.__init__

    def small_disk(self: Store, *args: Any, **kwargs: Any) -> None:
        opened(self, *args, **kwargs)
        if not self.readonly:
            _fill_at(self, 200)

    monkeypatch.setattr(Store, "__init__", small_disk)
    monkeypatch.setattr(sys, "argv", ["mendoza", "run", str(suite_file), "--db", str(db), "--quiet"])
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == EXIT_INTERNAL
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: {db}: the disk is full") and "--resume" in err
    assert "Traceback" not in err and "cannot rollback" not in err
    monkeypatch.undo()
    with Store(db, readonly=True) as store:
        run = store.runs.get("latest")
        assert run.status == "interrupted" and run.done_samples < 600
