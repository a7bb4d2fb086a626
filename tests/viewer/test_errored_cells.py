"""A (case, variant) cell whose every sample errored: every page and its JSON twin still answers, and counts
it as the report does (issue 10, item 13: such a cell made /, /runs, the overview, grid, compare and the run
JSON return 500)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.store import Store


def test_pages_answer_when_a_cell_only_errored(tmp_path: Path, client_for: Callable[..., TestClient]) -> None:
    db = tmp_path / "m.db"
    suite = Suite(
        name="errored",
        cases=(Case(id="a"), Case(id="b")),
        variants=(
            Variant(id="ok", model="mock", params={"output": "yes"}),
            Variant(id="down", model="mock", params={"fail_always": True, "error": "fatal"}),
        ),
        graders=(GraderSpec(type="equals", params={"value": "yes"}, name="equals"),),
        repeats=2,
    )
    with Store(db) as store:
        run = run_suite(suite, db=store)
        run_suite(suite, db=store)  # a healthy-looking later run: "/" stayed broken after one
    client = client_for(db)
    pages = ("/", "/runs", f"/runs/{run.id}", f"/runs/{run.id}/grid", f"/runs/{run.id}/grid?failing=1&sort=pass_rate",
             f"/compare?a={run.id}&va=ok&vb=down", f"/runs/{run.id}/review")
    for url in pages:
        assert client.get(url).status_code == 200, url
    overview = client.get(f"/runs/{run.id}.json").json()
    down = next(variant for variant in overview["variants"] if variant["variant_id"] == "down")
    assert down["errors"] == 4 and down["adjusted"]["rate"] == 0.0 and down["adjusted"]["errored"] == 4
    grid = client.get(f"/runs/{run.id}/grid.json").json()
    cells = [cell for row in grid["rows"] for cell in row["cells"] if cell and cell["variant_id"] == "down"]
    assert [(cell["passed"], cell["graded"], cell["errors"]) for cell in cells] == [(0, 2, 2), (0, 2, 2)]
    compare = client.get(f"/compare.json?a={run.id}&va=ok&vb=down").json()
    assert compare["difference"] == -1.0


def test_a_samples_notes_show_on_its_page(tmp_path: Path, client_for: Callable[..., TestClient]) -> None:
    from mendoza.core import Grade, Sample

    db = tmp_path / "m.db"
    suite = Suite(name="s", cases=(Case(id="a"),), variants=(Variant(id="v", model="echo"),))
    with Store(db) as store:
        run = store.runs.create(suite)
        grade = (Grade(grader="g", passed=True, score=1.0, grader_hash="h"),)
        store.samples.write(run.id, [Sample("a", "v", 0, "p", "x", grades=grade, notes="chat template guessed")])
        (record,) = store.browse.case_samples(run.id, "a", ["v"])
    page = client_for(db).get(f"/runs/{run.id}/samples/{record.id}")
    assert page.status_code == 200 and "chat template guessed" in page.text


@pytest.mark.parametrize(("errors", "order"), [("fail", ["b", "c", "a"]), ("exclude", ["c", "a", "b"])])
def test_sorting_by_pass_rate_counts_errors_as_the_suite_says(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    client_for: Callable[..., TestClient],
    errors: str,
    order: list[str],
) -> None:
    app = tmp_path / f"mz_grid_sort_app_{errors}.py"
    app.write_text(
        "def answer(vars, case_id):\n"
        "    if case_id == 'b':\n        raise TimeoutError('upstream timed out')\n"
        "    return 'yes' if case_id == 'a' else 'no'\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    suite = Suite(
        name="sorted",
        cases=(Case(id="a"), Case(id="b"), Case(id="c")),
        variants=(Variant(id="app", model=f"python:{app}:answer"),),
        graders=(GraderSpec(type="equals", params={"value": "yes"}, name="equals"),),
        repeats=2,
        max_retries=0,
        errors=errors,  # type: ignore[arg-type]
    )
    db = tmp_path / "m.db"
    with Store(db) as store:
        run = run_suite(suite, db=store)
    grid = client_for(db).get(f"/runs/{run.id}/grid.json?sort=pass_rate").json()
    assert [row["case"]["case_id"] for row in grid["rows"]] == order
