"""The `python:` provider's contract, as the README states it: declared keyword arguments (vars, prompt,
system, params, case_id, repeat, seed), the original one-positional-dict call, a dict's unknown keys kept as
metadata, and an app's exit() failing its sample rather than the run."""

from __future__ import annotations

import asyncio
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, ModelRequest, Suite, Variant
from mendoza.errors import ProviderError
from mendoza.providers.python_callable import PythonProvider
from mendoza.store import Store


def _app(tmp_path: Path, source: str) -> str:
    path = tmp_path / f"app_{abs(hash(source))}.py"
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return str(path)


def _call(target: str, request: ModelRequest) -> Any:
    provider = PythonProvider(Variant(id="v", model=f"python:{target}"))
    return asyncio.run(provider.complete(request))


REQUEST = ModelRequest(
    prompt="rendered", vars={"q": "why"}, params={"temperature": 0.3}, seed=42, system="sys", case_id="c7", repeat=2
)


def test_every_declared_keyword_is_passed(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        import json

        def answer(*, vars, prompt, system, params, case_id, repeat, seed):
            return json.dumps([vars, prompt, system, params, case_id, repeat, seed])
        """)
    response = _call(f"{target}:answer", REQUEST)
    assert json.loads(response.text) == [{"q": "why"}, "rendered", "sys", {"temperature": 0.3}, "c7", 2, 42]


def test_only_what_is_declared_is_passed(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(vars, seed):
            return f"{vars['q']}:{seed}"
        """)
    assert _call(f"{target}:answer", REQUEST).text == "why:42"


def test_the_original_single_positional_dict_still_works(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(case, prompt=None):
            return f"{case['q']} / {prompt}"

        async def answer_async(inputs):
            return inputs["q"].upper()
        """)
    assert _call(f"{target}:answer", REQUEST).text == "why / rendered"
    assert _call(f"{target}:answer_async", REQUEST).text == "WHY"


def test_a_required_argument_nobody_passes_is_an_error_naming_it(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(case, temperature):
            return "never"
        """)
    with pytest.raises(ProviderError) as info:
        _call(f"{target}:answer", REQUEST)
    assert "needs an argument 'temperature'" in str(info.value) and "vars, prompt" in str(info.value)


def test_unknown_keys_of_a_returned_dict_are_kept_as_metadata(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(vars):
            return {"output": "hi", "tokens_in": 3, "tokens_out": 1, "cost": 0.5, "trace_id": "t-1",
                    "retrieved": ["doc1", "doc2"]}
        """)
    response = _call(f"{target}:answer", REQUEST)
    assert (response.text, response.tokens_in, response.tokens_out, response.cost) == ("hi", 3, 1, 0.5)
    assert response.metadata == {"trace_id": "t-1", "retrieved": ["doc1", "doc2"]}


def test_bad_token_counts_are_an_error_not_silently_stored(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(vars):
            return {"output": "hi", "tokens_in": "three"}
        """)
    with pytest.raises(ProviderError) as info:
        _call(f"{target}:answer", REQUEST)
    assert "tokens_in 'three'" in str(info.value)


def test_params_repeat_and_seed_come_from_the_run(tmp_path: Path) -> None:
    target = _app(tmp_path, """
        def answer(vars, params, repeat):
            return f"{vars['word']} t={params['temperature']} r={repeat}"
        """)
    suite = Suite(
        name="contract",
        cases=(Case(id="c0", vars={"word": "hi"}),),
        variants=(Variant(id="app", model=f"python:{target}:answer", params={"temperature": 0.7}),),
        graders=(GraderSpec(type="contains", params={"value": "hi"}, name="contains"),),
        repeats=3,
    )
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        outputs = sorted(sample.output or "" for sample in store.samples.iterate(run.id))
    assert outputs == ["hi t=0.7 r=0", "hi t=0.7 r=1", "hi t=0.7 r=2"]


@pytest.mark.parametrize("kind", ["sync", "async"])
def test_an_app_calling_exit_fails_its_sample_not_the_run(tmp_path: Path, kind: str) -> None:
    target = _app(tmp_path, f"""
        import sys

        {"async " if kind == "async" else ""}def answer(vars):
            sys.exit(0)
        """)
    suite = Suite(
        name="exits",
        cases=(Case(id="c0", vars={}), Case(id="c1", vars={})),
        variants=(Variant(id="app", model=f"python:{target}:answer"),),
        graders=(GraderSpec(type="contains", params={"value": "x"}, name="contains"),),
    )
    with Store(tmp_path / "m.db") as store:
        run = run_suite(suite, db=store)
        samples = list(store.samples.iterate(run.id))
    assert run.status == "complete" and len(samples) == 2
    assert all(sample.error is not None and "called exit(0)" in sample.error for sample in samples)


def test_metadata_is_stored_and_shown_on_the_sample_page(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from mendoza.api import run_suite
    from mendoza.core import Case, Suite, Variant
    from mendoza.store import Store
    from mendoza.viewer import create_app

    app = tmp_path / "mz_meta_app.py"
    app.write_text("def answer(vars):\n    return {'output': 'hi', 'trace_id': 't-9', 'docs': ['d1']}\n")
    suite = Suite(name="meta", cases=(Case(id="a"),), variants=(Variant(id="v", model=f"python:{app}:answer"),))
    db = tmp_path / "m.db"
    with Store(db) as store:
        run = run_suite(suite, db=store)
        (sample,) = store.samples.iterate(run.id)
        assert sample.metadata == {"trace_id": "t-9", "docs": ["d1"]}
        (record,) = store.browse.case_samples(run.id, "a", ["v"])
        assert record.metadata == {"trace_id": "t-9", "docs": ["d1"]}
        client = TestClient(create_app(store, author="t"), base_url="http://127.0.0.1")
        page = client.get(f"/runs/{run.id}/samples/{record.id}")
        assert page.status_code == 200 and "t-9" in page.text and "Returned with it" in page.text
