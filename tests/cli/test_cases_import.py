"""``mendoza cases import`` and ``mendoza cases dedupe``: a drafts file with provenance, redacted, sampled and
deduplicated against the suite; bad input in one line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mendoza.cli import main
from tests.config.suite_files import write_suite

SHIPPING = "my package was supposed to arrive on monday but the tracking page still says it is in the warehouse"


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    return write_suite(
        tmp_path / "suite",
        f"""\
        suite: support
        cases:
          - id: ship-1
            ticket: "{SHIPPING}"
            expected: shipping
        variants:
          - id: zero
            prompt: "Route: {{{{ ticket }}}}"
        """,
    )


def run(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 0


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_import_writes_redacted_deduplicated_drafts(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs.jsonl"
    rows = [
        {"id": "a", "request": {"text": SHIPPING.replace("monday", "tuesday")}, "label": "shipping"},
        {"id": "b", "request": {"text": "Refund for bob@example.com please, call me at 415-555-0199"},
         "label": "refund"},
        {"id": "c", "request": {"text": "refund for BOB@example.com please, call me at 415-555-0199!"},
         "label": "refund"},
        {"id": "d", "request": {"text": "How do I reset my password? SECRET-42"}, "label": "account"},
    ]
    logs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "drafts.jsonl"
    run(["cases", "import", str(logs), "--suite", str(suite), "--map", "ticket=$.request.text",
         "--expected", "$.label", "--id", "$.id", "--redact", r"SECRET-\d+", "-o", str(out)])
    drafts = read(out)
    assert [d["case"]["id"] for d in drafts] == ["b", "d"]
    assert drafts[0] == {
        "case": {"id": "b", "vars": {"ticket": "Refund for [email] please, call me at [phone]"},
                 "expected": "refund"},
        "provenance": {"kind": "import", "file": str(logs), "line": 2, "redacted": 2},
    }
    assert drafts[1]["case"]["vars"]["ticket"] == "How do I reset my password? [redacted]"
    text = out.read_text(encoding="utf-8")
    for secret in ("bob@example.com", "415-555-0199", "SECRET-42"):
        assert secret not in text
    printed = capsys.readouterr().out
    assert "near duplicate of case ship-1 (Jaccard ~0.8" in printed
    assert "dropped c: duplicate of draft b (exact)" in printed


def test_no_dedupe_keeps_everything_and_dedupe_command_drops_later(suite: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs.csv"
    logs.write_text(f"text,channel\n{SHIPPING},web\nsomething new entirely,web\n\"Something new, entirely!\",chat\n",
                    encoding="utf-8")
    drafts = tmp_path / "drafts.jsonl"
    run(["cases", "import", str(logs), "--suite", str(suite), "--map", "ticket=$.text", "--no-dedupe",
         "-o", str(drafts)])
    assert len(read(drafts)) == 3
    kept = tmp_path / "kept.jsonl"
    run(["cases", "dedupe", str(suite), str(drafts), "-o", str(kept)])
    assert [d["case"]["vars"]["ticket"] for d in read(kept)] == ["something new entirely"]


def test_stratified_import_is_capped_and_seeded(suite: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    rows = [{"t": f"question number {i} about topic {i * 7}", "ch": "web" if i < 40 else "app"} for i in range(50)]
    logs.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    outputs = []
    for name in ("one", "two"):
        out = tmp_path / f"{name}.jsonl"
        run(["cases", "import", str(logs), "--suite", str(suite), "--map", "t=$.t", "--stratify", "$.ch",
             "--max", "10", "--seed", "3", "-o", str(out)])
        outputs.append(out.read_text(encoding="utf-8"))
    assert outputs[0] == outputs[1]
    lines = [d["provenance"]["line"] for d in read(tmp_path / "one.jsonl")]
    assert len(lines) == 10 and sum(line > 40 for line in lines) == 2


def test_a_missing_path_is_one_line_and_skip_bad_counts(
    suite: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"q": "fine"}\n{"other": 1}\n', encoding="utf-8")
    out = tmp_path / "drafts.jsonl"
    with pytest.raises(SystemExit) as stopped:
        main(["cases", "import", str(logs), "--suite", str(suite), "--map", "q=$.q", "-o", str(out)])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert err.strip().count("\n") == 0 and f"{logs}:2: no value at $.q" in err
    run(["cases", "import", str(logs), "--suite", str(suite), "--map", "q=$.q", "--skip-bad", "-o", str(out)])
    assert "skipped 1 bad rows" in capsys.readouterr().out
    assert len(read(out)) == 1
