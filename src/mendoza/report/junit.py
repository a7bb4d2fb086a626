"""A run's gate as JUnit XML, the test report every CI system reads (``mendoza run|show|compare --junit``).

The figures and verdicts come from the report and its gate (``report/gate.py``); nothing is computed here.
The layout follows the Jenkins / Ant JUnit format (``tests/support/junit.xsd`` states it, and the tests
validate against it):

- ``<testsuites>``: one file per command, named after the suite and the run;
- one ``<testsuite>`` per variant, its ``<properties>`` holding the pass rate, its interval, the band and the
  counts; in it a testcase ``VARIANT: samples`` (fails when every sample errored) and one testcase per
  threshold the gate checked on that variant (``VARIANT: min_pass_rate``, ``: band``, ``: max_error_rate``);
- one ``<testsuite>`` per paired comparison (``run --baseline``, ``compare``), its properties the paired
  difference and its interval, with a testcase for the comparison and one for its ``max_regression`` check;
- a check that failed carries ``<failure type=THRESHOLD message=REASON>``; an inconclusive one
  ``<skipped message="inconclusive: REASON">`` (the reason says about how many more samples would decide
  it, and the text whether it fails CI under ``on_inconclusive``); a passed one is an empty testcase.

Run ids, variant and case ids and error messages are text mendoza does not control: ElementTree escapes the
markup characters, and ``xml_text`` replaces what XML 1.0 cannot hold at all (control characters, lone
surrogates) and bounds the length.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from datetime import datetime

from mendoza.core import Run
from mendoza.report.comparison import Comparison
from mendoza.report.gate import Gate, GateCheck, GateOutcome
from mendoza.report.summary import RunReport, VariantResult
from mendoza.report.wording import band_words, percent, rate_words, variant_notes

__all__ = ["JUNIT_TEXT_LIMIT", "comparison_to_junit", "report_to_junit", "xml_text"]

#: At most this many characters of one name, message or property value go into the file.
JUNIT_TEXT_LIMIT = 4000

# Everything XML 1.0 allows is tab, newline, carriage return, U+0020-U+D7FF, U+E000-U+FFFD and the planes
# above; the rest (C0 controls, lone surrogates, U+FFFE/U+FFFF) cannot appear in a document, even escaped.
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SPACE = re.compile(r"\s+")
_ELLIPSIS = "…"
_NO_TIMESTAMP = "1970-01-01T00:00:00"
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def xml_text(value: object, limit: int = JUNIT_TEXT_LIMIT) -> str:
    """``value`` as text an XML 1.0 document can hold: what XML forbids becomes ``?``, and a value over
    ``limit`` characters is cut (an ellipsis marks the cut). Markup characters are left to ElementTree."""
    text = str(value)
    if len(text) > limit:
        text = text[: max(limit - 1, 0)] + _ELLIPSIS
    return _NOT_XML.sub("?", text)


def _name(value: object) -> str:
    """A name attribute: XML-safe, on one line, never blank (the schema wants a non-empty token)."""
    text = _SPACE.sub(" ", xml_text(value)).strip()
    return text or "(unnamed)"


def _figure(value: float | None) -> str:
    """A number for a property: up to six decimals, or empty when there is none."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return f"{round(value, 6):g}" if isinstance(value, float) else str(value)


def _timestamp(run: Run | None) -> str:
    """The run's start as the format wants it: ``YYYY-MM-DDTHH:MM:SS`` (UTC, no zone)."""
    stamp = "" if run is None else run.created_at[:19]
    return stamp if _TIMESTAMP.fullmatch(stamp) else _NO_TIMESTAMP


def _duration(run: Run | None) -> str:
    """The run's wall time in seconds (0 when it has no finish time)."""
    if run is None or not run.finished_at:
        return "0"
    try:
        seconds = (datetime.fromisoformat(run.finished_at) - datetime.fromisoformat(run.created_at)).total_seconds()
    except (TypeError, ValueError):
        return "0"
    return f"{max(seconds, 0.0):.3f}"


class _Builder:
    """The document under construction: testsuites in order, with their totals."""

    def __init__(self, title: str, run: Run | None) -> None:
        self.root = ET.Element("testsuites", {"name": _name(title)})
        self.run = run
        self.classname = _name(f"mendoza.{run.suite_name}" if run is not None else "mendoza")

    def suite(self, name: str, properties: Iterable[tuple[str, object]], output: Sequence[str]) -> ET.Element:
        """A new testsuite with its properties; ``output`` becomes its ``system-out``."""
        element = ET.SubElement(
            self.root,
            "testsuite",
            {
                "name": _name(name),
                "package": self.classname,
                "id": str(len(self.root)),
                "tests": "0",
                "failures": "0",
                "errors": "0",
                "skipped": "0",
                "time": "0",
                "timestamp": _timestamp(self.run),
                "hostname": "localhost",
            },
        )
        props = ET.SubElement(element, "properties")
        for key, value in properties:
            text = _figure(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
            ET.SubElement(props, "property", {"name": _name(key), "value": xml_text("" if text is None else text)})
        element.append(self._output(output))
        return element

    @staticmethod
    def _output(lines: Sequence[str]) -> ET.Element:
        out = ET.Element("system-out")
        out.text = xml_text("\n".join(lines), JUNIT_TEXT_LIMIT * 4) if lines else None
        return out

    def case(self, suite: ET.Element, name: str, check: GateCheck | None, gate: Gate) -> None:
        """A testcase in ``suite``, before its ``system-out``: passed, or the check's failure or skip."""
        case = ET.Element("testcase", {"name": _name(name), "classname": self.classname, "time": "0"})
        if check is not None and check.outcome == "fail":
            failure = ET.SubElement(
                case, "failure", {"type": _name(check.threshold), "message": _name(check.message)}
            )
            failure.text = xml_text(check.message)
        elif check is not None and check.outcome == "inconclusive":
            skipped = ET.SubElement(case, "skipped", {"message": _name(f"inconclusive: {check.message}")})
            details = [check.message]
            if check.samples_to_decide:
                details.append(f"samples needed: about {check.samples_to_decide:,} more")
            effect = "fails CI" if gate.on_inconclusive == "fail" else "does not fail CI"
            details.append(f"with on_inconclusive: {gate.on_inconclusive} an inconclusive check {effect}")
            skipped.text = xml_text("\n".join(details))
        position = next(i for i, child in enumerate(suite) if child.tag == "system-out")
        suite.insert(position, case)
        self._count(suite, "tests")
        outcome: GateOutcome | None = None if check is None else check.outcome
        if outcome == "fail":
            self._count(suite, "failures")
        elif outcome == "inconclusive":
            self._count(suite, "skipped")

    @staticmethod
    def _count(element: ET.Element, attribute: str) -> None:
        element.set(attribute, str(int(element.get(attribute, "0")) + 1))

    def finish(self) -> bytes:
        """The document: totals on ``<testsuites>``, a ``system-err`` closing each testsuite, indented."""
        for suite in self.root:
            ET.SubElement(suite, "system-err")
        for attribute in ("tests", "failures", "errors"):
            self.root.set(attribute, str(sum(int(suite.get(attribute, "0")) for suite in self.root)))
        self.root.set("time", _duration(self.run))
        ET.indent(self.root)
        document: bytes = ET.tostring(self.root, encoding="utf-8", xml_declaration=True)
        return document + b"\n"


def _variant_properties(report: RunReport, variant: VariantResult, gate: Gate) -> list[tuple[str, object]]:
    run = report.run
    interval = variant.interval
    outcomes = [check.outcome for check in gate.checks if _is_variant_check(check, variant)]
    variant_gate = (
        "fail" if "fail" in outcomes else "inconclusive" if "inconclusive" in outcomes else "pass" if outcomes else ""
    )
    k = len(variant.pass_at_k)
    properties: list[tuple[str, object]] = [
        ("mendoza.run", run.id),
        ("mendoza.suite", run.suite_name),
        ("mendoza.suite_hash", run.suite_hash),
        ("mendoza.variant", variant.variant_id),
        ("mendoza.model", variant.model),
        ("mendoza.pass_rate", variant.pass_rate),
        ("mendoza.pass_rate.low", interval.low),
        ("mendoza.pass_rate.high", interval.high),
        ("mendoza.pass_rate.text", rate_words(variant.rate)),
        ("mendoza.confidence", report.confidence),
        ("mendoza.interval_method", variant.interval_method),
        ("mendoza.band", band_words(variant.rate)),
        ("mendoza.band.decided", "true" if variant.band.decided else "false"),
        ("mendoza.band.samples_to_decide", variant.samples_to_decide),
        ("mendoza.samples", variant.samples),
        ("mendoza.counted", variant.graded),
        ("mendoza.passed", variant.passed),
        ("mendoza.failed", variant.failed),
        ("mendoza.errored", variant.errors),
        ("mendoza.undecided", variant.undecided),
        ("mendoza.error_rate", variant.error_share),
        ("mendoza.verdicts", report.verdicts),
        ("mendoza.repeats", run.repeats),
    ]
    if k:
        properties += [
            (f"mendoza.pass_at_{k}", variant.pass_at_k[-1]),
            (f"mendoza.pass_hat_{k}", variant.pass_hat_k[-1]),
        ]
    properties += [
        ("mendoza.gate", variant_gate),
        ("mendoza.gate.on_inconclusive", gate.on_inconclusive),
    ]
    return properties


def _is_variant_check(check: GateCheck, variant: VariantResult) -> bool:
    return check.threshold != "max_regression" and check.subject == variant.variant_id


def _comparison_subject(comparison: Comparison) -> str:
    """The name the gate's ``max_regression`` check gives this comparison (``report/gate.py``)."""
    return f"{comparison.b_label} vs {comparison.a_label}"


def _comparison_properties(comparison: Comparison) -> list[tuple[str, object]]:
    paired = comparison.paired
    return [
        ("mendoza.a", comparison.a_label),
        ("mendoza.b", comparison.b_label),
        ("mendoza.a_rate", comparison.a_rate),
        ("mendoza.b_rate", comparison.b_rate),
        ("mendoza.difference", paired.difference),
        ("mendoza.difference.low", paired.low),
        ("mendoza.difference.high", paired.high),
        (
            "mendoza.difference.text",
            f"{paired.difference:+.1%} [{paired.low:+.1%}, {paired.high:+.1%}]" if paired.n else "-",
        ),
        ("mendoza.p_value", paired.p_value),
        ("mendoza.paired_cases", paired.n),
        ("mendoza.confidence", comparison.confidence),
        ("mendoza.significant", "true" if comparison.significant else "false"),
        ("mendoza.cases_better", len(comparison.changed("better"))),
        ("mendoza.cases_worse", len(comparison.changed("worse"))),
    ]


def _add_comparisons(builder: _Builder, comparisons: Sequence[Comparison], gate: Gate, placed: set[int]) -> None:
    for comparison in comparisons:
        subject = _comparison_subject(comparison)
        output = [
            comparison.verdict,
            f"{comparison.b_label}: {percent(comparison.b_rate)}; {comparison.a_label}: {percent(comparison.a_rate)}",
        ]
        suite = builder.suite(subject, _comparison_properties(comparison), output)
        builder.case(suite, f"{subject}: paired comparison", None, gate)
        for index, check in enumerate(gate.checks):
            if index not in placed and check.threshold == "max_regression" and check.subject == subject:
                placed.add(index)
                builder.case(suite, f"{subject}: {check.threshold}", check, gate)


def _add_unplaced(builder: _Builder, gate: Gate, placed: set[int], title: str) -> None:
    """Checks no testsuite above took (a comparison's check without the comparison): a testsuite of their own."""
    rest = [(index, check) for index, check in enumerate(gate.checks) if index not in placed]
    if not rest:
        return
    suite = builder.suite(f"{title}: gate", [("mendoza.gate", gate.outcome)], [])
    for index, check in rest:
        placed.add(index)
        builder.case(suite, f"{check.subject}: {check.threshold}", check, gate)


def report_to_junit(report: RunReport, gate: Gate, comparisons: Sequence[Comparison] = ()) -> bytes:
    """The report's gate as a JUnit XML document (UTF-8 bytes): a testsuite per variant with its figures as
    properties, a testcase per variant and per threshold check, and a testsuite per comparison
    (``comparisons``: the run against a baseline, whose ``max_regression`` checks ``gate`` holds)."""
    run = report.run
    builder = _Builder(f"mendoza {run.suite_name}: run {run.id}", run)
    placed: set[int] = set()
    for variant in report.variants:
        output = [variant.recommendation, *variant_notes(report, variant)]
        suite = builder.suite(
            f"{run.suite_name}: {variant.variant_id}", _variant_properties(report, variant, gate), output
        )
        errors = [
            index
            for index, check in enumerate(gate.checks)
            if check.threshold == "errors" and _is_variant_check(check, variant)
        ]
        placed.update(errors)
        builder.case(suite, f"{variant.variant_id}: samples", gate.checks[errors[0]] if errors else None, gate)
        for index, check in enumerate(gate.checks):
            if index not in placed and _is_variant_check(check, variant):
                placed.add(index)
                builder.case(suite, f"{variant.variant_id}: {check.threshold}", check, gate)
    _add_comparisons(builder, comparisons, gate, placed)
    _add_unplaced(builder, gate, placed, run.suite_name)
    return builder.finish()


def comparison_to_junit(comparisons: Sequence[Comparison], gate: Gate, run: Run | None = None) -> bytes:
    """Paired comparisons (``mendoza compare``) and their ``max_regression`` gate as a JUnit XML document:
    a testsuite per comparison, the paired difference and its interval as properties. ``run`` (the B side)
    names the document and dates it."""
    title = "mendoza compare" if run is None else f"mendoza compare {run.suite_name}: run {run.id}"
    builder = _Builder(title, run)
    placed: set[int] = set()
    _add_comparisons(builder, comparisons, gate, placed)
    _add_unplaced(builder, gate, placed, "compare" if run is None else run.suite_name)
    return builder.finish()
