"""The viewer's guard: security headers, loopback-only host names, the token, escaping of model text in HTML
and JSON, and no API key anywhere."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.errors import ConfigError
from mendoza.viewer import serve
from mendoza.viewer.server import bind
from tests.viewer.conftest import Runs
from tests.viewer.suites import PAYLOADS, ticket_suite

TOKEN = "s3cret-token-for-tests"


def pages(runs: Runs, run_id: str) -> list[str]:
    """Every page of a run (and the lists around it)."""
    return [
        "/",
        f"/runs/{run_id}",
        f"/runs/{run_id}/grid",
        f"/runs/{run_id}/grid?failing=1&q=%3Cscript",
        f"/runs/{run_id}/review",
        f"/runs/{run_id}/review?at=3",
        f"/compare?a={run_id}&b={runs.first.id}&vb=zero-shot",
    ]


def test_every_response_carries_a_strict_content_security_policy(shared_client: TestClient, shared_runs: Runs) -> None:
    for url in ("/", "/runs.json", f"/runs/{shared_runs.first.id}/grid", "/static/viewer.js", "/runs/nope"):
        response = shared_client.get(url)
        policy = response.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "default-src 'none'" in policy
        assert "unsafe-inline" not in policy and "frame-ancestors 'none'" in policy
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert shared_client.get("/runs").headers["cache-control"] == "no-store"


def test_pages_have_no_inline_script_and_no_inline_style(shared_client: TestClient, shared_runs: Runs) -> None:
    for url in pages(shared_runs, shared_runs.first.id):
        text = shared_client.get(url).text
        scripts = re.findall(r"<script\b[^>]*>", text)
        assert scripts == ['<script src="/static/viewer.js?v=0.1.0" defer>'], url
        assert " style=" not in text and "<style" not in text, url
        assert " on" + "click=" not in text


def test_model_text_is_escaped_in_every_html_page(shared_client: TestClient, shared_runs: Runs) -> None:
    run_id = shared_runs.xss.id
    sample_id = shared_client.get(f"/runs/{run_id}/grid.json").json()["rows"][0]["cells"][0]["sample_id"]
    for url in [*pages(shared_runs, run_id), f"/runs/{run_id}/samples/{sample_id}"]:
        text = shared_client.get(url).text
        for payload in PAYLOADS.values():
            assert payload not in text, (url, payload)
        assert "<script>window" not in text and "<img src=x" not in text and "<svg onload" not in text
        assert 'href="javascript:' not in text and "<b>" not in text and "<i onclick" not in text
    sample_html = shared_client.get(f"/runs/{run_id}/samples/{sample_id}").text
    assert str(escape(f"Say: {PAYLOADS['script']}")) in sample_html
    grid = shared_client.get(f"/runs/{run_id}/grid").text
    assert "script-&lt;b&gt;script&lt;/b&gt;" in grid  # the case id, as text


def test_model_text_round_trips_exactly_in_json(shared_client: TestClient, shared_runs: Runs) -> None:
    run_id = shared_runs.xss.id
    grid = shared_client.get(f"/runs/{run_id}/grid.json")
    assert grid.headers["content-type"] == "application/json"
    rows = grid.json()["rows"]
    assert {row["case"]["vars"]["text"] for row in rows} == set(PAYLOADS.values())
    sample_id = rows[0]["cells"][0]["sample_id"]
    sample = shared_client.get(f"/runs/{run_id}/samples/{sample_id}.json").json()["sample"]
    assert sample["output"] == f"Say: {PAYLOADS['script']}"
    error = shared_client.get("/runs/<img src=x onerror=alert(1)>.json")
    assert error.status_code == 404 and error.headers["content-type"] == "application/json"
    assert "<img src=x" in error.json()["error"]  # JSON keeps the text; a browser never renders it as HTML
    assert "<img src=x" not in shared_client.get("/runs/<img src=x onerror=alert(1)>").text


def test_without_a_token_only_loopback_host_names_are_answered(
    shared_runs: Runs, client_for: Callable[..., TestClient]
) -> None:
    for base in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        assert client_for(shared_runs.db, base_url=base).get("/runs.json").status_code == 200
    rebound = client_for(shared_runs.db, base_url="http://attacker.example:8765")
    assert rebound.get("/runs.json").status_code == 421
    assert rebound.get("/static/viewer.css").status_code == 421


def test_with_a_token_every_request_must_carry_it(shared_runs: Runs, client_for: Callable[..., TestClient]) -> None:
    client = client_for(shared_runs.db, base_url="http://viewer.example:8765", token=TOKEN)
    assert client.get("/runs.json").status_code == 401
    assert client.get("/static/viewer.css").status_code == 401
    assert client.get("/runs.json", headers={"X-Mendoza-Token": "wrong"}).status_code == 401
    assert client.get("/runs.json", headers={"X-Mendoza-Token": TOKEN}).status_code == 200
    assert client.get("/runs.json", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get("/runs.json", params={"token": "wrong"}).status_code == 401


def test_a_first_visit_with_the_token_sets_a_cookie_and_drops_it_from_the_address(
    shared_runs: Runs, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(shared_runs.db, base_url="http://viewer.example:8765", token=TOKEN)
    first = client.get(f"/runs/{shared_runs.first.id}/grid?failing=1&token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == f"/runs/{shared_runs.first.id}/grid?failing=1"
    cookie = first.headers["set-cookie"]
    assert "mendoza_token=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/runs.json").status_code == 200  # the cookie now carries it


def test_serve_refuses_another_address_without_a_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give --token"):
        serve(tmp_path / "x.db", host="0.0.0.0", port=0)
    with pytest.raises(ConfigError, match="at least 8 characters"):
        serve(tmp_path / "x.db", host="0.0.0.0", port=0, token="short")


def test_serve_refuses_a_missing_database_and_a_port_in_use(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no mendoza database here"):
        serve(tmp_path / "missing.db", port=0)
    assert not (tmp_path / "missing.db").exists()
    taken = bind("127.0.0.1", 0)
    try:
        with pytest.raises(ConfigError, match=r"cannot listen on 127\.0\.0\.1"):
            bind("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()


def test_api_keys_never_reach_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client_for: Callable[..., TestClient]
) -> None:
    secret = "sk-test-0123456789abcdefSECRET"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    db = tmp_path / "keys.db"
    run = run_suite(ticket_suite(repeats=2), db=db)
    client = client_for(db)
    sample_id = client.get(f"/runs/{run.id}/grid.json").json()["rows"][0]["cells"][0]["sample_id"]
    urls = [
        "/",
        f"/runs/{run.id}",
        f"/runs/{run.id}/grid",
        f"/runs/{run.id}/review",
        f"/runs/{run.id}/samples/{sample_id}",
    ]
    for url in urls:
        assert secret not in client.get(url).text
        assert secret not in client.get(url, params={"format": "json"}).text
    assert secret.encode() not in db.read_bytes()
