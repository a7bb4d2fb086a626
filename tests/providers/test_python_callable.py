"""The python provider: the app under test as a function of the case's variables."""

from __future__ import annotations

import asyncio
import textwrap
import threading
from pathlib import Path
from typing import Any

import pytest

from mendoza.core import ModelRequest, ModelResponse, Pricing, Variant
from mendoza.errors import ProviderError
from mendoza.providers.python_callable import PythonProvider, load_callable


def _write(path: Path, source: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _complete(
    model: str, prompt: str | None = None, pricing: Pricing | None = None, **variables: Any
) -> ModelResponse:
    provider = PythonProvider(Variant(id="v", model=model, pricing=pricing))
    request = ModelRequest(prompt=prompt, vars=variables, params={}, seed=1)
    return asyncio.run(provider.complete(request))


def _failure(model: str, **variables: Any) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        _complete(model, **variables)
    return info.value


def test_sync_function_from_a_module_runs_in_a_worker_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "mz_app_sync.py",
        """
        import threading

        def answer(case):
            return f"{case['question'].upper()} from {threading.current_thread().name}"
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    response = _complete("python:mz_app_sync:answer", question="why")
    assert response.text.startswith("WHY from ")
    assert not response.text.endswith(threading.main_thread().name)


def test_async_function_is_awaited_and_may_return_a_dict(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "mz_app_async.py",
        """
        import asyncio

        async def answer(case):
            await asyncio.sleep(0)
            return {"output": {"label": case["x"] * 2}, "tokens_in": 10, "tokens_out": 4}
        """,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    response = _complete("python:mz_app_async:answer", pricing=Pricing(input=1.0, output=1.0), x=21)
    assert response.text == '{"label": 42}'
    assert (response.tokens_in, response.tokens_out) == (10, 4)
    assert response.cost == pytest.approx(14 / 1e6)


def test_file_path_relative_to_the_cwd_with_prompt(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path / "apps" / "mz_bot_helper.py", "PREFIX = '>> '\n")
    _write(
        tmp_path / "apps" / "bot.py",
        """
        from mz_bot_helper import PREFIX

        def answer(case, prompt=None):
            return {"output": PREFIX + prompt + " / " + case["name"], "cost": 0.5}
        """,
    )
    monkeypatch.chdir(tmp_path)
    response = _complete("python:apps/bot.py:answer", prompt="Hello", name="Ann")
    assert response.text == ">> Hello / Ann"
    assert response.cost == 0.5


def test_the_module_is_imported_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "imports.txt"
    _write(
        tmp_path / "counted.py",
        f"""
        with open({str(marker)!r}, "a") as handle:
            handle.write("x")

        def answer(case):
            return "ok"
        """,
    )
    monkeypatch.chdir(tmp_path)
    for _ in range(3):
        assert _complete("python:counted.py:answer").text == "ok"
    assert marker.read_text() == "x"
    assert load_callable("counted.py:answer")({}) == "ok"


def test_an_exception_in_the_app_is_a_non_retryable_error_with_its_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "broken_app.py",
        """
        def answer(case):
            raise ValueError(f"cannot handle {case['q']}")

        async def answer_async(case):
            raise KeyError("missing")

        def wrong_type(case):
            return 42
        """,
    )
    monkeypatch.chdir(tmp_path)
    error = _failure("python:broken_app.py:answer", q="this")
    assert str(error) == "ValueError: cannot handle this" and not error.retryable
    assert str(_failure("python:broken_app.py:answer_async")) == "KeyError: 'missing'"
    assert "returned int" in str(_failure("python:broken_app.py:wrong_type"))


def test_a_provider_error_from_the_app_passes_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(
        tmp_path / "flaky_app.py",
        """
        from mendoza.errors import ProviderError

        def answer(case):
            raise ProviderError("upstream busy", retryable=True, retry_after=2.0)
        """,
    )
    monkeypatch.chdir(tmp_path)
    error = _failure("python:flaky_app.py:answer")
    assert str(error) == "upstream busy" and error.retryable and error.retry_after == 2.0


def test_import_failures_name_the_target(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _write(tmp_path / "syntax_app.py", "def answer(case:\n")
    _write(tmp_path / "plain_app.py", "VALUE = 1\n")

    missing_module = _failure("python:mz_no_such_module_xyz:run")
    assert "mz_no_such_module_xyz:run" in str(missing_module) and not missing_module.retryable
    assert "ModuleNotFoundError" in str(missing_module)
    assert "no attribute 'nope'" in str(_failure("python:plain_app.py:nope"))
    assert "is not callable" in str(_failure("python:plain_app.py:VALUE"))
    assert "SyntaxError" in str(_failure("python:syntax_app.py:answer"))
    assert "no file" in str(_failure("python:missing/app.py:answer"))
    assert "is not a callable target" in str(_failure("python:just_a_module"))


def test_provider_metadata() -> None:
    provider = PythonProvider(Variant(id="v", model="python:pkg.mod:fn"))
    assert provider.cacheable is False and provider.default_concurrency == 4
    assert provider.cache_identity()["target"] == "pkg.mod:fn"
    assert provider.cache_identity()["model"] == "python:pkg.mod:fn"
