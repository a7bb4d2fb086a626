"""Suite files and datasets -> validated core objects."""

from mendoza.config.datasets import load_cases_file
from mendoza.config.suite_file import DEFAULT_MODEL, load_suite

__all__ = ["DEFAULT_MODEL", "load_cases_file", "load_suite"]
