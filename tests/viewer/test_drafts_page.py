"""The viewer's drafts page (``mendoza cases review DRAFTS --suite SUITE --web``) over HTTP: pending drafts with
their provenance; accept, edit (validated, the mistake one line above the form) and reject, through the same
rule as the keyboard review; writes refused without the CSRF token, the viewer's origin or its token; hostile
drafts (markup, lone surrogates, 10 MB fields, lines that are not drafts) shown safely."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from starlette.testclient import TestClient

from mendoza.api import DraftReview
from mendoza.viewer import create_app
from tests.support.drafts import DRAFTS, ids, rows, write_drafts, write_suite
from tests.viewer.conftest import BASE_URL, ORIGIN, Runs
from tests.viewer.suites import PAYLOADS

TOKEN = "s3cret-token-for-tests"


@pytest.fixture
def client_over(tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """A TestClient over a viewer without a database that reviews ``lines`` (default: the three DRAFTS)."""
    opened: list[TestClient] = []

    def make(lines: list[Any] | None = None, **options: Any) -> TestClient:
        review = DraftReview.open(write_drafts(tmp_path, lines), write_suite(tmp_path))
        client = TestClient(create_app(None, author="tester", drafts=review, **options), base_url=BASE_URL)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def csrf(client: TestClient) -> str:
    return str(client.app.state.csrf_token)  # type: ignore[attr-defined]


def keys(client: TestClient) -> dict[str, str]:
    """Case id -> draft key, of the pending drafts."""
    return {row["case_id"]: row["key"] for row in client.get("/drafts.json").json()["rows"]}


def decide(client: TestClient, case_id: str, action: str, **fields: Any) -> Any:
    headers = fields.pop("headers", ORIGIN)
    data = {"csrf": csrf(client), "action": action, **fields}
    return client.post(f"/drafts/{keys(client)[case_id]}", data=data, headers=headers, follow_redirects=False)


def test_the_list_shows_each_pending_draft_with_its_provenance(client_over: Callable[..., TestClient]) -> None:
    client = client_over()
    page = client.get("/drafts")
    assert page.status_code == 200
    assert page.text.count('class="panel draft"') == 3
    assert "Charged twice." in page.text and "perturbation" in page.text and "logs.jsonl" in page.text
    assert "cases.jsonl" in page.text and "0 accepted" in page.text
    twin = client.get("/drafts.json").json()
    assert twin["pending"] == 3 and twin["suite"] == "triage"
    first = twin["rows"][0]
    assert first["case_id"] == "d1" and ["model", "mock"] in first["provenance"] and first["problem"] is None
    assert client.get("/", follow_redirects=False).headers["location"] == "/drafts"  # no database: the drafts


def test_accept_and_reject_from_the_list(client_over: Callable[..., TestClient], tmp_path: Path) -> None:
    client = client_over()
    accepted = decide(client, "d1", "accept")
    assert accepted.status_code == 303 and accepted.headers["location"] == "/drafts?accepted=d1"
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"]
    assert rows(tmp_path / "cases.jsonl")[-1]["metadata"]["provenance"] == DRAFTS[0]["provenance"]
    assert decide(client, "d3", "reject").headers["location"] == "/drafts?rejected=d3"
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"]
    page = client.get("/drafts?accepted=d1")
    assert "accepted d1" in page.text and "1 to review · 1 accepted · 1 rejected" in page.text
    assert list(keys(client)) == ["d2"]
    decisions = rows(tmp_path / "drafts.jsonl.decisions.jsonl")
    assert [(d["id"], d["decision"]) for d in decisions] == [("d1", "accept"), ("d3", "reject")]


def test_an_edit_is_validated_and_its_mistake_shown_in_one_line(
    client_over: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = client_over()
    key = keys(client)["d2"]
    edit = client.get(f"/drafts/{key}")
    assert edit.status_code == 200 and "<textarea" in edit.text and "App crashes." in edit.text
    wrong_var = json.dumps({"id": "d2", "vars": {"question": "?"}, "expected": "bug"})
    refused = decide(client, "d2", "accept", case=wrong_var)
    assert refused.status_code == 422
    error = re.search(r'id="edit-error">(.*?)</p>', refused.text, re.S)
    assert error is not None and "lacks the suite&#39;s var(s): ticket" in error.group(1)
    assert "\n" not in error.group(1) and str(tmp_path) not in refused.text  # the file's name, not its path
    assert "&#34;question&#34;" in refused.text  # the text typed is kept in the box
    not_json = decide(client, "d2", "accept", case='{"id": "d2", ')
    assert not_json.status_code == 422 and "the edited case is not JSON" in not_json.text
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]
    fixed = json.dumps({"id": "d2", "vars": {"ticket": "The app crashes on start."}, "expected": "technical"})
    assert decide(client, "d2", "accept", case=fixed).status_code == 303
    kept = rows(tmp_path / "cases.jsonl")[-1]
    assert kept["vars"]["ticket"] == "The app crashes on start." and kept["metadata"]["provenance"]["edited"] is True


def test_writes_need_the_csrf_token_and_the_viewers_origin(
    client_over: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = client_over()
    assert decide(client, "d1", "accept", csrf="forged").status_code == 403
    assert decide(client, "d1", "accept", headers={"Origin": "http://evil.example"}).status_code == 403
    assert decide(client, "d1", "accept", headers={}).status_code == 403  # no Origin, no Referer
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]
    assert not (tmp_path / "drafts.jsonl.decisions.jsonl").exists()


def test_a_viewer_with_a_token_refuses_reads_and_writes_without_it(
    client_over: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = client_over(token=TOKEN)
    assert client.get("/drafts").status_code == 401
    key = client.get("/drafts.json", headers={"X-Mendoza-Token": TOKEN}).json()["rows"][0]["key"]
    data = {"csrf": csrf(client), "action": "accept"}
    assert client.post(f"/drafts/{key}", data=data, headers=ORIGIN).status_code == 401
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]
    allowed = client.post(f"/drafts/{key}", data=data, headers={**ORIGIN, "X-Mendoza-Token": TOKEN},
                          follow_redirects=False)
    assert allowed.status_code == 303 and ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"]


def test_a_cases_file_changed_meanwhile_refuses_the_id(
    client_over: Callable[..., TestClient], tmp_path: Path
) -> None:
    client = client_over()
    with (tmp_path / "cases.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps({"id": "d1", "vars": {"ticket": "Added by hand."}, "expected": "x"}) + "\n")
    refused = decide(client, "d1", "accept")
    assert refused.status_code == 409
    assert "case id &#39;d1&#39; is already in the suite: change its id" in refused.text
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1"]
    renamed = json.dumps({**DRAFTS[0]["case"], "id": "d1-new"})
    assert decide(client, "d1", "accept", case=renamed).status_code == 303
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "d1", "d1-new"]


def test_a_draft_decided_elsewhere_is_not_decided_twice(client_over: Callable[..., TestClient], tmp_path: Path) -> None:
    client = client_over()
    key = keys(client)["d1"]
    data = {"csrf": csrf(client), "action": "accept"}
    assert client.post(f"/drafts/{key}", data=data, headers=ORIGIN, follow_redirects=False).status_code == 303
    again = client.post(f"/drafts/{key}", data={**data, "action": "reject"}, headers=ORIGIN)  # a second tab
    assert again.status_code == 409 and "decided already (accept)" in again.text
    assert len(rows(tmp_path / "drafts.jsonl.decisions.jsonl")) == 1
    assert "decided already (accept)" in client.get(f"/drafts/{key}").text


def test_json_posts_and_bad_requests(client_over: Callable[..., TestClient], tmp_path: Path) -> None:
    client = client_over()
    key = keys(client)["d2"]
    headers = {**ORIGIN, "X-CSRF-Token": csrf(client), "Accept": "application/json"}
    bad = client.post(f"/drafts/{key}", json={"action": "accept", "case": {"id": "d2"}}, headers=headers)
    assert bad.status_code == 422 and "lacks the suite's var(s)" in bad.json()["error"]
    done = client.post(f"/drafts/{key}", json={"action": "reject"}, headers=headers)
    assert done.status_code == 200 and done.json() == {"draft": key, "decision": "reject", "case_id": "d2"}
    assert client.post(f"/drafts/{key}", json={"action": "maybe"}, headers=headers).status_code == 400
    assert client.get(f"/drafts/{'0' * 64}").status_code == 404
    assert client.post("/drafts/nope", json={"action": "accept"}, headers=headers).status_code == 404
    huge = client.post(f"/drafts/{key}", content=b"x", headers={**headers, "Content-Length": str(10**9)})
    assert huge.status_code == 400 and "is limited to" in huge.json()["error"]
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]


def test_hostile_drafts_are_shown_safely(client_over: Callable[..., TestClient], tmp_path: Path) -> None:
    payload = PAYLOADS["script"] + PAYLOADS["img"] + PAYLOADS["attr"]
    hostile = {"case": {"id": "x<b>1</b>", "vars": {"ticket": payload}, "expected": "<i>billing</i>",
                        "tags": ["<svg onload=alert(1)>"]},
               "provenance": {"model": PAYLOADS["svg"], "note": "\u202eevil"}}
    surrogate = ('{"case": {"id": "s1", "vars": {"ticket": "broken \\ud800 text"}, "expected": "x"}, '
                 '"provenance": {"seed": "\\udfff"}}')
    big = {"case": {"id": "big", "vars": {"ticket": "y" * 10_000_000}, "expected": "x"}, "provenance": {}}
    client = client_over([hostile, "{not json", surrogate, big, '["a"]'])
    page = client.get("/drafts")
    assert page.status_code == 200
    assert "<script>window" not in page.text and "<img src=x" not in page.text and "<svg onload" not in page.text
    assert "&lt;script&gt;window.__pwned" in page.text and "x&lt;b&gt;1&lt;/b&gt;" in page.text
    assert re.findall(r"<script\b[^>]*>", page.text) == ['<script src="/static/viewer.js?v=0.1.0" defer>']
    assert "broken \\ud800 text" in page.text  # a lone surrogate shown as its escape, never a 500
    assert len(page.text) < 200_000  # the 10 MB field is cut on the list
    assert page.text.count('class="bad-line"') == 2 and "drafts.jsonl:2: invalid JSON" in page.text
    assert str(tmp_path) not in page.text
    twin = client.get("/drafts.json")
    assert twin.status_code == 200 and twin.json()["bad_count"] == 2
    keyed = keys(client)
    big_page = client.get(f"/drafts/{keyed['big']}")
    assert big_page.status_code == 200 and "too long to edit here" in big_page.text and "<textarea" not in big_page.text
    assert client.get(f"/drafts/{keyed['s1']}").status_code == 200
    hostile_page = client.get(f"/drafts/{keyed['x<b>1</b>']}")
    assert "<script>window" not in hostile_page.text and "&lt;/textarea&gt;" not in hostile_page.text
    assert decide(client, "big", "accept").status_code == 303  # accepted as drafted, no text box needed
    assert decide(client, "s1", "accept").status_code == 303
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2", "big", "s1"]
    assert "\\ud800" in (tmp_path / "cases.jsonl").read_text(encoding="utf-8")


def test_an_invalid_draft_cannot_be_accepted_as_it_is(client_over: Callable[..., TestClient], tmp_path: Path) -> None:
    client = client_over([{"case": {"id": "b1", "vars": {"other": "?"}}, "provenance": {"kind": "draft"}}])
    page = client.get("/drafts")
    assert "Not a valid case of the suite" in page.text and 'value="accept"' not in page.text
    refused = decide(client, "b1", "accept")
    assert refused.status_code == 422 and "lacks the suite&#39;s var(s): ticket" in refused.text
    assert ids(tmp_path / "cases.jsonl") == ["r1", "r2"]


def test_a_viewer_without_drafts_or_without_a_database_says_so(
    client_over: Callable[..., TestClient], shared_client: TestClient
) -> None:
    missing = shared_client.get("/drafts")
    assert missing.status_code == 404 and "--web" in missing.text
    assert 'href="/drafts"' not in shared_client.get("/runs").text
    client = client_over()
    runs = client.get("/runs")
    assert runs.status_code == 404 and "this viewer has no database" in runs.text
    assert 'href="/runs"' not in client.get("/drafts").text.split("<main>")[0]  # no Runs in the menu


def test_drafts_beside_a_database(shared_runs: Runs, tmp_path: Path) -> None:
    from mendoza.viewer import open_viewer_store

    review = DraftReview.open(write_drafts(tmp_path), write_suite(tmp_path))
    with open_viewer_store(shared_runs.db) as store:
        client = TestClient(create_app(store, author="tester", drafts=review), base_url=BASE_URL)
        home = client.get("/")
        assert home.status_code == 200 and 'href="/drafts"' in home.text and 'href="/runs"' in home.text
        assert client.get("/drafts.json").json()["pending"] == 3
        client.close()


def test_cases_review_web_serves_the_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mendoza.viewer
    from mendoza.cli import cli

    served: dict[str, Any] = {}

    def serve(db: Path | None, **options: Any) -> None:
        served.update(options, db=db)

    monkeypatch.setattr(mendoza.viewer, "serve", serve)
    drafts, suite = write_drafts(tmp_path, [*DRAFTS, "{torn"]), write_suite(tmp_path)
    args = ["cases", "review", str(drafts), "--suite", str(suite), "--web", "--port", "0", "--db", "x.db"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "not a draft, left out:" in result.output and "drafts.jsonl:4: invalid JSON" in result.output
    review = served["drafts"]
    assert isinstance(review, DraftReview) and review.target == (tmp_path / "cases.jsonl").resolve()
    assert served["port"] == 0 and served["db"] == Path("x.db") and served["host"] == "127.0.0.1"
