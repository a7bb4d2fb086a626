"""mendoza's pytest plugin (entry point ``pytest11``): evals as tests.

A test asks for the ``mendoza_eval`` fixture and says what the feature must reach::

    def test_router_is_supervised(mendoza_eval):
        mendoza_eval(route_ticket, cases=TICKETS, graders=[{"equals": "{{ expected }}"}], repeats=5,
                     band="supervised")

The fixture runs the suite into the session's mendoza database (``--mendoza-db``, default
``.mendoza/pytest.db`` under the rootdir, so ``mendoza view --db ...`` shows every run) and applies the gate:

- **pass**: the test goes on (the ``RunResult`` is returned for more assertions);
- **fail**: the test fails with the gate's reasons (the rate, its interval, the threshold);
- **inconclusive** (the interval straddles the threshold): the test is **skipped** with the reason and about how
  many more samples would decide it: not enough data is not a regression, and a skip stays visible in the
  summary. ``--mendoza-inconclusive fail`` (or the ini option ``mendoza_inconclusive = fail``) fails instead, for
  CI that must decide; ``pass`` lets it through.

The reliability of every eval of the session is printed in pytest's terminal summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:  # mendoza's API (the runner, the report, scipy) is imported when an eval runs, not when
    # pytest starts: every pytest session of a project with mendoza installed loads this plugin.
    from mendoza.api import RunResult
    from mendoza.core import BandName, Suite

__all__ = ["MendozaEval"]

Inconclusive = Literal["skip", "fail", "pass"]
_RESULTS = pytest.StashKey["list[tuple[str, RunResult]]"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mendoza", "mendoza evals")
    group.addoption("--mendoza-db", default=None, help="the SQLite file of the evals' runs (default: the "
                    "ini option mendoza_db, else .mendoza/pytest.db under the rootdir)")
    group.addoption("--mendoza-inconclusive", choices=("skip", "fail", "pass"), default=None,
                    help="what an inconclusive eval does (default: the ini option mendoza_inconclusive, else skip)")
    parser.addini("mendoza_db", "the SQLite file of the evals' runs", default=".mendoza/pytest.db")
    parser.addini("mendoza_inconclusive", "skip, fail or pass an inconclusive eval", default="skip")


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_RESULTS] = []


class MendozaEval:
    """The ``mendoza_eval`` fixture's value: call it to run an eval in the test (see the module)."""

    def __init__(self, db: Path, inconclusive: Inconclusive, test: str, results: list[tuple[str, RunResult]]):
        self.db = db
        self.inconclusive = inconclusive
        self._test = test
        self._results = results

    def __call__(
        self,
        app: Callable[..., Any] | Suite | str | Path,
        *,
        cases: Sequence[Mapping[str, Any]] = (),
        graders: Sequence[Any] = (),
        repeats: int = 5,
        band: BandName | None = None,
        min_pass_rate: float | None = None,
        max_error_rate: float | None = None,
        name: str | None = None,
        **fields: Any,
    ) -> RunResult:
        """Run ``app`` (a callable, a ``Suite`` or a suite file) on ``cases`` ``repeats`` times, graded by
        ``graders`` (written as in a suite file), and hold it to ``band`` / ``min_pass_rate`` /
        ``max_error_rate`` (or the suite's own thresholds). Other keywords are suite fields (``seed``,
        ``errors``, ``variants``, ...). Returns the ``RunResult``."""
        from mendoza.api import run, suite
        from mendoza.core import Suite

        limits = {key: value for key, value in (("band", band), ("min_pass_rate", min_pass_rate),
                                                ("max_error_rate", max_error_rate)) if value is not None}
        if isinstance(app, Suite | str | Path):
            if cases or graders or fields:
                raise pytest.UsageError("give a suite, or an app with cases and graders, not both")
            result = run(app, db=self.db, repeats=repeats, thresholds=limits or None, on_inconclusive="pass")
        else:
            built = suite(name or self._test, cases=cases, app=app, graders=graders, repeats=repeats,
                          thresholds=limits, **fields)
            result = run(built, db=self.db, on_inconclusive="pass")
        self._results.append((self._test, result))
        outcome = result.gate.outcome
        if outcome == "fail":
            pytest.fail("mendoza eval failed:\n" + "\n".join(result.gate.lines("fail")), pytrace=False)
        if outcome == "inconclusive" and self.inconclusive != "pass":
            reason = "mendoza eval inconclusive: " + "; ".join(result.gate.lines("inconclusive"))
            if self.inconclusive == "fail":
                pytest.fail(reason, pytrace=False)
            pytest.skip(reason)
        return result


@pytest.fixture
def mendoza_eval(request: pytest.FixtureRequest) -> MendozaEval:
    """Run an eval inside a test and apply its gate (see ``mendoza.pytest_plugin``)."""
    config = request.config
    db = config.getoption("--mendoza-db") or config.getini("mendoza_db")
    path = Path(db)
    if not path.is_absolute():
        path = Path(config.rootpath) / path
    choice = config.getoption("--mendoza-inconclusive") or config.getini("mendoza_inconclusive")
    if choice not in ("skip", "fail", "pass"):
        raise pytest.UsageError(f"mendoza_inconclusive must be skip, fail or pass, not {choice!r}")
    return MendozaEval(path, choice, request.node.nodeid, config.stash[_RESULTS])


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(_RESULTS, [])
    if not results:
        return
    from mendoza.report import band_words, percent

    terminalreporter.section("mendoza evals")
    for test, result in results:
        terminalreporter.write_line(f"{test}: gate {result.gate.outcome}, run {result.run.id}")
        for variant in result.report.variants:
            interval = variant.interval
            terminalreporter.write_line(
                f"  {variant.variant_id}: {percent(variant.pass_rate)} [{percent(interval.low)}, "
                f"{percent(interval.high)}], {band_words(variant.rate)} ({variant.graded} samples counted)"
            )
    terminalreporter.write_line(f"see them: mendoza view --db {results[-1][1].db}")
