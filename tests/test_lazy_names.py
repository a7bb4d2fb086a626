"""Packages that import their names on first read (``mendoza.lazy_names``): every name they export resolves,
to the object of the module their ``if TYPE_CHECKING:`` block names, and nothing else does."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

LAZY_PACKAGES = ["mendoza", "mendoza.api", "mendoza.report", "mendoza.graders"]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_exported_name_resolves_and_an_unknown_one_does_not(name: str) -> None:
    package = importlib.import_module(name)
    for exported in package.__all__:
        assert getattr(package, exported) is not None, exported
        assert exported in dir(package)
    with pytest.raises(AttributeError, match="has no attribute 'not_a_name'"):
        package.not_a_name  # noqa: B018


def test_a_name_comes_from_the_module_its_typed_import_names() -> None:
    from mendoza.report import build_report, rate_words
    from mendoza.report.summary import build_report as from_summary
    from mendoza.report.wording import rate_words as from_wording

    assert build_report is from_summary and rate_words is from_wording


def test_reading_one_name_imports_its_module_only() -> None:
    code = (
        "import sys\nfrom mendoza.report import percent\n"
        "print('mendoza.report.wording' in sys.modules, 'mendoza.report.calibration' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["True", "False"]
