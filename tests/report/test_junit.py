"""The gate as JUnit XML: valid against the common JUnit schema, one testcase per variant and per threshold
check, the gate's reasons as failures and skips, the report's figures as properties, hostile text made safe."""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Thresholds, Variant
from mendoza.report import (
    Gate,
    GateCheck,
    build_report,
    compare_variants,
    comparison_to_junit,
    evaluate_gate,
    regression_gate,
    report_to_junit,
)
from mendoza.report.junit import JUNIT_TEXT_LIMIT, xml_text
from mendoza.store import Store

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "support" / "junit.xsd"
GRADER = (GraderSpec(type="equals", params={"value": "yes"}, name="equals"),)


@pytest.fixture(scope="module")
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def _variant(vid: str, rate: float, **params: object) -> Variant:
    return Variant(
        id=vid, model="mock", params={"pass_rate": rate, "pass_output": "yes", "fail_output": "no", **params}
    )


def _suite(*variants: Variant, cases: int = 30, repeats: int = 4, **thresholds: object) -> Suite:
    return Suite(
        name="gated",
        cases=tuple(Case(id=f"c{i:02d}", vars={}) for i in range(cases)),
        variants=variants,
        graders=GRADER,
        repeats=repeats,
        thresholds=Thresholds.model_validate(thresholds),
    )


def _parse(document: bytes, schema: xmlschema.XMLSchema) -> ET.Element:
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    schema.validate(document.decode("utf-8"))
    return ET.fromstring(document)


def _cases(root: ET.Element) -> dict[str, ET.Element]:
    return {case.attrib["name"]: case for case in root.iter("testcase")}


def _properties(suite: ET.Element) -> dict[str, str]:
    return {prop.attrib["name"]: prop.attrib["value"] for prop in suite.iter("property")}


def test_a_testcase_per_variant_and_per_check_with_the_gates_reasons(
    store: Store, schema: xmlschema.XMLSchema
) -> None:
    suite = _suite(
        _variant("great", 1.0),
        _variant("awful", 0.0),
        _variant("close", 0.75),
        _variant("broken", 1.0, fail_always=True, error="fatal"),
        min_pass_rate=0.8,
        max_error_rate=0.2,
    )
    run = run_suite(suite, db=store)
    report = build_report(store, run.id)
    gate = evaluate_gate(report)
    root = _parse(report_to_junit(report, gate), schema)

    suites = root.findall("testsuite")
    assert [s.attrib["name"] for s in suites] == [f"gated: {v}" for v in ("great", "awful", "close", "broken")]
    assert [s.attrib["id"] for s in suites] == ["0", "1", "2", "3"]
    cases = _cases(root)
    expected = {f"{v}: {name}" for v in ("great", "awful", "close", "broken") for name in ("samples", "min_pass_rate",
                                                                                          "max_error_rate")}
    assert set(cases) == expected
    # every check of the gate is one testcase, and the variant's own testcase carries the "errors" check
    assert len(cases) == len(gate.checks) + 3
    by_subject = {(check.subject, check.threshold): check for check in gate.checks}

    assert list(cases["great: min_pass_rate"]) == [] and list(cases["great: samples"]) == []
    failure = cases["awful: min_pass_rate"].find("failure")
    assert failure is not None
    assert failure.attrib["type"] == "min_pass_rate"
    assert failure.attrib["message"] == by_subject[("awful", "min_pass_rate")].message == failure.text
    assert "lies below min_pass_rate 80.0%" in failure.attrib["message"]

    skipped = cases["close: min_pass_rate"].find("skipped")
    check = by_subject[("close", "min_pass_rate")]
    assert check.outcome == "inconclusive" and check.samples_to_decide
    assert skipped is not None and skipped.attrib["message"] == f"inconclusive: {check.message}"
    assert f"about {check.samples_to_decide:,} more samples" in skipped.attrib["message"]
    assert "with on_inconclusive: pass an inconclusive check does not fail CI" in (skipped.text or "")

    errored = cases["broken: samples"].find("failure")
    assert errored is not None and errored.attrib["type"] == "errors" and "every sample errored" in errored.text
    assert cases["broken: max_error_rate"].find("failure") is not None

    failures = sum(check.outcome == "fail" for check in gate.checks)
    skips = sum(check.outcome == "inconclusive" for check in gate.checks)
    assert root.attrib["tests"] == str(len(cases)) and root.attrib["failures"] == str(failures)
    assert sum(int(s.attrib["skipped"]) for s in suites) == skips
    assert all(int(s.attrib["tests"]) == len(s.findall("testcase")) for s in suites)


def test_properties_hold_the_reports_figures(store: Store, schema: xmlschema.XMLSchema) -> None:
    run = run_suite(_suite(_variant("close", 0.75), min_pass_rate=0.8), db=store)
    report = build_report(store, run.id)
    root = _parse(report_to_junit(report, evaluate_gate(report)), schema)
    variant = report.variants[0]
    props = _properties(root.find("testsuite"))  # type: ignore[arg-type]
    assert props["mendoza.run"] == run.id and props["mendoza.variant"] == "close"
    assert float(props["mendoza.pass_rate"]) == pytest.approx(variant.pass_rate, abs=1e-6)
    assert float(props["mendoza.pass_rate.low"]) == pytest.approx(variant.interval.low, abs=1e-6)
    assert float(props["mendoza.pass_rate.high"]) == pytest.approx(variant.interval.high, abs=1e-6)
    assert props["mendoza.pass_rate.text"].startswith(f"{variant.pass_rate:.1%} [")
    assert props["mendoza.passed"] == str(variant.passed) and props["mendoza.samples"] == "120"
    assert float(props["mendoza.pass_at_4"]) == pytest.approx(variant.pass_at_k[-1], abs=1e-6)
    assert props["mendoza.gate"] == "inconclusive" and props["mendoza.gate.on_inconclusive"] == "pass"
    assert props["mendoza.confidence"] == "0.95"


def test_a_suite_without_thresholds_still_has_a_testcase_per_variant(store: Store, schema: xmlschema.XMLSchema) -> None:
    run = run_suite(_suite(_variant("a", 1.0), _variant("b", 0.5)), db=store)
    report = build_report(store, run.id)
    root = _parse(report_to_junit(report, evaluate_gate(report)), schema)
    assert set(_cases(root)) == {"a: samples", "b: samples"} and root.attrib["failures"] == "0"


def test_regression_checks_go_under_their_comparison(store: Store, schema: xmlschema.XMLSchema) -> None:
    suite = _suite(_variant("app", 0.95), max_regression=0.02)
    baseline = run_suite(suite, db=store)
    worse = run_suite(suite.model_copy(update={"variants": (_variant("app", 0.3),)}), db=store)
    comparison = compare_variants(store, baseline.id, "app", worse.id, "app")
    report = build_report(store, worse.id)
    gate = evaluate_gate(report, [comparison])
    root = _parse(report_to_junit(report, gate, [comparison]), schema)
    subject = f"{worse.id}:app vs {baseline.id}:app"
    names = [s.attrib["name"] for s in root.findall("testsuite")]
    assert names == ["gated: app", subject]
    cases = _cases(root)
    failure = cases[f"{subject}: max_regression"].find("failure")
    assert failure is not None and "a regression is shown" in failure.attrib["message"]
    assert list(cases[f"{subject}: paired comparison"]) == []
    props = _properties(root.findall("testsuite")[1])
    assert float(props["mendoza.difference"]) == pytest.approx(comparison.paired.difference, abs=1e-6)
    assert float(props["mendoza.difference.high"]) < 0 and props["mendoza.significant"] == "true"

    compared = _parse(comparison_to_junit([comparison], regression_gate(suite.thresholds, [comparison], 4),
                                          store.runs.get(worse.id)), schema)
    assert [s.attrib["name"] for s in compared.findall("testsuite")] == [subject]
    assert compared.attrib["failures"] == "1" and worse.id in compared.attrib["name"]


def test_checks_without_a_home_get_a_testsuite_of_their_own(store: Store, schema: xmlschema.XMLSchema) -> None:
    run = run_suite(_suite(_variant("a", 1.0)), db=store)
    report = build_report(store, run.id)
    orphan = GateCheck("max_regression", "x vs y", "inconclusive", "x vs y: no case was counted on both sides")
    root = _parse(report_to_junit(report, Gate([orphan], "fail")), schema)
    assert root.findall("testsuite")[-1].attrib["name"] == "gated: gate"
    skipped = _cases(root)["x vs y: max_regression"].find("skipped")
    assert skipped is not None and "with on_inconclusive: fail an inconclusive check fails CI" in (skipped.text or "")


HOSTILE = "v\x00\x1b[31m<b>&amp;\"'</b>]]>\ud800\ufffe|\n\tend"


def test_hostile_ids_and_messages_are_escaped_and_stripped(store: Store, schema: xmlschema.XMLSchema) -> None:
    variant = _variant("ok", 1.0).model_copy(update={"id": HOSTILE})
    run = run_suite(
        _suite(variant, _variant("dead", 1.0, fail_always=True, error="fatal"), cases=3, min_pass_rate=0.5),
        db=store,
    )
    report = build_report(store, run.id)
    report = dataclasses.replace(report, run=dataclasses.replace(report.run, id=f"run-{HOSTILE}"))
    gate = evaluate_gate(report)
    message = f"variant '{HOSTILE}' " + "x" * (JUNIT_TEXT_LIMIT * 2)
    gate = Gate([*gate.checks, GateCheck("min_pass_rate", HOSTILE, "fail", message)], gate.on_inconclusive)
    document = report_to_junit(report, gate)
    root = _parse(document, schema)  # well-formed and valid despite NUL, ESC, a lone surrogate and U+FFFE
    assert b"\x00" not in document and b"\x1b" not in document and b"<b>" not in document
    suite = root.find("testsuite")
    assert suite is not None
    props = _properties(suite)
    assert props["mendoza.run"] == "run-v??[31m<b>&amp;\"'</b>]]>??|\n\tend"  # NUL, ESC, surrogate, U+FFFE
    stored = report.variants[0].variant_id  # the store keeps a lone surrogate as U+FFFD
    assert props["mendoza.variant"] == xml_text(stored) and props["mendoza.variant"].startswith("v??[31m<b>&amp;")
    cases = _cases(root)
    assert f"{' '.join(xml_text(stored).split())}: samples" in cases  # names on one line
    failure = next(f for f in root.iter("failure") if f.attrib["message"].startswith("variant 'v??"))
    assert failure.text is not None and len(failure.text) == JUNIT_TEXT_LIMIT and failure.text.endswith("…")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", "plain"),
        ("tab\tnew\nline\rcr", "tab\tnew\nline\rcr"),
        ("\x00\x08\x0b\x0c\x1f", "?????"),
        ("\ud83d lone", "? lone"),
        ("😀 é 中", "😀 é 中"),
        ("\ufffe\uffff", "??"),
        ("<&>\"'", "<&>\"'"),
    ],
)
def test_xml_text_keeps_what_xml_can_hold(value: str, expected: str) -> None:
    assert xml_text(value) == expected
    ET.fromstring(ET.tostring(ET.Element("x", {"a": xml_text(value)})))  # round-trips as XML
