"""End to end on a PostgreSQL store, through the real command line: ``mendoza run`` with ``MENDOZA_DB``, then
``--resume``, ``show``, ``regrade`` and ``label`` with ``--db postgresql://...``, each in a process of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg

import mendoza as mendoza_package
from mendoza.store import Store
from tests.support.postgres import PostgresCluster

SRC = str(Path(mendoza_package.__file__).resolve().parents[1])


def mendoza(*args: str, cwd: Path, db: str | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "PYTHONPATH": SRC}
    env.pop("MENDOZA_DB", None)
    if db is not None:
        env["MENDOZA_DB"] = db
    return subprocess.run(
        [sys.executable, "-m", "mendoza", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300, env=env, input=stdin,
    )


def test_run_resume_show_regrade_and_label_on_postgres(
    postgres_cluster: PostgresCluster, write_suite: Any, tmp_path: Path
) -> None:
    url = postgres_cluster.new_schema()
    suite = write_suite()
    ran = mendoza("run", str(suite), cwd=tmp_path, db=url)  # MENDOZA_DB names the store
    assert ran.returncode == 0, ran.stderr
    assert "100.0%" in ran.stdout
    assert not (tmp_path / ".mendoza").exists()  # nothing went to the default SQLite file
    with Store(url) as store:
        run = store.runs.get("latest")
    assert run.done_samples == run.expected_samples == 12

    # Lose 5 samples as an interrupted run would not have written them, then resume.
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "DELETE FROM samples WHERE id IN (SELECT id FROM samples WHERE run_id = %s ORDER BY id LIMIT 5)",
            (run.id,),
        )
        connection.execute("UPDATE runs SET status = 'interrupted' WHERE id = %s", (run.id,))
    resumed = mendoza("run", "--resume", run.id, "--db", url, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    with Store(url) as store:
        again = store.runs.get(run.id)
        keys = [(s.variant_id, s.case_id, s.repeat) for s in store.samples.iterate(run.id)]
    assert again.status == "complete" and again.done_samples == 12 and len(set(keys)) == 12

    shown = mendoza("show", run.id[:15], "--json", "--db", url, cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    report = json.loads(shown.stdout)
    assert report["variants"][0]["samples"] == 12

    regraded = mendoza("regrade", run.id, "--db", url, "--grader", "contains: w1", "-q", cwd=tmp_path)
    assert regraded.returncode == 0, regraded.stderr
    with Store(url) as store:
        verdicts = {(s.case_id, s.repeat): s.passed for s in store.samples.iterate(run.id)}
        assert store.grades.grader_set_revision(run.id) == 1
    assert {case for (case, _), passed in verdicts.items() if passed} == {"c1"}  # only c1 says w1

    labelled = mendoza("label", run.id, "--db", url, "--author", "ana", "--order", "random", cwd=tmp_path,
                       stdin="f not what we want\nq\n")
    assert labelled.returncode == 0, labelled.stderr
    with Store(url) as store:
        human = [g for s in store.samples.iterate(run.id) for g in s.grades if g.source == "human"]
    assert [(g.author, g.passed, g.explanation) for g in human] == [("ana", False, "not what we want")]


def test_a_wrong_address_is_one_line(tmp_path: Path, postgres_cluster: PostgresCluster) -> None:
    wrong = postgres_cluster.url("no_such_database")
    result = mendoza("runs", "--db", wrong, cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and "cannot connect to the database" in result.stderr
    unknown = mendoza("runs", "--db", "mysql://x@y/z", cwd=tmp_path)
    assert unknown.returncode == 2 and "mysql:// is not a database mendoza knows" in unknown.stderr
