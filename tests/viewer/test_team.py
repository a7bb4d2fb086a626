"""A team's viewer: one named token per person, labels that carry the name of whoever wrote them, and two
viewers over one shared store (a PostgreSQL database, and an SQLite file) that see each other's labels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.errors import ConfigError
from mendoza.viewer import parse_tokens
from tests.viewer.suites import ticket_suite

BASE = "http://viewer.example:8765"
ALICE, BOB = "alice-secret-1", "bob-secret-22"
TEAM = {"alice": ALICE, "bob": BOB}


def as_user(secret: str) -> dict[str, str]:
    return {"Origin": BASE, "X-Mendoza-Token": secret}


@pytest.fixture(params=["sqlite", "postgres"])
def shared_db(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """One store a team shares, with a run in it."""
    db: Path | str = tmp_path / "team.db"
    if request.param == "postgres":
        db = request.getfixturevalue("postgres_cluster").new_schema()
    run_suite(ticket_suite(), db=db)
    return db


def first_sample(client: TestClient, secret: str) -> tuple[str, int]:
    run_id = client.get("/runs.json", headers=as_user(secret)).json()["runs"][0]["run"]["id"]
    grid = client.get(f"/runs/{run_id}/grid.json", headers=as_user(secret)).json()
    return run_id, int(grid["rows"][0]["cells"][0]["sample_id"])


def test_each_persons_label_carries_their_name_and_the_other_viewer_sees_it(
    shared_db: Path | str, client_for: Callable[..., TestClient]
) -> None:
    # Two viewers (two processes, two machines) over the one store.
    alices = client_for(shared_db, base_url=BASE, tokens=TEAM)
    bobs = client_for(shared_db, base_url=BASE, tokens=TEAM)
    run_id, sample_id = first_sample(alices, ALICE)
    csrf = str(bobs.app.state.csrf_token)  # type: ignore[attr-defined]
    posted = bobs.post(
        f"/runs/{run_id}/samples/{sample_id}/label.json",
        json={"verdict": "fail", "note": "wrong queue"},
        headers={**as_user(BOB), "X-CSRF-Token": csrf},
    )
    assert posted.status_code == 201 and posted.json()["grade"]["author"] == "bob"
    seen = alices.get(f"/runs/{run_id}/samples/{sample_id}.json", headers=as_user(ALICE)).json()
    human = [grade for grade in seen["grades"] if grade["source"] == "human"]
    assert [(grade["author"], grade["passed"], grade["explanation"]) for grade in human] == [
        ("bob", False, "wrong queue")
    ]
    assert seen["sample"]["human_passed"] is False
    csrf = str(alices.app.state.csrf_token)  # type: ignore[attr-defined]
    alices.post(
        f"/runs/{run_id}/samples/{sample_id}/label.json",
        json={"verdict": "pass", "note": "no, it is right"},
        headers={**as_user(ALICE), "X-CSRF-Token": csrf},
    )
    seen = bobs.get(f"/runs/{run_id}/samples/{sample_id}.json", headers=as_user(BOB)).json()
    assert [grade["author"] for grade in seen["grades"] if grade["source"] == "human"] == ["bob", "alice"]
    assert seen["sample"]["human_passed"] is True  # the latest label decides


def test_a_named_token_is_needed_and_its_cookie_names_the_person(
    tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    db = tmp_path / "team.db"
    run_suite(ticket_suite(), db=db)
    client = client_for(db, base_url=BASE, tokens=TEAM)
    assert client.get("/runs.json").status_code == 401
    assert client.get("/runs.json", headers={"X-Mendoza-Token": "not-a-member"}).status_code == 401
    first = client.get(f"/runs?token={BOB}", follow_redirects=False)
    assert first.status_code == 303 and f"mendoza_token={BOB}" in first.headers["set-cookie"]
    run_id, sample_id = first_sample(client, BOB)
    csrf = str(client.app.state.csrf_token)  # type: ignore[attr-defined]
    # The cookie the first visit set (kept by the client) alone now says who this is.
    posted = client.post(
        f"/runs/{run_id}/samples/{sample_id}/label.json",
        json={"verdict": "pass"},
        headers={"Origin": BASE, "X-CSRF-Token": csrf},
    )
    assert posted.status_code == 201 and posted.json()["grade"]["author"] == "bob"


def test_an_unnamed_token_labels_as_the_viewers_own_author(
    tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    db = tmp_path / "team.db"
    run_suite(ticket_suite(), db=db)
    client = client_for(db, base_url=BASE, token="the-one-secret")
    run_id, sample_id = first_sample(client, "the-one-secret")
    csrf = str(client.app.state.csrf_token)  # type: ignore[attr-defined]
    posted = client.post(
        f"/runs/{run_id}/samples/{sample_id}/label.json",
        json={"verdict": "pass"},
        headers={**as_user("the-one-secret"), "X-CSRF-Token": csrf},
    )
    assert posted.json()["grade"]["author"] == "tester"  # create_app's author, as before


def test_tokens_from_the_command_line_and_a_file(tmp_path: Path) -> None:
    assert parse_tokens(["a-single-secret"]) == ("a-single-secret", {})
    assert parse_tokens(["alice=secret-of-alice", "bob=secret-of-bob"]) == (
        None,
        {"alice": "secret-of-alice", "bob": "secret-of-bob"},
    )
    file = tmp_path / "tokens"
    file.write_text("# the team\nalice=secret-of-alice\n\ncarol.k@x = no\ncarol=secret-of-carol  # QA\n")
    with pytest.raises(ConfigError, match=r"tokens:4: expected NAME=SECRET"):
        parse_tokens([], file)
    file.write_text("alice=secret-of-alice\ncarol=secret-of-carol  # QA\n")
    assert parse_tokens(["bob=secret-of-bob"], file) == (
        None,
        {"bob": "secret-of-bob", "alice": "secret-of-alice", "carol": "secret-of-carol"},
    )


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["alice=short"], "at least 8 characters"),
        (["alice=same-secret", "bob=same-secret"], "same token is given twice"),
        (["alice=secret-one-1", "alice=secret-two-2"], "two tokens named 'alice'"),
        (["first-secret", "second-secret"], "several unnamed tokens"),
    ],
)
def test_bad_tokens_are_one_line_each(values: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_tokens(values)
