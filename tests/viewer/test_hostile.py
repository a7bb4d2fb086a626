"""The viewer against the hostile inputs reported in issue 10 (items 14-18), each fed exactly as reported: a
path that starts with ``//``, a token left in the address, ids past SQLite's integers, bidi control characters
in ids and outputs, an absolute database path in an error, and a 5 MB output."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.viewer.links import local_path
from tests.viewer.conftest import BASE_URL, Runs

TOKEN = "s3cret-token-for-tests"
BIDI_CONTROLS = re.compile("[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options")


def json_link(html: str) -> str:
    """The href of the page's JSON link."""
    found = re.search(r'<a class="json-link" href="([^"]*)"', html)
    assert found is not None, html[:500]
    return found.group(1).replace("&amp;", "&")


def assert_secured(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["x-frame-options"] == "DENY"


# Item 14: the JSON twin's link is built from the route, never from the raw request path.


@pytest.mark.parametrize(
    "path", ["//evil.example/x", "///evil.example/x", "/\\evil.example/x", "/%2F%2Fevil.example/x"]
)
def test_the_json_link_of_a_path_starting_with_two_slashes_stays_on_this_server(
    shared_client: TestClient, path: str
) -> None:
    response = shared_client.get(BASE_URL + path)
    assert response.status_code == 404
    href = json_link(response.text)
    assert href.startswith("/") and not href.startswith("//") and "\\" not in href
    target = urlsplit(urljoin(BASE_URL + path, href))
    assert (target.scheme, target.netloc) == ("http", "127.0.0.1:8765")
    assert "evil.example/x.json" in target.path  # the same address, as a path on this server


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("//evil.example/x", "/evil.example/x"),
        ("/\\/evil.example", "/evil.example"),
        ("/runs/a\\b c", "/runs/a%5Cb%20c"),
        ("/runs/x?y#z", "/runs/x%3Fy%23z"),
        ("", "/"),
    ],
)
def test_local_path_is_one_slash_then_an_encoded_path(path: str, expected: str) -> None:
    assert local_path(path) == expected
    assert urlsplit(urljoin("http://127.0.0.1:8765/a/b", local_path(path))).netloc == "127.0.0.1:8765"


def test_the_json_link_keeps_the_query_and_leads_to_the_twin(shared_client: TestClient, shared_runs: Runs) -> None:
    html = shared_client.get(f"/runs/{shared_runs.first.id}/grid?failing=1&q=sure").text
    href = json_link(html)
    assert href == f"/runs/{shared_runs.first.id}/grid.json?failing=1&q=sure"
    assert shared_client.get(href).json()["filters"]["failing"] is True
    assert json_link(shared_client.get("/").text) == "/runs.json"


# Item 15: a token in the address is always redirected away, and never copied into a link.


def test_a_token_in_the_address_is_dropped_even_with_a_valid_cookie(
    shared_runs: Runs, client_for: Callable[..., TestClient]
) -> None:
    client = client_for(shared_runs.db, base_url="http://viewer.example:8765", token=TOKEN)
    first = client.get(f"/?token={TOKEN}", follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/"
    assert "mendoza_token=" in first.headers["set-cookie"]
    assert client.cookies.get("mendoza_token") == TOKEN  # the cookie is valid from here on
    again = client.get(f"/?token={TOKEN}", follow_redirects=False)  # reported: answered 200, token kept
    assert again.status_code == 303 and again.headers["location"] == "/"
    grid = f"/runs/{shared_runs.first.id}/grid"
    wrong = client.get(f"{grid}?failing=1&token=not-the-token", follow_redirects=False)
    assert wrong.status_code == 303 and wrong.headers["location"] == f"{grid}?failing=1"
    assert "set-cookie" not in wrong.headers
    page = client.get(f"{grid}?failing=1&token={TOKEN}")
    assert page.status_code == 200 and str(page.url).endswith(f"{grid}?failing=1")
    assert TOKEN not in page.text and "token=" not in json_link(page.text)
    outside = client.get(f"http://viewer.example:8765//evil.example/x?token={TOKEN}", follow_redirects=False)
    assert outside.status_code == 303 and outside.headers["location"] == "/evil.example/x"  # never off-site
    assert_secured(outside)


def test_a_token_in_the_address_of_a_viewer_without_one_is_dropped(shared_client: TestClient) -> None:
    response = shared_client.get("/runs?per_page=2&token=whatever", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/runs?per_page=2"
    assert "set-cookie" not in response.headers
    assert "token" not in json_link(shared_client.get("/runs?per_page=2&format=html").text)


# Item 16: ids past SQLite's integers are a 404, and every response, a 500 included, carries the headers.


def test_a_sample_id_past_sqlites_integers_is_a_404(shared_client: TestClient, shared_runs: Runs) -> None:
    run_id = shared_runs.first.id
    for sample in ("9223372036854775808", "9223372036854775807", "1" + "0" * 40):
        response = shared_client.get(f"/runs/{run_id}/samples/{sample}")
        assert response.status_code == 404, sample
        assert_secured(response)
        assert shared_client.get(f"/runs/{run_id}/samples/{sample}.json").json()["status"] == 404
        assert shared_client.get(f"/runs/{run_id}/samples/{sample}/output.txt").status_code == 404
    label = shared_client.post(
        f"/runs/{run_id}/samples/9223372036854775808/label",
        json={"verdict": "pass"},
        headers={"Origin": BASE_URL, "X-CSRF-Token": shared_client.app.state.csrf_token},  # type: ignore[attr-defined]
    )
    assert label.status_code == 404


@pytest.mark.parametrize(
    "url",
    [
        "/runs?page=9223372036854775808",
        "/runs/{run}/grid?page=9223372036854775808&per_page=9223372036854775808",
        "/runs/{run}/review?at=9223372036854775808",
        "/runs/{run}/review?at=-9223372036854775809",
        "/compare?a={run}&limit=9223372036854775808",
    ],
)
def test_numbers_past_sqlites_integers_in_the_query_are_clamped(
    shared_client: TestClient, shared_runs: Runs, url: str
) -> None:
    response = shared_client.get(url.format(run=shared_runs.first.id))
    assert response.status_code == 200
    assert_secured(response)


def test_a_500_carries_the_security_headers_and_no_exception_text(
    shared_runs: Runs, client_for: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = TestClient(client_for(shared_runs.db).app, base_url=BASE_URL, raise_server_exceptions=False)
    sample_id = client.get(f"/runs/{shared_runs.first.id}/grid.json").json()["rows"][0]["cells"][0]["sample_id"]

    def broken(self: object, sample_id: int) -> None:
        raise OverflowError("Python int too large to convert to SQLite INTEGER: SECRET-DETAIL")

    monkeypatch.setattr(type(client.app.state.viewer.store.browse), "sample", broken)  # type: ignore[attr-defined]
    for suffix in ("", ".json"):
        response = client.get(f"/runs/{shared_runs.first.id}/samples/{sample_id}{suffix}")
        assert response.status_code == 500
        assert_secured(response)
        assert response.headers["cache-control"] == "no-store"
        assert "SECRET-DETAIL" not in response.text and "Traceback" not in response.text
    assert response.json()["status"] == 500


# Item 17: bidi controls in ids and outputs are isolated (and shown, in ids); errors name the file only.

RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"
SPOOFED_CASE = f"invoice-{RLO}fdp.exe"
SPOOFED_VARIANT = f"plain{LRI}-v2{PDI}"


class _Isolation(HTMLParser):
    """Every text node with a bidi control character, and whether an isolating element holds it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []
        self.exposed: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "input", "meta", "link", "img", "hr"):
            return
        if tag == "title":
            self.in_title = True
        isolating = tag == "bdi" or any(name == "dir" for name, _ in attrs)
        self.stack.append(isolating)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if self.stack:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if BIDI_CONTROLS.search(data) and (self.in_title or not any(self.stack)):
            self.exposed.append(data)


def exposed_bidi(html: str) -> list[str]:
    parser = _Isolation()
    parser.feed(html)
    return parser.exposed


def bidi_suite() -> Suite:
    return Suite(
        name=f"bidi-{RLO}suite",
        cases=(
            Case(id=SPOOFED_CASE, vars={"text": f"pay {RLO}0001$ now"}, expected="never", tags=(f"t{RLO}ag",)),
            Case(id="plain", vars={"text": f"{LRI}isolated{PDI} and {RLO}overridden"}, expected="never"),
        ),
        variants=(
            Variant(id=SPOOFED_VARIANT, model="echo", prompt="Say: {{ text }}"),
            Variant(id="other", model="echo", prompt="Also: {{ text }}"),
        ),
        graders=(GraderSpec(type="contains", params={"value": "never"}, name=f"g{RLO}rader"),),
        repeats=2,
    )


def test_bidi_controls_in_ids_and_outputs_are_isolated_and_shown_in_ids(
    tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    db = tmp_path / "bidi.db"
    run = run_suite(bidi_suite(), db=db)
    client = client_for(db)
    sample_id = client.get(f"/runs/{run.id}/grid.json").json()["rows"][0]["cells"][0]["sample_id"]
    urls = [
        "/",
        f"/runs/{run.id}",
        f"/runs/{run.id}/grid",
        f"/runs/{run.id}/samples/{sample_id}",
        f"/runs/{run.id}/review",
        f"/compare?a={run.id}",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert exposed_bidi(response.text) == [], url
    grid = client.get(f"/runs/{run.id}/grid").text
    assert '<span class="case-id"><bdi>invoice-⟨U+202E⟩fdp.exe</bdi></span>' in grid
    assert "<bdi>plain⟨U+2066⟩-v2⟨U+2069⟩</bdi>" in grid
    sample = client.get(f"/runs/{run.id}/samples/{sample_id}").text
    assert "<title>invoice-⟨U+202E⟩fdp.exe · plain⟨U+2066⟩-v2⟨U+2069⟩" in sample
    assert f"<bdi>Say: pay {RLO}0001$ now</bdi>" in sample  # the output itself, kept as written, isolated
    data = client.get(f"/runs/{run.id}/samples/{sample_id}.json").json()
    assert data["sample"]["case_id"] == SPOOFED_CASE  # the JSON twin keeps the text exactly


def test_an_error_page_names_the_database_by_its_file_name_only(
    shared_client: TestClient, shared_runs: Runs
) -> None:
    folder = str(shared_runs.db.parent.resolve())
    html = shared_client.get("/runs/no-such-run")
    data = shared_client.get("/runs/no-such-run.json").json()
    assert html.status_code == 404 and str(escape("no run 'no-such-run' in mendoza.db")) in html.text
    assert data["error"] == "no run 'no-such-run' in mendoza.db (see `mendoza runs`)"
    assert folder not in html.text and folder not in data["error"]
    spoof = shared_client.get(f"/runs/{RLO}nur")
    assert spoof.status_code == 404 and exposed_bidi(spoof.text) == [] and "⟨U+202E⟩nur" in spoof.text


# Item 18: a 5 MB output is cut where it is listed, and the pages stay well under 1 MB.

BIG = ('Lorem ipsum <b>dolor</b> & "sit" amet, ünïcødé ✓ ' * 110_000)[:5_000_000]


def test_a_5_mb_output_keeps_the_sample_and_review_pages_under_1_mb(
    tmp_path: Path, client_for: Callable[..., TestClient]
) -> None:
    suite = Suite(
        name="big",
        cases=(Case(id="huge", vars={"text": BIG}),),
        variants=(Variant(id="echo", model="echo", prompt="{{ text }}"), Variant(id="echo-2", model="echo")),
        graders=(GraderSpec(type="contains", params={"value": "never there"}, name="contains"),),
        repeats=3,
    )
    db = tmp_path / "big.db"
    run = run_suite(suite, db=db)
    client = client_for(db)
    cells = client.get(f"/runs/{run.id}/grid.json").json()["rows"][0]["cells"]
    sample_id = cells[0]["sample_id"]
    sample = client.get(f"/runs/{run.id}/samples/{sample_id}")
    review = client.get(f"/runs/{run.id}/review")
    for response in (sample, review):
        assert response.status_code == 200
        assert len(response.content) < 400_000, len(response.content)
        assert f'href="/runs/{run.id}/samples/{sample_id}/output.txt">show all' in sample.text
    assert sample.text.count("The first 2,000 of 5,000,000 characters") >= 2  # the other repeats, cut
    assert "The first 100,000 of 5,000,000 characters" in sample.text  # the sample's own output, cut late
    whole = client.get(f"/runs/{run.id}/samples/{sample_id}/output.txt")
    assert whole.status_code == 200 and whole.text == BIG
    assert whole.headers["content-type"].startswith("text/plain") and whole.headers["x-content-type-options"]
    assert client.get(f"/runs/{run.id}/samples/{sample_id}/prompt.txt").text == BIG
    assert client.get(f"/runs/{run.id}/samples/{sample_id}/secrets.txt").status_code == 404
    twin = client.get(f"/runs/{run.id}/samples/{sample_id}.json").json()
    assert twin["sample"]["output"] == BIG  # the data itself stays whole in the JSON twin
    for brief in twin["repeats"] + twin["other_variants"]:
        assert brief["clipped"] and brief["chars"] >= 5_000_000 and len(brief["output"]) == 2_000
