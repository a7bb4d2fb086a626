"""The public surface of mendoza.stats, and its independence from the rest of mendoza."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import mendoza.stats

STATS_DIR = Path(mendoza.stats.__file__).parent


def test_all_is_complete() -> None:
    exported = set(mendoza.stats.__all__)
    public = {name for name in vars(mendoza.stats) if not name.startswith("_")} - {"annotations"}
    modules = {name for name in public if inspect.ismodule(getattr(mendoza.stats, name))}
    assert exported == public - modules
    assert len(mendoza.stats.__all__) == len(exported)


def test_every_public_callable_has_a_docstring() -> None:
    for name in mendoza.stats.__all__:
        value = getattr(mendoza.stats, name)
        if callable(value) and not isinstance(value, type(mendoza.stats.KappaWeights)):
            assert inspect.getdoc(value), name


def test_fixed_signatures() -> None:
    expected = {
        "wilson_interval": ["successes", "n", "confidence"],
        "clopper_pearson_interval": ["successes", "n", "confidence"],
        "pass_at_k": ["n", "c", "k"],
        "pass_hat_k": ["n", "c", "k"],
        "stderr": ["scores"],
        "clustered_stderr": ["scores", "clusters"],
        "mean_interval": ["scores", "clusters", "confidence"],
        "variance_components": ["scores", "clusters"],
        "paired_difference": ["a", "b", "confidence"],
        "sample_size": ["delta", "variance", "alpha", "power"],
        "design_variance": ["between", "within", "repeats"],
        "plan_designs": ["delta", "between", "within", "alpha", "power", "repeats_options", "paired"],
        "interval_halfwidth_design": ["target_halfwidth", "between", "within", "repeats", "confidence"],
        "cohen_kappa": ["a", "b", "weights"],
        "cohen_kappa_interval": ["a", "b", "weights", "confidence", "n_boot", "seed"],
        "confidence_sequence": ["successes", "n", "alpha"],
        "classify_band": ["low", "high", "edges"],
        "band_of": ["p", "edges"],
        "samples_to_decide": ["successes", "n", "edges", "confidence", "n_clusters", "repeats"],
        "benjamini_hochberg": ["p_values", "q"],
        "bh_adjusted": ["p_values"],
        "exact_paired_case_test": ["a_passes", "a_n", "b_passes", "b_n"],
    }
    for name, parameters in expected.items():
        assert list(inspect.signature(getattr(mendoza.stats, name)).parameters) == parameters, name


def test_named_tuple_fields() -> None:
    assert mendoza.stats.Interval._fields == ("estimate", "low", "high")
    assert mendoza.stats.MeanSE._fields == ("mean", "se", "n")
    assert mendoza.stats.ClusteredSE._fields == ("mean", "se", "naive_se", "n", "n_clusters")
    assert mendoza.stats.VarianceComponents._fields == ("between", "within", "mean_repeats", "n_clusters")
    assert mendoza.stats.PairedDifference._fields == ("difference", "se", "low", "high", "p_value", "n")
    assert mendoza.stats.Design._fields == ("repeats", "cases", "samples")
    assert mendoza.stats.BandDecision._fields == ("decided", "band", "between", "low_band", "high_band")


def test_stats_imports_nothing_else_from_mendoza() -> None:
    for path in STATS_DIR.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                if name == "mendoza" or name.startswith("mendoza."):
                    assert name.startswith("mendoza.stats"), f"{path.name} imports {name}"


def test_modules_stay_small() -> None:
    for path in STATS_DIR.glob("*.py"):
        assert len(path.read_text(encoding="utf-8").splitlines()) < 400, path.name
