"""Importing logged requests: paths, CSV and JSONL, bad rows, stratified sampling, redaction."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mendoza.config.traffic import (
    ImportOptions,
    allocate,
    default_redactors,
    import_traffic,
    parse_mapping,
    parse_path,
    python_redactor,
    regex_redactor,
)
from mendoza.errors import ConfigError


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return path


def test_paths_parse_nested_keys_indexes_and_quoted_names() -> None:
    assert parse_path("$.request.messages[0].text") == ("request", "messages", 0, "text")
    assert parse_path("$['a.b'][2]") == ("a.b", 2)
    with pytest.raises(ConfigError, match="must start with"):
        parse_path("request.text")
    with pytest.raises(ConfigError, match="cannot read"):
        parse_path("$.a..b")


def test_jsonl_maps_nested_paths_expected_and_id(tmp_path: Path) -> None:
    logs = write_jsonl(tmp_path / "logs.jsonl", [
        {"id": "r1", "request": {"messages": [{"text": "where is my order"}]}, "label": "shipping"},
        {"id": 7, "request": {"messages": [{"text": "refund please"}]}, "label": "refund"},
    ])
    options = ImportOptions(parse_mapping(["ticket=$.request.messages[0].text"]), expected="$.label", id_path="$.id")
    result = import_traffic(logs, options)
    assert [d.case for d in result.drafts] == [
        {"id": "r1", "vars": {"ticket": "where is my order"}, "expected": "shipping"},
        {"id": "7", "vars": {"ticket": "refund please"}, "expected": "refund"},
    ]
    assert result.drafts[1].provenance == {"kind": "import", "file": str(logs), "line": 2, "redacted": 0}


def test_ids_default_to_a_stable_hash(tmp_path: Path) -> None:
    logs = write_jsonl(tmp_path / "logs.jsonl", [{"q": "a"}, {"q": "b"}, {"q": "a"}])
    options = ImportOptions({"q": "$.q"})
    first = [d.case["id"] for d in import_traffic(logs, options).drafts]
    assert first == [d.case["id"] for d in import_traffic(logs, options).drafts]
    assert first[0].startswith("import-") and len(set(first)) == 3 and first[2] == first[0] + "-2"


def test_csv_rows_map_by_column(tmp_path: Path) -> None:
    logs = tmp_path / "logs.csv"
    logs.write_text("text,channel\nhello there,web\nbye,email\n", encoding="utf-8")
    result = import_traffic(logs, ImportOptions({"ticket": "$.text"}, expected="$.channel"))
    assert [(d.case["vars"]["ticket"], d.case["expected"], d.provenance["line"]) for d in result.drafts] == [
        ("hello there", "web", 2), ("bye", "email", 3)]


def test_a_missing_path_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    logs = write_jsonl(tmp_path / "logs.jsonl", [{"request": {"text": "ok"}}, {"request": {}}])
    with pytest.raises(ConfigError) as raised:
        import_traffic(logs, ImportOptions({"ticket": "$.request.text"}))
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith(f"{logs}:2: no value at $.request.text")


def test_skip_bad_skips_and_counts(tmp_path: Path) -> None:
    logs = tmp_path / "logs.jsonl"
    logs.write_text('{"q": "a"}\n{not json\n{"other": 1}\n{"q": "b"}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"logs.jsonl:2: invalid JSON"):
        import_traffic(logs, ImportOptions({"q": "$.q"}))
    result = import_traffic(logs, ImportOptions({"q": "$.q"}, skip_bad=True))
    assert [d.case["vars"]["q"] for d in result.drafts] == ["a", "b"]
    assert [str(bad).split(": ")[0] for bad in result.bad_rows] == [f"{logs}:2", f"{logs}:3"]


def test_allocation_is_proportional_with_one_per_stratum() -> None:
    assert allocate({"web": 80, "email": 15, "phone": 5}, 20) == {"web": 16, "email": 3, "phone": 1}
    assert allocate({"web": 98, "email": 1, "phone": 1}, 10) == {"web": 8, "email": 1, "phone": 1}
    assert allocate({"a": 5, "b": 3, "c": 1}, 2) == {"a": 1, "b": 1, "c": 0}
    assert allocate({"a": 2, "b": 1}, 10) == {"a": 2, "b": 1}
    assert sum(allocate({"a": 7, "b": 7, "c": 7}, 10).values()) == 10


def test_stratified_sample_proportions_and_determinism(tmp_path: Path) -> None:
    rows = [{"text": f"message {i}", "channel": "web" if i % 10 < 7 else ("email" if i % 10 < 9 else "chat")}
            for i in range(300)]
    logs = write_jsonl(tmp_path / "logs.jsonl", rows)

    def sample(seed: int) -> list[str]:
        options = ImportOptions({"text": "$.text"}, expected="$.channel", stratify="$.channel", max_cases=30,
                                seed=seed)
        return [d.case["vars"]["text"] for d in import_traffic(logs, options).drafts]

    first = sample(1)
    assert first == sample(1) and first != sample(2)
    channels = Counter(rows[int(text.split()[1])]["channel"] for text in first)
    assert channels == {"web": 21, "email": 6, "chat": 3}
    lines = [int(text.split()[1]) for text in first]
    assert lines == sorted(lines)  # file order is kept


def test_default_redaction_of_emails_and_phones() -> None:
    text = "Mail jane.doe+x@example.co.uk or call +1 (555) 123-4567 / 020 7946 0958 about order 12345 on 2024-01-15"
    redacted = text
    total = 0
    for redactor in default_redactors():
        redacted, count = redactor(redacted)
        total += count
    assert redacted == "Mail [email] or call [phone] / [phone] about order 12345 on 2024-01-15"
    assert total == 3


def test_custom_regex_and_python_function_redact_before_storing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "scrub.py").write_text("def names(text):\n    return text.replace('Alice', '[name]')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    logs = write_jsonl(tmp_path / "logs.jsonl", [
        {"id": "u-1", "text": "I am Alice, mail alice@corp.example, card 4111-1111-1111-1111, call 555-867-5309"},
    ])
    redactors = (*default_redactors(), regex_redactor(r"\d{4}(?:-\d{4}){3}"), python_redactor("python:scrub:names"))
    result = import_traffic(logs, ImportOptions({"text": "$.text"}, redactors=redactors))
    (draft,) = result.drafts
    assert draft.case["vars"]["text"] == "I am [name], mail [email], card [redacted], call [phone]"
    assert draft.provenance["redacted"] == 4
    out = tmp_path / "drafts.jsonl"
    out.write_text(draft.to_json() + "\n", encoding="utf-8")
    written = out.read_text(encoding="utf-8")
    for secret in ("Alice", "alice@corp.example", "4111", "867-5309"):
        assert secret not in written


def test_bad_redactors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="invalid regex"):
        regex_redactor("(")
    with pytest.raises(ConfigError, match="cannot import"):
        python_redactor("python:no_such_module_here:f")
    with pytest.raises(ConfigError, match="expected python:module:function"):
        python_redactor("python:justone")
