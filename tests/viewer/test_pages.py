"""Every page's JSON twin over real runs: runs, overview, grid (filters, sorts, pages), sample, review,
compare; and the HTML pages render."""

from __future__ import annotations

from collections import defaultdict

import pytest
from starlette.testclient import TestClient

from mendoza.store import Store
from tests.viewer.conftest import Runs


def cell_verdicts(db: object, run_id: str) -> dict[tuple[str, str], list[bool | None]]:
    """Automatic verdicts by (case, variant), straight from the store's samples."""
    found: dict[tuple[str, str], list[bool | None]] = defaultdict(list)
    with Store(db, readonly=True) as store:  # type: ignore[arg-type]
        for sample in store.samples.iterate(run_id):
            found[(sample.case_id, sample.variant_id)].append(sample.passed)
    return found


@pytest.mark.parametrize(
    "path",
    ["/", "/runs", "/runs/{first}", "/runs/{first}/grid", "/runs/{first}/review", "/compare?a={first}"],
)
def test_each_page_has_a_json_twin_at_dot_json_and_format_json(
    shared_client: TestClient, shared_runs: Runs, path: str
) -> None:
    url = path.format(first=shared_runs.first.id)
    html = shared_client.get(url)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    base, _, query = url.partition("?")
    twin = shared_client.get(("/runs" if base == "/" else base) + ".json" + (f"?{query}" if query else ""))
    assert twin.status_code == 200 and twin.headers["content-type"] == "application/json"
    assert shared_client.get(url + ("&" if query else "?") + "format=json").json() == twin.json()


def test_runs_list_has_suite_status_samples_and_a_headline_per_variant(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    data = shared_client.get("/runs.json").json()
    assert data["pagination"]["total"] == 3
    rows = {row["run"]["id"]: row for row in data["runs"]}
    first = rows[shared_runs.first.id]
    assert first["run"]["suite_name"] == "ticket-router" and first["run"]["status"] == "complete"
    assert first["run"]["done_samples"] == 64
    assert [v["variant_id"] for v in first["variants"]] == ["zero-shot", "few-shot"]
    for headline in first["variants"]:
        assert 0 <= headline["low"] <= headline["rate"] <= headline["high"] <= 1
        assert headline["band"]
    # Newest first.
    assert data["runs"][0]["run"]["id"] == shared_runs.xss.id


def test_runs_list_pages(shared_client: TestClient) -> None:
    data = shared_client.get("/runs.json?per_page=2&page=2").json()
    assert data["pagination"] == {
        "page": 2,
        "per_page": 2,
        "total": 3,
        "pages": 2,
        "first_item": 3,
        "last_item": 3,
    }
    assert len(data["runs"]) == 1


def test_overview_gives_rates_intervals_bands_and_curves(shared_client: TestClient, shared_runs: Runs) -> None:
    data = shared_client.get(f"/runs/{shared_runs.first.id}.json").json()
    assert "chart" not in data and "curves" not in data  # geometry stays out of the JSON
    verdicts = cell_verdicts(shared_runs.db, shared_runs.first.id)
    for variant in data["variants"]:
        samples = [v for (_, vid), vs in verdicts.items() if vid == variant["variant_id"] for v in vs]
        automatic = variant["automatic"]
        assert automatic["passed"] == sum(v is True for v in samples)
        assert automatic["graded"] == sum(v is not None for v in samples)
        assert automatic["rate"] == pytest.approx(automatic["passed"] / automatic["graded"])
        assert automatic["low"] < automatic["rate"] < automatic["high"]
        assert variant["adjusted"] == automatic  # nobody labelled yet
        assert automatic["decided"] == (automatic["band"] is not None)
        assert automatic["recommendation"]
        assert [point["k"] for point in variant["curve"]] == [1, 2, 3, 4]
        at_k = [point["pass_at_k"] for point in variant["curve"]]
        hat_k = [point["pass_hat_k"] for point in variant["curve"]]
        assert at_k == sorted(at_k) and hat_k == sorted(hat_k, reverse=True)
        assert at_k[0] == pytest.approx(hat_k[0]) == pytest.approx(automatic["rate"])
        assert variant["tokens_in"] > 0 and variant["disagree"] >= 0
    assert data["band_edges"] == [0.6, 0.9, 0.99]


def test_overview_html_draws_the_mendoza_line_and_says_what_to_build(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    html = shared_client.get(f"/runs/{shared_runs.first.id}").text
    assert 'class="mendoza-line"' in html and "Mendoza line 0.60" in html
    assert "<svg" in html and "pass@k" in html
    assert "design for the lower band" in html or "Keep a human in the loop" in html


def test_a_run_prefix_and_latest_work_and_an_unknown_run_is_a_404(shared_client: TestClient, shared_runs: Runs) -> None:
    whole = shared_client.get(f"/runs/{shared_runs.first.id}.json").json()
    assert whole["run"]["id"] == shared_runs.first.id
    assert shared_client.get("/runs/latest.json").json()["run"]["id"] == shared_runs.xss.id
    ambiguous = shared_client.get(f"/runs/{shared_runs.first.id[:4]}.json")
    assert ambiguous.status_code == 404 and "matches several runs" in ambiguous.json()["error"]
    missing = shared_client.get("/runs/no-such-run.json")
    assert missing.status_code == 404 and "no run 'no-such-run'" in missing.json()["error"]
    assert shared_client.get("/runs/no-such-run").status_code == 404


def test_grid_shows_every_case_in_suite_order_with_k_of_n_per_variant(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    data = shared_client.get(f"/runs/{shared_runs.first.id}/grid.json").json()
    verdicts = cell_verdicts(shared_runs.db, shared_runs.first.id)
    assert [row["case"]["case_id"] for row in data["rows"]][:3] == ["refund-1", "refund-2", "login-1"]
    assert data["pagination"]["total"] == 8
    for row in data["rows"]:
        for cell in row["cells"]:
            values = verdicts[(row["case"]["case_id"], cell["variant_id"])]
            assert cell["passed"] == sum(v is True for v in values)
            assert cell["graded"] == sum(v is not None for v in values)
            assert cell["flaky"] == (0 < cell["passed"] < cell["graded"])


@pytest.mark.parametrize("name", ["failing", "flaky", "disagree"])
def test_grid_filters_keep_exactly_the_matching_cases(shared_client: TestClient, shared_runs: Runs, name: str) -> None:
    data = shared_client.get(f"/runs/{shared_runs.first.id}/grid.json?{name}=1&per_page=200").json()
    shown = {row["case"]["case_id"] for row in data["rows"]}
    with Store(shared_runs.db, readonly=True) as store:
        cells = store.outcomes.cell_verdicts(shared_runs.first.id)
    expected: set[str] = set()
    for cell in cells:
        if name == "failing" and cell.passed < cell.samples:
            expected.add(cell.case_id)
        if name == "flaky" and cell.passed and cell.failed:
            expected.add(cell.case_id)
        if name == "disagree" and cell.disagree:
            expected.add(cell.case_id)
    assert shown == expected and 0 < len(shown) <= 8
    assert data["filters"][name] is True


def test_grid_filters_by_tag_and_free_text_in_outputs_and_inputs(shared_client: TestClient, shared_runs: Runs) -> None:
    url = f"/runs/{shared_runs.first.id}/grid.json"
    tagged = shared_client.get(url, params={"tag": "money"}).json()
    assert {row["case"]["case_id"] for row in tagged["rows"]} == {"refund-1", "refund-2"}
    assert "money" in tagged["tags"]
    hedged = shared_client.get(url, params={"q": "FAIRLY sure"}).json()  # in outputs, any case
    with Store(shared_runs.db, readonly=True) as store:
        expected = {
            sample.case_id
            for sample in store.samples.iterate(shared_runs.first.id)
            if "fairly sure" in (sample.output or "")
        }
    assert {row["case"]["case_id"] for row in hedged["rows"]} == expected and expected
    typed = shared_client.get(url, params={"q": "two-factor"}).json()  # in the ticket (inputs)
    assert [row["case"]["case_id"] for row in typed["rows"]] == ["login-2"]
    assert shared_client.get(url, params={"q": "100%_"}).json()["pagination"]["total"] == 0


def test_grid_sorts_by_pass_rate_flakiness_and_disagreement(shared_client: TestClient, shared_runs: Runs) -> None:
    url = f"/runs/{shared_runs.first.id}/grid.json"

    def rates(sort: str, reverse: bool = False) -> list[float]:
        data = shared_client.get(url, params={"sort": sort, "reverse": "1" if reverse else ""}).json()
        values = []
        for row in data["rows"]:
            passed = sum(cell["passed"] for cell in row["cells"])
            graded = sum(cell["graded"] for cell in row["cells"])
            if sort == "pass_rate":
                values.append(passed / graded)
            elif sort == "disagreement":
                values.append(sum(cell["disagree"] for cell in row["cells"]))
            else:
                values.append(max(min(c["passed"], c["graded"] - c["passed"]) / c["graded"] for c in row["cells"]))
        return values

    assert rates("pass_rate") == sorted(rates("pass_rate"))
    assert rates("pass_rate", reverse=True) == sorted(rates("pass_rate"), reverse=True)
    assert rates("flaky") == sorted(rates("flaky"), reverse=True)
    assert rates("disagreement") == sorted(rates("disagreement"), reverse=True)


def test_grid_pagination_is_bounded(shared_client: TestClient, shared_runs: Runs) -> None:
    url = f"/runs/{shared_runs.first.id}/grid.json"
    page = shared_client.get(url, params={"per_page": 3, "page": 2}).json()
    assert [row["case"]["position"] for row in page["rows"]] == [3, 4, 5]
    assert page["pagination"]["pages"] == 3
    beyond = shared_client.get(url, params={"per_page": 3, "page": 99}).json()
    assert beyond["pagination"]["page"] == 3 and [r["case"]["position"] for r in beyond["rows"]] == [6, 7]
    assert shared_client.get(url, params={"page": 0}).json()["pagination"]["page"] == 1
    assert shared_client.get(url, params={"page": -5}).json()["pagination"]["page"] == 1
    assert shared_client.get(url, params={"per_page": 10_000}).json()["pagination"]["per_page"] == 200
    filtered = shared_client.get(url, params={"failing": 1, "per_page": 1, "page": 1000}).json()
    assert filtered["pagination"]["page"] == filtered["pagination"]["pages"] and len(filtered["rows"]) == 1
    bad = shared_client.get(url, params={"page": "two"})
    assert bad.status_code == 400 and "'page' must be a whole number" in bad.json()["error"]
    assert shared_client.get(url, params={"sort": "nonsense"}).status_code == 400
    assert shared_client.get(url, params={"variant": "nope"}).status_code == 400
    assert shared_client.get(url, params={"q": "x" * 500}).status_code == 400


def test_grid_can_show_one_variant(shared_client: TestClient, shared_runs: Runs) -> None:
    data = shared_client.get(f"/runs/{shared_runs.first.id}/grid.json?variant=few-shot").json()
    assert data["filters"]["variants"] == ["few-shot"]
    assert all([cell["variant_id"] for cell in row["cells"]] == ["few-shot"] for row in data["rows"])


def test_sample_page_has_prompt_output_grades_and_the_other_repeats(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    grid = shared_client.get(f"/runs/{shared_runs.first.id}/grid.json?variant=zero-shot").json()
    sample_id = grid["rows"][0]["cells"][0]["sample_id"]
    data = shared_client.get(f"/runs/{shared_runs.first.id}/samples/{sample_id}.json").json()
    sample = data["sample"]
    assert sample["id"] == sample_id and sample["variant_id"] == "zero-shot"
    assert sample["prompt"].startswith("Ticket: ") and sample["output"]
    assert {grade["grader"] for grade in data["grades"]} == {"contains", "length"}
    assert all(grade["source"] == "auto" and grade["explanation"] for grade in data["grades"])
    assert [item["repeat"] for item in data["repeats"]] == [0, 1, 2, 3]
    assert sum(item["current"] for item in data["repeats"]) == 1
    assert {item["variant_id"] for item in data["other_variants"]} == {"few-shot"}
    assert data["case"]["vars"]["ticket"] and data["case"]["expected"] == "billing"
    assert data["variant"]["model"] == "mock"
    assert sample["tokens_in"] is not None and sample["latency_ms"] >= 0
    html = shared_client.get(f"/runs/{shared_runs.first.id}/samples/{sample_id}").text
    assert '<pre class="text output" id="output">' in html and 'name="csrf"' in html


def test_a_sample_of_another_run_or_no_sample_is_a_404(shared_client: TestClient, shared_runs: Runs) -> None:
    grid = shared_client.get(f"/runs/{shared_runs.first.id}/grid.json").json()
    sample_id = grid["rows"][0]["cells"][0]["sample_id"]
    assert shared_client.get(f"/runs/{shared_runs.second.id}/samples/{sample_id}.json").status_code == 404
    assert shared_client.get(f"/runs/{shared_runs.first.id}/samples/999999.json").status_code == 404


def test_review_queue_puts_disagreements_first_then_flaky_failures(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    url = f"/runs/{shared_runs.first.id}/review.json"
    first = shared_client.get(url).json()
    assert first["total"] > 0 and first["sample"]["review"]["reason"] == "graders disagree"
    assert first["sample"]["sample"]["graders_disagree"] is True
    reasons = [
        shared_client.get(url, params={"at": at}).json()["sample"]["review"]["reason"] for at in range(first["total"])
    ]
    order = ["graders disagree", "failed in a flaky case", "failed", "passed in a flaky case"]
    assert [order.index(reason) for reason in reasons] == sorted(order.index(reason) for reason in reasons)
    clamped = shared_client.get(url, params={"at": 10_000}).json()
    assert clamped["at"] == first["total"] - 1


def test_review_of_a_run_with_nothing_to_review_is_empty(shared_client: TestClient, shared_runs: Runs) -> None:
    data = shared_client.get(f"/runs/{shared_runs.second.id}/review.json?variant=few-shot").json()
    assert data["variants"] == ["few-shot"]
    assert (data["total"] == 0) == (data["sample"] is None)


def test_compare_two_variants_of_a_run_pairs_cases(shared_client: TestClient, shared_runs: Runs) -> None:
    data = shared_client.get(f"/compare.json?a={shared_runs.first.id}").json()
    assert data["a"]["variant_id"] == "zero-shot" and data["b"]["variant_id"] == "few-shot"
    verdicts = cell_verdicts(shared_runs.db, shared_runs.first.id)
    diffs = []
    for case_id in {case for case, _ in verdicts}:
        a = [v for v in verdicts[(case_id, "zero-shot")] if v is not None]
        b = [v for v in verdicts[(case_id, "few-shot")] if v is not None]
        diffs.append(sum(b) / len(b) - sum(a) / len(a))
    assert data["paired_cases"] == 8
    assert data["difference"] == pytest.approx(sum(diffs) / len(diffs))
    assert data["low"] < data["difference"] < data["high"]
    assert data["better_total"] == sum(d > 0 for d in diffs) and data["worse_total"] == sum(d < 0 for d in diffs)
    changes = [row["change"] for row in data["better"]]
    assert changes == sorted(changes, reverse=True) and all(change > 0 for change in changes)


def test_compare_two_runs_of_a_suite(shared_client: TestClient, shared_runs: Runs) -> None:
    data = shared_client.get(
        "/compare.json", params={"a": shared_runs.first.id, "b": shared_runs.second.id, "va": "zero-shot"}
    ).json()
    assert data["a"]["run"]["id"] == shared_runs.first.id and data["b"]["run"]["id"] == shared_runs.second.id
    assert data["b"]["variant_id"] == "zero-shot"  # the same variant by default
    assert data["difference"] > 0 and data["better_total"] >= 1
    for row in data["better"]:
        assert row["b_passed"] / row["b_graded"] > row["a_passed"] / row["a_graded"]
        assert 0 <= row["p_value"] <= 1


def test_compare_refuses_a_variant_against_itself(shared_client: TestClient, shared_runs: Runs) -> None:
    same = shared_client.get("/compare.json", params={"a": shared_runs.first.id, "va": "few-shot", "vb": "few-shot"})
    assert same.status_code == 400 and "two different variants" in same.json()["error"]
    unknown = shared_client.get("/compare.json", params={"a": shared_runs.first.id, "va": "nope"})
    assert unknown.status_code == 400


def test_unknown_pages_and_methods_answer_in_the_format_asked(shared_client: TestClient, shared_runs: Runs) -> None:
    missing = shared_client.get("/nowhere.json")
    assert missing.status_code == 404 and missing.json()["status"] == 404
    assert "404" in shared_client.get("/nowhere").text
    wrong = shared_client.get(f"/runs/{shared_runs.first.id}/samples/1/label.json")
    assert wrong.status_code == 405
