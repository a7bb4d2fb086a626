"""Hostile rate limits: a 429 asking to wait an hour must not hold a sample for minutes in silence."""

from __future__ import annotations

import io
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from mendoza.api import load_suite, run_suite
from mendoza.runner.progress import PlainProgress
from mendoza.store import Store
from tests.support.fake_openai_server import FakeOpenAIServer
from tests.support.fixtures import fake_openai_server  # noqa: F401 - a fixture used below


def _suite(tmp_path: Path, base_url: str, **fields: Any) -> Path:
    data = {
        "suite": "rate-limited",
        "cases": [{"id": "c0", "word": "hello"}],
        "variants": [{"id": "v", "model": "openai/m", "base_url": base_url, "prompt": "say {{ word }}"}],
        "graders": [{"contains": "hello"}],
        **fields,
    }
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_retry_after_of_an_hour_fails_the_sample_at_once_saying_so(
    fake_openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.fail_next("rate_limit", times=10, retry_after="3600")
    suite = load_suite(_suite(tmp_path, fake_openai_server.url, timeout=3))
    assert suite.max_retry_wait == 60  # the default
    started = time.monotonic()
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        [sample] = list(store.samples.iterate(run.id))
    assert time.monotonic() - started < 10
    assert run.status == "complete" and sample.output is None and sample.attempts == 1
    assert sample.error is not None and "HTTP 429" in sample.error
    assert "3600s" in sample.error and "max_retry_wait 60s" in sample.error
    assert fake_openai_server.count == 1


def test_max_retry_wait_is_a_suite_setting(
    fake_openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.fail_next("rate_limit", times=1, retry_after="1")
    suite = load_suite(_suite(tmp_path, fake_openai_server.url, max_retry_wait=0.5))
    assert suite.max_retry_wait == 0.5
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        [sample] = list(store.samples.iterate(run.id))
    assert sample.error is not None and "max_retry_wait 0.5s" in sample.error


def test_a_short_retry_after_is_waited_and_shown_as_waiting(
    fake_openai_server: FakeOpenAIServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    fake_openai_server.fail_next("rate_limit", times=1, retry_after="0.3")
    stream = io.StringIO()
    progress = PlainProgress(stream, every=0.0)
    with Store(tmp_path / "m.db") as store:
        run = run_suite(load_suite(_suite(tmp_path, fake_openai_server.url)), db=store, progress=progress)
        [sample] = list(store.samples.iterate(run.id))
    assert sample.error is None and sample.output == "say hello" and sample.attempts == 2
    assert "1 waiting to retry" in stream.getvalue()
    assert stream.getvalue().splitlines()[-1].startswith("mendoza: 1/1 samples")
    assert "waiting" not in stream.getvalue().splitlines()[-1]


def test_the_rich_bar_shows_calls_waiting() -> None:
    from mendoza.runner.progress import RichProgress

    bar = RichProgress()
    bar.waiting(1)
    bar.waiting(1)
    task = bar._bar.tasks[0]
    assert task.fields["waiting"] == ", 2 waiting to retry"
    bar.waiting(-1)
    bar.waiting(-1)
    assert bar._bar.tasks[0].fields["waiting"] == ""
