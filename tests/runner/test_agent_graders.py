"""``tool_called`` and ``trajectory`` on the tool calls a model really made (issue 13): a variant with
``tools`` against the fake OpenAI-compatible server, which calls them; the graders read the recorded steps,
in the run and again in a regrade, and the report counts where failures start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mendoza.api import regrade_run, run_suite
from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, Suite, ToolSpec, Variant
from mendoza.report import build_report
from mendoza.store import Store
from tests.support.fake_openai_server import FakeOpenAIServer, last_user

TOOLS = (
    ToolSpec(name="lookup_order", parameters={"type": "object", "properties": {"order": {"type": "string"}}}),
    ToolSpec(name="refund", parameters={"type": "object", "properties": {"order": {"type": "string"},
                                                                        "amount": {"type": "number"}}}),
)


def _calls(body: dict[str, Any]) -> list[Any]:
    """The fake model looks the order up, then refunds it when asked; for order 13 it skips the lookup."""
    said = last_user(body)
    order = said.split()[-1]
    lookup = {"name": "lookup_order", "arguments": {"order": order}}
    refund = {"name": "refund", "arguments": {"order": order, "amount": 10.0}}
    if "refund" not in said:
        return [lookup]
    return [refund] if order == "13" else [lookup, refund]


def _suite(url: str) -> Suite:
    cases = tuple(
        Case(id=f"o{order}", vars={"order": order, "ask": "refund" if order != "7" else "status"})
        for order in ("7", "12", "13")
    )
    return Suite(
        name="agent-graders",
        cases=cases,
        variants=(Variant(id="agent", model="openai/fake", base_url=url, api_key_env="MENDOZA_TEST_UNSET_KEY",
                          prompt="{{ ask }} for order {{ order }}", tools=TOOLS),),
        graders=(
            parse_grader_entry({"tool_called": "lookup_order", "arguments": {"order": "{{ order }}"}}, 0),
            parse_grader_entry({"trajectory": {"steps": ["lookup_order", "refund"], "kinds": ["tool"]},
                                "name": "flow"}, 1),
        ),
    )


def test_tool_graders_judge_the_calls_the_model_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MENDOZA_TEST_UNSET_KEY", raising=False)
    with FakeOpenAIServer(call_tools=_calls) as server, Store(tmp_path / "m.db") as store:
        run = run_suite(_suite(server.url), db=store)
        samples = {s.case_id: s for s in store.samples.iterate(run.id, steps=True)}
        assert [step.name for step in samples["o12"].steps] == ["lookup_order", "refund"]
        verdicts = {case: {g.grader: g.passed for g in s.grades} for case, s in samples.items()}
        assert verdicts == {
            "o7": {"tool_called": True, "flow": False},   # looked up, never refunded
            "o12": {"tool_called": True, "flow": True},
            "o13": {"tool_called": False, "flow": False},  # refunded without looking the order up
        }
        explanation = next(g.explanation for g in samples["o13"].grades if g.grader == "tool_called")
        assert "no call of lookup_order" in explanation and "refund" in explanation

        # A regrade with a stricter trajectory reads the stored steps; the model is not asked again.
        asked = server.count
        exact = parse_grader_entry({"trajectory": {"steps": ["lookup_order"], "order": "exact"}, "name": "flow"}, 0)
        regrade_run(store, run.id, graders=[exact])
        assert server.count == asked
        flow = {g.case_id: g.passed for g in store.grades.current(run.id, "flow")}
        assert flow == {"o7": True, "o12": False, "o13": False}
        assert build_report(store, run.id).variant("agent").passed == 1
