"""Overruling the grader from the viewer: a human grade is stored beside the automatic ones, aggregates show
both views, and every write needs the CSRF token and the viewer's own origin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from mendoza.store import Store
from tests.viewer.conftest import BASE_URL, ORIGIN, Runs


def csrf(client: TestClient) -> str:
    return str(client.app.state.csrf_token)  # type: ignore[attr-defined]


def failing_sample(client: TestClient, run_id: str, variant: str = "zero-shot") -> int:
    """The id of a sample the automatic graders failed."""
    grid = client.get(f"/runs/{run_id}/grid.json", params={"failing": 1, "variant": variant}).json()
    for row in grid["rows"]:
        cell = row["cells"][0]
        sample = client.get(f"/runs/{run_id}/samples/{cell['sample_id']}.json").json()["sample"]
        if sample["passed"] is False:
            return int(sample["id"])
    raise AssertionError("no failing sample")


def post_label(client: TestClient, run_id: str, sample_id: int, **fields: Any) -> Any:
    headers = fields.pop("headers", ORIGIN)
    data = {"csrf": csrf(client), **fields}
    return client.post(f"/runs/{run_id}/samples/{sample_id}/label", data=data, headers=headers, follow_redirects=False)


@pytest.fixture
def client(runs: Runs, client_for: Callable[..., TestClient]) -> TestClient:
    return client_for(runs.db)


def test_overruling_a_failure_stores_a_human_grade_beside_the_automatic_ones(client: TestClient, runs: Runs) -> None:
    run_id = runs.first.id
    sample_id = failing_sample(client, run_id)
    before = client.get(f"/runs/{run_id}.json").json()["variants"][0]
    response = post_label(client, run_id, sample_id, verdict="pass", note="the queue is right; 'general' is fine")
    assert response.status_code == 303
    assert response.headers["location"] == f"/runs/{run_id}/samples/{sample_id}"
    page = client.get(f"/runs/{run_id}/samples/{sample_id}.json").json()
    assert page["sample"]["passed"] is False and page["sample"]["human_passed"] is True
    assert page["adjusted_passed"] is True
    human = [grade for grade in page["grades"] if grade["source"] == "human"]
    automatic = [grade for grade in page["grades"] if grade["source"] == "auto"]
    assert len(automatic) == 2 and any(grade["passed"] is False for grade in automatic)
    assert human == [page["human"]]
    assert human[0]["passed"] is True and human[0]["score"] == 1.0 and human[0]["author"] == "tester"
    assert human[0]["explanation"] == "the queue is right; 'general' is fine" and human[0]["created_at"]
    after = client.get(f"/runs/{run_id}.json").json()["variants"][0]
    assert after["automatic"] == before["automatic"]
    assert after["adjusted"]["passed"] == before["adjusted"]["passed"] + 1
    assert after["adjusted"]["graded"] == before["adjusted"]["graded"]
    assert after["labelled"] == 1 and after["overruled"] == 1
    with Store(runs.db, readonly=True) as store:
        samples = [s for s in store.samples.iterate(run_id) if any(g.source == "human" for g in s.grades)]
    assert len(samples) == 1 and samples[0].passed is False  # Sample.passed stays automatic


def test_the_grid_and_filters_follow_the_human_adjusted_view(client: TestClient, runs: Runs) -> None:
    run_id = runs.first.id
    sample_id = failing_sample(client, run_id)
    post_label(client, run_id, sample_id, verdict="pass")
    overruled = client.get(f"/runs/{run_id}/grid.json", params={"overruled": 1}).json()
    assert overruled["pagination"]["total"] == 1
    cell = next(c for c in overruled["rows"][0]["cells"] if c["variant_id"] == "zero-shot")
    assert cell["passed"] == cell["auto_passed"] + 1 and cell["labelled"] == 1
    automatic = client.get(f"/runs/{run_id}/grid.json", params={"overruled": 1, "view": "auto"}).json()
    auto_cell = next(c for c in automatic["rows"][0]["cells"] if c["variant_id"] == "zero-shot")
    assert auto_cell["passed"] == cell["auto_passed"]


def test_a_label_can_be_a_score_and_can_be_cleared(client: TestClient, runs: Runs) -> None:
    run_id = runs.first.id
    sample_id = failing_sample(client, run_id)
    assert post_label(client, run_id, sample_id, verdict="", score="0.75").status_code == 303
    page = client.get(f"/runs/{run_id}/samples/{sample_id}.json").json()
    assert page["human"]["score"] == 0.75 and page["sample"]["human_passed"] is True
    assert post_label(client, run_id, sample_id, verdict="clear", note="oops").status_code == 303
    page = client.get(f"/runs/{run_id}/samples/{sample_id}.json").json()
    assert page["sample"]["human_passed"] is None and page["adjusted_passed"] is False
    assert [grade["passed"] for grade in page["grades"] if grade["source"] == "human"] == [True, None]


def test_a_json_label_with_the_csrf_header_answers_with_the_verdicts(client: TestClient, runs: Runs) -> None:
    run_id = runs.first.id
    sample_id = failing_sample(client, run_id)
    response = client.post(
        f"/runs/{run_id}/samples/{sample_id}/label.json",
        json={"verdict": "fail", "note": "confirmed"},
        headers={**ORIGIN, "X-CSRF-Token": csrf(client)},
    )
    assert response.status_code == 201
    data = response.json()
    assert data["grade"]["source"] == "human" and data["grade"]["passed"] is False
    assert data["sample"] == {"id": sample_id, "passed": False, "human_passed": False, "adjusted_passed": False}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"verdict": "maybe"}, "'verdict' must be one of"),
        ({"verdict": ""}, "a label needs a verdict"),
        ({"verdict": "", "score": "1.5"}, "between 0 and 1"),
        ({"verdict": "", "score": "nan"}, "between 0 and 1"),
        ({"verdict": "pass", "score": "high"}, "'score' must be a number"),
        ({"verdict": "pass", "note": "x" * 10_001}, "limited to 10000 characters"),
    ],
)
def test_a_bad_label_is_a_400_that_says_why(
    client: TestClient, runs: Runs, fields: dict[str, str], message: str
) -> None:
    sample_id = failing_sample(client, runs.first.id)
    response = post_label(client, runs.first.id, sample_id, headers={**ORIGIN, "Accept": "application/json"}, **fields)
    assert response.status_code == 400 and message in response.json()["error"]


@pytest.mark.parametrize(
    ("headers", "token", "status"),
    [
        (ORIGIN, None, 403),  # no CSRF token
        (ORIGIN, "forged", 403),  # a wrong one
        ({"Origin": "http://evil.example"}, "right", 403),  # another site's page, even with the token
        ({"Origin": "null"}, "right", 403),
        ({}, "right", 403),  # neither Origin nor Referer
        ({"Referer": "http://evil.example/page"}, "right", 403),
        ({"Referer": f"{BASE_URL}/runs"}, "right", 303),  # same-origin Referer, no Origin
        (ORIGIN, "right", 303),
    ],
)
def test_writes_need_the_csrf_token_and_the_viewers_own_origin(
    client: TestClient, runs: Runs, headers: dict[str, str], token: str | None, status: int
) -> None:
    sample_id = failing_sample(client, runs.first.id)
    data = {"verdict": "pass"}
    if token is not None:
        data["csrf"] = csrf(client) if token == "right" else token
    response = client.post(
        f"/runs/{runs.first.id}/samples/{sample_id}/label", data=data, headers=headers, follow_redirects=False
    )
    assert response.status_code == status
    page = client.get(f"/runs/{runs.first.id}/samples/{sample_id}.json").json()
    assert (page["human"] is not None) == (status == 303)


def test_each_server_has_its_own_csrf_token(runs: Runs, client_for: Callable[..., TestClient]) -> None:
    one, two = client_for(runs.db), client_for(runs.db)
    assert csrf(one) != csrf(two) and len(csrf(one)) >= 32
    sample_id = failing_sample(one, runs.first.id)
    response = two.post(
        f"/runs/{runs.first.id}/samples/{sample_id}/label",
        data={"verdict": "pass", "csrf": csrf(one)},
        headers=ORIGIN,
        follow_redirects=False,
    )
    assert response.status_code == 403


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)", "/\\evil"])
def test_after_a_label_the_viewer_never_redirects_off_site(client: TestClient, runs: Runs, target: str) -> None:
    sample_id = failing_sample(client, runs.first.id)
    response = post_label(client, runs.first.id, sample_id, verdict="pass", next=target)
    assert response.headers["location"] == f"/runs/{runs.first.id}/samples/{sample_id}"


def test_review_mode_labels_and_moves_on(client: TestClient, runs: Runs) -> None:
    run_id = runs.first.id
    first = client.get(f"/runs/{run_id}/review.json?at=0").json()
    sample_id = first["sample"]["sample"]["id"]
    html = client.get(f"/runs/{run_id}/review?at=0").text
    assert f'name="next" value="/runs/{run_id}/review?at=1"' in html
    response = post_label(client, run_id, sample_id, verdict="fail", next=f"/runs/{run_id}/review?at=1")
    assert response.headers["location"] == f"/runs/{run_id}/review?at=1"
    again = client.get(f"/runs/{run_id}/review.json?at=0").json()
    assert again["sample"]["sample"]["id"] == sample_id  # labelling does not reshuffle the queue
    assert again["sample"]["human"]["passed"] is False
